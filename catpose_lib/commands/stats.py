"""``python -m catpose_lib stats ROOT``: tables describing a course-layout dataset."""
from catpose_lib.console import say

HELP = "print split sizes, instances per image, box sizes and per-keypoint labelled rates of a dataset"


def add_arguments(parser):
    parser.add_argument("root", help="data root holding images/ and annotations/")
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="also save sample images with their skeletons to this PNG")
    parser.add_argument("--split", default="train", choices=["train", "val", "test"],
                        help="split to draw samples from (with --plot)")
    parser.add_argument("-n", type=int, default=8, help="number of sample images (with --plot)")
    parser.add_argument("--seed", type=int, default=0, help="seed for choosing the samples (with --plot)")


def run(args) -> int:
    from catpose_lib.data.stats import dataset_stats, format_stats, plot_samples  # lazy: pandas, mmpose (CLI speed)

    say(format_stats(dataset_stats(args.root)))
    if args.plot:
        plot_samples(args.root, split=args.split, n=args.n, seed=args.seed, out=args.plot)
        say(f"\nsaved {args.plot}")
    return 0
