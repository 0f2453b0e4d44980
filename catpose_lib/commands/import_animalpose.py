"""``python -m catpose_lib import-animalpose SRC ROOT``: Animal-Pose keypoints.json -> course layout."""
from catpose_lib.console import say
from catpose_lib.data.animalpose import import_animalpose

HELP = "convert an Animal-Pose keypoints.json (+ images/) into the course layout (animalpose20 scheme)"


def add_arguments(parser):
    parser.add_argument("src", help="folder with keypoints.json and images/, or the keypoints.json file")
    parser.add_argument("root", help="output data root (must not exist or be empty)")
    parser.add_argument("--val", type=int, default=None, metavar="N",
                        help="number of validation images (default: 11%% of the images, "
                             "i.e. 124 of the 1,124 shared cats)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the image-level train/val shuffle")
    parser.add_argument("--category", nargs="+", default=["all"], metavar="CAT",
                        help="raw categories to keep: 'all' (default), names (cat, dog, ...) or ids")
    parser.add_argument("--one-category", default=None, metavar="NAME",
                        help="merge the kept categories into one named NAME (id 1), e.g. 'animal' for "
                             "the other species used in pretraining")
    parser.add_argument("--copy", action="store_true",
                        help="always copy images (default: hard-link when on the same file system)")


def run(args) -> int:
    s = import_animalpose(args.src, args.root, n_val=args.val, seed=args.seed,
                          categories=args.category, link=not args.copy,
                          one_category=args.one_category)
    cats = ", ".join(f"{name} (id {cid}, raw id {raw})" for cid, name, raw in s["categories"])
    say(f"wrote {s['root']}: train {s['images']['train']} images / {s['instances']['train']} instances, "
        f"val {s['images']['val']} images / {s['instances']['val']} instances; "
        f"test_info.json = the val images' boxes (the raw data has no test split)")
    say(f"categories: {cats}; images hard-linked {s['linked']}, copied {s['copied']}"
        + (f"; {s['dropped_images']} image(s) without selected instances skipped" if s["dropped_images"] else ""))
    return 0
