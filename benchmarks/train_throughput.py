"""Train throughput: plain mmengine Runner vs catpose, same config, data, batch size and
iterations, in one invocation.  Prints samples/s and the ratios catpose / plain.

    .venv/bin/python benchmarks/train_throughput.py [--iters 12 --warmup 3 --batch-size 32]

Targets: identical settings >= 1.0 (no wrapper tax); catpose's defaults >= 2.0 on CPUs with
AVX512-BF16/AMX (bf16 autocast + channels-last + image cache, see catpose_lib/runs/speed_defaults.py).
"""
import copy
import time

from common import Timer, base_parser, data_root, device_of, emit


def train_only(cfg, iters, batch_size, num_workers):
    """The same resolved config, reduced to `iters` training iterations and no validation."""
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=iters, val_interval=10**9)
    cfg.param_scheduler = []  # constant lr: identical for both sides, nothing by epoch
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=10**9, save_last=False)
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=10**6)
    cfg.train_dataloader.batch_size = batch_size
    cfg.train_dataloader.num_workers = num_workers
    cfg.train_dataloader.persistent_workers = num_workers > 0
    cfg.log_level = "ERROR"
    return cfg


def measure(cfg, warmup, label):
    """samples/s over the iterations after `warmup` (model build and first batches excluded)."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    stamps = []

    class Stamp(Hook):
        priority = "LOWEST"

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            stamps.append((time.perf_counter(), len(data_batch["data_samples"])))

    cfg.experiment_name = f"bench-{label}-{time.time_ns()}"
    cfg.visualizer.name = cfg.experiment_name
    runner = Runner.from_cfg(cfg)
    runner.register_hook(Stamp())
    runner.train()
    timed = stamps[warmup:]
    seconds = timed[-1][0] - stamps[warmup - 1][0]
    return sum(n for _, n in timed) / seconds


def main():
    p = base_parser(__doc__)
    p.add_argument("--iters", type=int, default=12)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1, help="alternate plain/catpose this many times")
    args = p.parse_args()

    import tempfile

    from mmengine.config import Config

    from catpose_lib.recipe.config import build_config
    from catpose_lib.runs.image_cache import use_image_cache
    from catpose_lib.runs.precision import apply_speed_options
    from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION

    root = data_root(args.data)
    device = device_of(args.device)
    total = args.iters + args.warmup
    work = tempfile.mkdtemp(prefix="catpose-bench-")
    base = train_only(build_config(root, work_dir=work, device=device), total, args.batch_size, args.workers)

    # the plain reference: a bare mmengine Runner from the same config text (no catpose code at run time)
    plain_text = base.pretty_text
    results = {"plain": [], "catpose_identical": [], "catpose_fast": []}
    for _ in range(args.repeats):
        plain = Config.fromstring(plain_text, ".py")
        results["plain"].append(measure(plain, args.warmup, "plain"))

        same = copy.deepcopy(base)  # catpose's run path: our hooks, same settings
        same.custom_hooks = list(same.custom_hooks) + [dict(type="DivergenceGuardHook")]
        results["catpose_identical"].append(measure(same, args.warmup, "catpose"))

        fast = copy.deepcopy(same)
        applied = apply_speed_options(fast, device, DEFAULT_PRECISION, DEFAULT_CHANNELS_LAST)
        applied["image_cache"] = use_image_cache(fast, root, "auto")
        results["catpose_fast"].append(measure(fast, args.warmup, "fast"))

    best = {k: max(v) for k, v in results.items()}
    numbers = dict(
        device=device, batch_size=args.batch_size, iters=args.iters, warmup=args.warmup, data=str(root),
        samples_per_s=best, fast_settings=applied,
        ratio_identical=best["catpose_identical"] / best["plain"],
        ratio_fast=best["catpose_fast"] / best["plain"])
    emit(numbers, args.json)
    print(f"train throughput, ResNet-50 128x128, batch {args.batch_size}, {args.iters} timed iterations, {device}")
    print(f"  plain mmengine Runner      {best['plain']:8.2f} samples/s")
    print(f"  catpose, identical         {best['catpose_identical']:8.2f} samples/s   ratio {numbers['ratio_identical']:.2f}")
    print(f"  catpose defaults {applied}  {best['catpose_fast']:8.2f} samples/s   ratio {numbers['ratio_fast']:.2f}")


if __name__ == "__main__":
    main()
