"""``predict RUN``: COCO keypoint results for the boxes of an annotation file."""

from catpose_lib.console import say

HELP = "write result_keypoints.json (COCO results) from a run's best checkpoint on given boxes"


def add_arguments(p):
    p.add_argument("run", help="a run's result JSON (results/<block>/<NN_sS>.json) or its work folder")
    p.add_argument("--ann", required=True, help="annotation file with the boxes (e.g. test_info.json)")
    p.add_argument("--out", default="result_keypoints.json")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-flip", action="store_true", help="disable flip test")


def run(args):
    from catpose_lib.runs.predict import predict_file

    summary = predict_file(args.run, args.ann, args.out, device=args.device, flip_test=not args.no_flip)
    say(f"wrote {summary['out']}: {summary['instances']} instances on {summary['images']} images "
        f"(run {summary['run']} of block {summary['block']})")
    return 0
