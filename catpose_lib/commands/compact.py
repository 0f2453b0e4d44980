"""``compact SRC OUT``: one cropped, re-encoded image per instance (for carrying data)."""

HELP = "write a compact copy of a dataset: one cropped, downscaled image per instance"


def add_arguments(p):
    p.add_argument("src", help="dataset root (course layout)")
    p.add_argument("out", help="new root (must not exist or be empty)")
    p.add_argument("--margin", type=float, default=0.25, help="margin around the box, fraction of its size")
    p.add_argument("--max-side", type=int, default=256, help="longer side of a crop at most, px")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality")


def run(args):
    from catpose_lib.data.compact import compact_dataset

    s = compact_dataset(args.src, args.out, margin=args.margin, max_side=args.max_side, quality=args.quality)
    print(f"wrote {s['out']}: {s['instances']} instances, {s['megabytes']} MB")
    return 0
