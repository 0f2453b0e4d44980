"""``synth ROOT``: draw the synthetic cats dataset (the package's default data) into ROOT."""
import argparse

from catpose_lib.console import say

HELP = "Draw a synthetic cats dataset (course layout, COCO keypoints) into a new folder."


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _size(text):
    value = int(text)
    if value < 64:
        raise argparse.ArgumentTypeError(f"must be >= 64 pixels, got {value}")
    return value


def add_arguments(parser):
    parser.add_argument("root", help="output folder; must not exist or be empty")
    parser.add_argument("--train", type=_count, default=1000, help="train images (default 1000)")
    parser.add_argument("--val", type=_count, default=128, help="val images (default 128)")
    parser.add_argument("--test", type=_count, default=200,
                        help="test images, boxes only (default 200)")
    parser.add_argument("--size", type=_size, default=256,
                        help="image width and height in pixels (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--difficulty", choices=("easy", "medium", "hard"), default="hard",
                        help="background clutter, occlusion and fur texture: easy (smooth background, "
                             "one whole cat, solid fur), medium, hard (default; the original images)")


def run(args) -> int:
    from catpose_lib.data.synthetic import generate_dataset  # lazy: torch/mmengine (CLI speed)

    summary = generate_dataset(args.root, n_train=args.train, n_val=args.val, n_test=args.test,
                               size=args.size, seed=args.seed, difficulty=args.difficulty)
    images, annotations = summary["images"], summary["annotations"]
    say(f"wrote {summary['root']} in {summary['seconds']:.1f} s: "
        + ", ".join(f"{split} {images[split]} images / {annotations[split]} cats"
                    for split in images)
        + f" ({summary['size']}x{summary['size']} px, seed {summary['seed']}, {summary['difficulty']})")
    return 0
