"""``run BLOCK``: train a block of the study."""
from catpose_lib.commands.options import (
    add_scheme,
    add_settings,
    add_shared_knobs,
    add_speed,
    hide_gpu_for_cpu,
    speed_options,
)
from catpose_lib.recipe.params import BASES, check_run_parameters
from catpose_lib.runs.results import study_table
from catpose_lib.console import say

HELP = "run a block of the study (training + validation), skipping finished runs"


def add_arguments(p):
    p.add_argument("block", help="block: 01..06, augmentation, epochs, lr_batch, resolution, "
                                 "backbone, optimizer, or baseline")
    p.add_argument("--data", required=True, help="dataset root (course layout)")
    p.add_argument("--results", required=True, help="results folder")
    p.add_argument("--experiments", default="", help="experiment numbers, e.g. 9,10 or \"9 10\" (default: all)")
    p.add_argument("--base", default="best", choices=BASES,
                   help="start from the baseline or from the previous block's best run")
    add_settings(p)
    add_scheme(p)
    add_shared_knobs(p)
    add_speed(p)
    p.add_argument("--launcher", default="none", choices=("none", "pytorch"),
                   help="'pytorch' under torchrun for several processes/GPUs")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="the Optuna database that the block's workers share (default: sqlite in the results "
                        "folder, for the workers of one machine; e.g. postgresql://user:password@host/db for many)")
    p.add_argument("--no-wait", dest="wait", action="store_false",
                   help="end when no run is left to take, instead of waiting for the runs other workers train "
                        "(and then confirming the winner's seeds): e.g. the tasks of a job array")
    p.add_argument("--count-tasks", action="store_true",
                   help="print the number of runs (experiments x seeds) and exit: the most workers that can "
                        "train at once, e.g. the size of a job array")
    p.add_argument("--quiet", action="store_true")


def run(args):
    hide_gpu_for_cpu(args)
    # lazy: these import torch and mmengine, only when the command runs (CLI speed)
    from mmengine.dist import is_main_process

    from catpose_lib.workers.blocks import (  # lazy: torch/mmengine (CLI speed)
        block_jobs,
        run_baseline,
        run_block,
    )

    p = check_run_parameters(block=args.block, experiments=args.experiments, budget=args.budget, seeds=args.seeds,
                             device=args.device, precision=args.precision, base=args.base, data_root=args.data,
                             shared_knobs=args.shared_knobs, protocol=args.protocol, start=args.start)
    s = p["settings"]
    baseline = p["block"] == "baseline"
    if args.count_tasks:
        say(len(block_jobs(p["block"], p["experiments"], s.all_seeds if baseline else s.seeds)))
        return 0
    kwargs = dict(device=args.device, scheme=args.scheme, verbose=not args.quiet, launcher=args.launcher,
                  wait=args.wait, storage=args.storage, shared_knobs=p["shared_knobs"],
                  **speed_options(args), **s.run_options())
    if baseline:  # the baseline also gets the confirm seeds
        results = run_baseline(args.data, args.results, seeds=list(s.all_seeds), **kwargs)
    else:
        results = run_block(p["block"], args.data, args.results, experiments=p["experiments"], seeds=list(s.seeds),
                            base=args.base, confirm_seeds=s.confirm_seeds, **kwargs)
    if is_main_process():
        say(study_table(results).to_string(index=False))
    return 0 if all(not r["status"].startswith("failed") for r in results) else 1
