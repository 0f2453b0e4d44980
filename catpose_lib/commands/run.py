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
        print(len(block_jobs(p["block"], p["experiments"], s.all_seeds if baseline else s.seeds)))
        return 0
    kwargs = dict(device=args.device, scheme=args.scheme, verbose=not args.quiet, launcher=args.launcher,
                  task=args.task, wait=False if not args.wait else None, shared_knobs=p["shared_knobs"],
                  **speed_options(args), **s.run_options())
    if baseline:  # the baseline also gets the confirm seeds
        results = run_baseline(args.data, args.results, seeds=list(s.all_seeds), **kwargs)
    else:
        results = run_block(p["block"], args.data, args.results, experiments=p["experiments"], seeds=list(s.seeds),
                            base=args.base, confirm_seeds=s.confirm_seeds, **kwargs)
    if is_main_process():
        print(study_table(results).to_string(index=False))
    return 0 if all(not r["status"].startswith("failed") for r in results) else 1
