"""``run BLOCK``: train a block of the study."""
import argparse
import os

from mmengine.config import DictAction

from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.console import say

HELP = "run a block of the study (training + validation), skipping finished runs"


def add_arguments(p):
    p.add_argument("block", help="block: 01..06, augmentation, epochs, lr_batch, resolution, "
                                 "backbone, optimizer, or baseline")
    p.add_argument("--data", required=True, help="dataset root (course layout)")
    p.add_argument("--results", required=True, help="results folder")
    p.add_argument("--experiments", default="", help="experiment numbers, e.g. 9,10 or \"9 10\" (default: all)")
    p.add_argument("--budget", default="full", help="full | smoke | fraction of the epochs (e.g. 0.1)")
    p.add_argument("--seeds", default="0", help="seeds, e.g. 0,1,2")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--base", default="best", choices=("baseline", "best"),
                   help="start from the baseline or from the previous block's best run")
    p.add_argument("--scheme", default=None, choices=("cats17", "animalpose20"),
                   help="keypoint scheme (default: the dataset's)")
    p.add_argument("--set", nargs="+", action=DictAction, default={}, metavar="KNOB=VALUE",
                   help="protocol knob applied to every run (e.g. resnet_depth=18; knobs: README)")
    p.add_argument("--workers", type=int, default=None, help="dataloader workers")
    p.add_argument("--precision", default=DEFAULT_PRECISION,
                   help="mixed precision (auto = bf16 where the CPU/GPU supports it, else fp32/fp16; "
                        "default %(default)s)")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=DEFAULT_CHANNELS_LAST,
                   help="channels-last memory format (default: %(default)s)")
    p.add_argument("--image-cache", default="auto", choices=("auto", "on", "off"),
                   help="decoded-image cache (auto = when the dataset fits the memory budget)")
    p.add_argument("--launcher", default="none", choices=("none", "pytorch"),
                   help="'pytorch' under torchrun for several processes/GPUs")
    p.add_argument("--init", default=None, metavar="PATH",
                   help="start checkpoint of every run (e.g. `pretrain`'s); checked against the model "
                        "before training, recorded by sha256")
    p.add_argument("--protocol", default=None,
                   help="a named protocol (README): sets the budget, epoch floor, start checkpoint of each "
                        "backbone and seeds of every run, e.g. 'cpu' for 2 CPU cores")
    p.add_argument("--task", default=None, metavar="I|slurm",
                   help="run only job I of the block (experiments x seeds, experiment-major); 'slurm' = "
                        "$SLURM_ARRAY_TASK_ID.  Workers on one results folder never train a run twice.")
    p.add_argument("--no-wait", dest="wait", action="store_false",
                   help="skip the runs other workers hold instead of waiting for them (the default waits, "
                        "so the block's table is complete; a --task never waits)")
    p.add_argument("--count-tasks", action="store_true",
                   help="print the number of jobs (experiments x seeds) and exit: the size of a job array")
    p.add_argument("--quiet", action="store_true")


def run(args):
    if args.device == "cpu":
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    from catpose_lib.recipe.params import check_run_parameters
    from catpose_lib.runs.results import study_table
    from catpose_lib.workers.blocks import run_baseline, run_block

    p = check_run_parameters(block=args.block, experiments=args.experiments, budget=args.budget, seeds=args.seeds,
                             device=args.device, precision=args.precision, base=args.base,
                             data_root=args.data, overrides=args.set, protocol=args.protocol, init=args.init)
    proto = p.get("protocol")
    seeds, confirm = (list(proto.seeds), list(proto.confirm_seeds)) if proto else (p["seeds"], [])
    baseline_seeds = list(proto.all_seeds) if proto else seeds  # the baseline also gets the confirm seeds
    if args.count_tasks:
        from catpose_lib.workers.blocks import block_jobs

        say(len(block_jobs(p["block"], p["experiments"],
                           baseline_seeds if p["block"] == "baseline" else seeds)))
        return 0
    cache = {"auto": "auto", "on": True, "off": False}[args.image_cache]
    kwargs = dict(budget=p["budget"], device=args.device, scheme=args.scheme,
                  num_workers=args.workers, verbose=not args.quiet, precision=args.precision,
                  channels_last=args.channels_last, image_cache=cache, launcher=args.launcher,
                  init=p.get("init"), task=args.task, protocol=proto.name if proto else None,
                  wait=False if not args.wait else None)
    if p["block"] == "baseline":
        results = run_baseline(args.data, args.results, seeds=baseline_seeds,
                               common_overrides=p["overrides"], **kwargs)
    else:
        results = run_block(p["block"], args.data, args.results, experiments=p["experiments"], seeds=seeds,
                            base=args.base, overrides=p["overrides"], confirm_seeds=confirm, **kwargs)
    from mmengine.dist import is_main_process

    if is_main_process():
        say(study_table(results).to_string(index=False))
    return 0 if all(not r["status"].startswith("failed") for r in results) else 1
