"""``python -m catpose_lib check ROOT``: validate a dataset in the course layout."""
from catpose_lib.console import say
from catpose_lib.data.validate import check_dataset, format_report

HELP = "validate a course-layout dataset (annotations, images, boxes, keypoint counts); exit 2 on problems"


def add_arguments(parser):
    parser.add_argument("root", help="data root holding images/ and annotations/")
    parser.add_argument("--scheme", choices=["cats17", "animalpose20"], default=None,
                        help="keypoint scheme (default: inferred from the keypoint count, 17 or 20)")
    parser.add_argument("--decode", action="store_true",
                        help="decode every image fully (default: header check and size only)")


def run(args) -> int:
    report = check_dataset(args.root, scheme=args.scheme, decode=args.decode)
    say(format_report(report))
    return 0
