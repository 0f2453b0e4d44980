"""AP by epoch of a `gpu_check.sh --start` report's arms, finished or stopped at the deadline
(its per-epoch curves), against reference APs such as the same recipes under protocol `cpu`.

  python scripts/gpu_full_budget_figure.py results/gpu/full_budget/gpu_check.json OUT.png \\
      --ref "0.1487=baseline, protocol cpu (3 epochs)" --ref "0.2847=run 19, protocol cpu (6 epochs)"
"""
import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]


def arms_from_curves(curves: dict) -> dict:
    """{'arm/00_s1-key': [(epoch, AP), ...]} -> {arm: {'curves': {seed: curve}}}"""
    arms = {}
    for run, curve in curves.items():
        arm, name = run.split("/", 1)
        seed = int(name.split("-")[0].split("_s")[1])
        arms.setdefault(arm, {"curves": {}})["curves"][seed] = [(e, ap) for e, ap in curve if ap is not None]
    return arms


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report")
    p.add_argument("out")
    p.add_argument("--ref", action="append", default=[], metavar="AP=LABEL")
    args = p.parse_args(argv)
    from pretrain_transfer import figure

    report = json.loads(Path(args.report).read_text())
    refs = [(float(r.split("=", 1)[0]), r.split("=", 1)[1]) for r in args.ref]
    figure(arms_from_curves(report["curves"]), args.out, refs=refs,
           title=f"Full budget on one {report['provenance'].get('device_name') or report['device']}, "
                 f"from the {report['start']['meta'].get('catpose_pretrain')} start (cats val)")
    print(args.out)


if __name__ == "__main__":
    main()
