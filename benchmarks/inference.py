"""Top-down inference speed on given boxes (instances/s), with and without flip test.

    .venv/bin/python benchmarks/inference.py [--checkpoint RUN_RESULT.json]

Without a run, a randomly initialised baseline model is timed (speed does not depend on
the weights).
"""
from common import Timer, base_parser, data_root, device_of, emit


def main():
    p = base_parser(__doc__)
    p.add_argument("--run", default=None, help="a run's result JSON (default: untrained baseline)")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()

    from mmpose.apis import init_model

    from catpose_lib.recipe.config import build_config
    from catpose_lib.runs.predict import build_model, load_run, predict_boxes

    root = data_root(args.data)
    device = device_of(args.device)
    model = build_model(load_run(args.run), device) if args.run else init_model(build_config(root), None, device=device)
    ann = root / "annotations" / "val.json"
    speeds = {}
    for flip in (True, False):
        predict_boxes(model, ann, flip_test=flip)  # warm-up
        best = 0.0
        for _ in range(args.repeats):
            with Timer() as t:
                n = len(predict_boxes(model, ann, flip_test=flip))
            best = max(best, n / t.seconds)
        speeds["flip" if flip else "no_flip"] = best
    numbers = dict(device=device, data=str(root), instances_per_s=speeds,
                   flip_cost=speeds["no_flip"] / speeds["flip"])
    emit(numbers, args.json)
    print(f"top-down inference on {ann} ({device}), one image at a time with its boxes")
    print(f"  flip test     {speeds['flip']:7.1f} instances/s")
    print(f"  no flip test  {speeds['no_flip']:7.1f} instances/s   (x{numbers['flip_cost']:.2f})")


if __name__ == "__main__":
    main()
