"""Train data pipeline throughput (samples/s of the MMPose train pipeline alone, one
process) with and without the decoded-image cache, over several epochs of the same data.

    .venv/bin/python benchmarks/data_pipeline.py [--epochs 3 --limit 400]
"""
from common import Timer, base_parser, data_root, emit


def pipeline_rate(cfg, epochs, limit):
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    from catpose_lib.runs.image_cache import clear_cache

    init_default_scope("mmpose")
    clear_cache()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    n = min(limit, len(dataset))
    rates = []
    for _ in range(epochs):
        with Timer() as t:
            for i in range(n):
                dataset[i]
        rates.append(n / t.seconds)
    return rates


def main():
    p = base_parser(__doc__)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--limit", type=int, default=400, help="samples per epoch")
    args = p.parse_args()

    import copy

    from catpose_lib.recipe.config import build_config
    from catpose_lib.runs.image_cache import use_image_cache

    root = data_root(args.data)
    cfg = build_config(root)
    cached = copy.deepcopy(cfg)
    assert use_image_cache(cached, root, True)
    plain = pipeline_rate(cfg, args.epochs, args.limit)
    cache = pipeline_rate(cached, args.epochs, args.limit)
    # epoch 1 fills the cache; later epochs are what a training run sees
    steady_plain, steady_cache = max(plain[1:] or plain), max(cache[1:] or cache)
    numbers = dict(device="cpu", data=str(root), epochs=args.epochs, samples=args.limit,
                   no_cache=plain, cache=cache, ratio=steady_cache / steady_plain)
    emit(numbers, args.json)
    print(f"train pipeline samples/s per epoch ({args.limit} samples, {root.name})")
    print(f"  without cache  {' '.join(f'{r:7.1f}' for r in plain)}")
    print(f"  with cache     {' '.join(f'{r:7.1f}' for r in cache)}")
    print(f"  ratio (epochs 2+, cache / no cache): {numbers['ratio']:.2f}")


if __name__ == "__main__":
    main()
