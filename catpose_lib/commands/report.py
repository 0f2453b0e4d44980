"""``report``: the study as a paper, one HTML file built from a results folder and the figures
drawn from it (report.paper)."""
from catpose_lib.console import say

HELP = "build the study's report (one HTML file, figures embedded) from a results folder"


def add_arguments(p):
    p.add_argument("--results", required=True, help="results folder, e.g. results/real_cats")
    p.add_argument("--figures", required=True, help="figures folder the report draws into, e.g. figures/real_cats")
    p.add_argument("--data-root", default=None,
                   help="the data (val annotations and images): redraws the final model's val figures; without "
                        "it the report uses the analysis already in the results folder")
    p.add_argument("--out", default="results/report", help="output folder (default %(default)s)")
    p.add_argument("--reference", default=None, help="the reference study's CSV (default: the packaged copy)")


def run(args):
    from pathlib import Path

    from catpose_lib.report.paper import build_paper  # lazy: torch/mmengine (CLI speed)

    data_root = Path(args.data_root).expanduser() if args.data_root else None
    out = build_paper(args.results, args.figures, args.out, data_root=data_root, reference=args.reference)
    say(f"report: {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0
