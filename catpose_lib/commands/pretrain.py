"""``pretrain``: cross-species pose pretraining on the other animals (the start for cat runs)."""
from catpose_lib.console import say
from catpose_lib.commands.options import add_shared_knobs, add_speed, hide_gpu_for_cpu, speed_options
from catpose_lib.recipe.starts import PRETRAIN_BACKBONES
from catpose_lib.runs.results import FINISHED, RUNNING_ELSEWHERE

HELP = ("pretrain pose models on other animals (Animal-Pose dogs, sheep, horses, cows) and export the "
        "start checkpoints that cat runs take with --start")


def add_arguments(p):
    p.add_argument("--data", required=True,
                   help="the other animals: a raw Animal-Pose folder (keypoints.json + images/, e.g. "
                        "../shared/datasets/animalpose_others; imported once into the cache as one "
                        "category) or a course-layout root")
    p.add_argument("--results", required=True, help="results folder (the run lands in RESULTS/pretrain/)")
    p.add_argument("--backbone", nargs="+", default=["resnet50", "hrnet_w32"],
                   choices=PRETRAIN_BACKBONES, help="backbones to pretrain (default: resnet50 hrnet_w32; "
                   "the EfficientNet-Lite ones start from ImageNet)")
    p.add_argument("--zero-shot", default=None, metavar="CATS",
                   help="cat data (raw Animal-Pose folder or course root) whose val split measures "
                        "the zero-shot AP")
    p.add_argument("--out", default=None, help="folder of the start checkpoints (default: ~/.cache/catpose/pretrained)")
    p.add_argument("--budget", default="full", help="full | smoke | fraction of the 100 epochs")
    p.add_argument("--seed", type=int, default=0)
    add_shared_knobs(p, "the pretraining, on top of configs/pretrain_animals.py")
    add_speed(p)
    p.add_argument("--quiet", action="store_true")


def run(args):
    hide_gpu_for_cpu(args)
    from catpose_lib.runs.pretrain import pretrain_backbones  # lazy: torch/mmengine (CLI speed)

    done = pretrain_backbones(args.data, args.results, backbones=args.backbone, zero_shot=args.zero_shot,
                              budget=args.budget, device=args.device, shared_knobs=args.shared_knobs,
                              out_dir=args.out, seed=args.seed, verbose=not args.quiet, **speed_options(args))
    # a backbone another worker is pretraining is not a failure: that worker exports its checkpoint
    failed = [r for r in done["results"] if r["status"] not in (FINISHED, RUNNING_ELSEWHERE)]
    for r in failed:
        say(f"[pretrain {r['parameter']}] {r['status']}")
    return 1 if failed else 0
