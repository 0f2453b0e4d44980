"""``study``: the whole real-cat study in one resumable command (``make study``)."""
from catpose_lib.commands.options import hide_gpu_for_cpu
from catpose_lib.recipe.params import DEVICES
from catpose_lib.recipe.protocols import PROTOCOLS

HELP = ("the whole study, resumable: data import, the missing starts, notebooks 00-07; prints the "
        "expected time on this machine first")


def add_arguments(p):
    p.add_argument("--data", required=True, help="the cats: a raw Animal-Pose folder or a course-layout root")
    p.add_argument("--others", default=None, help="the other animals (raw Animal-Pose folder) for the starts "
                                                  "that are missing")
    p.add_argument("--test", default=None, metavar="TEST_ROOT",
                   help="a blind test set (annotations/test_info.json + images/): the final model predicts it")
    p.add_argument("--results", default="results/real_cats")
    p.add_argument("--figures", default="figures/real_cats")
    p.add_argument("--protocol", default="cpu", choices=tuple(PROTOCOLS))
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--lanes", type=int, default=2,
                   help="processes of one thread each (default %(default)s, for 2 cores; 1 on a GPU)")
    p.add_argument("--estimate", action="store_true", help="measure and print the expected time, then stop")


def run(args):
    hide_gpu_for_cpu(args)
    from catpose_lib.workers.study import run_study  # lazy: torch/mmengine (CLI speed)

    run_study(args.data, args.others, results=args.results, figures=args.figures, protocol=args.protocol,
              device=args.device, lanes=args.lanes, test_root=args.test, estimate_only=args.estimate)
    return 0
