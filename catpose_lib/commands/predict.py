"""``predict PHOTOS... --out DIR``: cat keypoints on a user's own photos (or on the boxes of a
COCO file), with one overlay per photo."""
import argparse
from catpose_lib.console import say

HELP = ("predict cat keypoints on your own photos (files or folders of jpg/png; each whole photo is the cat's "
        "box unless --boxes gives boxes): COCO keypoint results + one overlay per photo")


def add_arguments(p):
    p.add_argument("photos", nargs="*", metavar="PHOTOS",
                   help="photo files and folders (.jpg/.jpeg/.png, any case; folders are searched with their "
                        "subfolders). None with --boxes FILE: the images that a COCO box file lists")
    p.add_argument("--out", required=True,
                   help="output folder: result_keypoints.json, result_info.json, overlays/ (an OUT ending in "
                        ".json: the results file itself, no overlays unless --overlays)")
    p.add_argument("--model", default=None, metavar="NAME|PATH",
                   help="a zoo model's name or folder, or a run's result JSON / work folder (default: the "
                        "zoo's default model)")
    p.add_argument("--boxes", "--ann", dest="boxes", default=None, metavar="FILE",
                   help="cat boxes: a COCO detections list (image_id = the photo's position 1, 2, ... or a "
                        "file_name per box) or a COCO file with images + annotations (e.g. a test set's "
                        "annotations/test_info.json; its keypoint names order the output)")
    p.add_argument("--images", default=None, metavar="DIR",
                   help="where the images of a COCO box file lie when no PHOTOS are given "
                        "(default: images/ beside its annotations/ folder)")
    p.add_argument("--overlays", action=argparse.BooleanOptionalAction, default=None,
                   help="draw one overlay per photo (default: on for an output folder)")
    p.add_argument("--kpt-thr", type=float, default=0.3, help="keypoints drawn above this score (default 0.3)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--no-flip", action="store_true", help="disable flip test")
    p.add_argument("--progress-every", type=int, default=25, metavar="N", help="a progress line every N photos")


def run(args):
    from catpose_lib.runs.predict import is_run, run_predict  # lazy: torch/mmengine (CLI speed)

    photos = list(args.photos)
    model = args.model
    if model is None and photos and is_run(photos[0]):  # the older form: predict RUN --ann FILE --out FILE
        model = photos.pop(0)
    overlays = args.overlays if args.overlays is not None else not str(args.out).lower().endswith(".json")
    summary = run_predict(photos, args.out, model=model, boxes_file=args.boxes, images_root=args.images,
                          device=args.device, flip_test=not args.no_flip, overlays=overlays,
                          kpt_thr=args.kpt_thr, progress_every=args.progress_every)
    skipped = len(summary["skipped"])
    if not summary["photos"]:
        say(f"error: nothing could be predicted ({skipped} file(s) skipped)", err=True)
        return 1
    say(f"wrote {summary['results']}: {summary['records']} cat(s) on {summary['photos']} photo(s)"
        + (f", {len(summary['overlays'])} overlay(s)" if summary["overlays"] else "")
        + (f"; {skipped} file(s) skipped" if skipped else "") + f" ({summary['seconds']:.1f} s)")
    return 0
