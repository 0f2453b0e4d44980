"""``report``: the executed notebooks of a study as one HTML document (figures embedded)."""

from catpose_lib.console import say

HELP = "render a folder of executed notebooks into one HTML report (nbconvert, figures embedded)"


def add_arguments(p):
    p.add_argument("notebooks", help="folder of executed notebooks, e.g. results/notebooks/real_cats")
    p.add_argument("--out", default="results/report", help="output folder (default %(default)s)")
    p.add_argument("--title", default="catpose: 2D cat pose estimation study")
    p.add_argument("--with-code", action="store_true", help="keep the code cells")


def run(args):
    from catpose_lib.report.html_report import build_html_report

    out = build_html_report(args.notebooks, args.out, title=args.title, exclude_input=not args.with_code)
    say(f"report: {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0
