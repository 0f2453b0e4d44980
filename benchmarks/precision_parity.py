"""AP parity of the fast CPU/GPU setting: the baseline trained with fp32 and with bf16 autocast
+ channels-last (same data, seeds, budget and knobs); prints AP per seed, the mean AP
difference, the seed-to-seed spread it is judged against, and the epoch-time speed-up.

    .venv/bin/python -m catpose_lib import-animalpose ../shared/datasets/animalpose_cats data/animalpose_cats
    .venv/bin/python benchmarks/precision_parity.py --data data/animalpose_cats --results /tmp/parity \\
        --seeds 0,1 --set resnet_depth=18 --set lr=1e-3

Runs go to RESULTS/fp32/ and RESULTS/bf16/ (finished runs are skipped on a re-run, so an
interrupted measurement continues where it stopped).  This decides whether bf16 may be a
default: only when the AP difference stays within the noise between seeds.
"""
from common import base_parser, data_root, device_of, emit
from mmengine.config import DictAction


def main():
    p = base_parser(__doc__)
    p.add_argument("--results", required=True, help="folder for the runs (fp32/ and bf16/ under it)")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--budget", default="full")
    p.add_argument("--set", nargs="+", action=DictAction, default={}, metavar="KNOB=VALUE",
                   help="override for both settings (e.g. resnet_depth=18)")
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()

    from pathlib import Path

    from catpose_lib.report.parity import compare_settings
    from catpose_lib.workers.blocks import run_baseline

    root = data_root(args.data)
    device = device_of(args.device)
    seeds = [int(s) for s in args.seeds.split(",")]
    knobs = dict(args.set)
    runs = {"fp32": [], "bf16": []}
    for seed in seeds:  # seed by seed: an interrupted measurement already has whole pairs
        for name, precision, channels_last in (("fp32", "fp32", False), ("bf16", "bf16", True)):
            runs[name] += run_baseline(root, Path(args.results) / name, seeds=[seed], budget=args.budget,
                                       device=device, shared_knobs=knobs, num_workers=args.workers,
                                       precision=precision, channels_last=channels_last)
    out = compare_settings(runs["fp32"], runs["bf16"])
    emit(dict(out, device=device, data=str(root), knobs=knobs, budget=args.budget,
              max_epochs=runs["fp32"][0]["max_epochs"]), args.json)
    print(f"AP parity, baseline {knobs} on {root}, {runs['fp32'][0]['max_epochs']} epochs, {device}")
    print(f"  {'seed':>4}  {'fp32 final':>10} {'fp32 best':>10}  {'bf16 final':>10} {'bf16 best':>10}"
          f"  {'s/epoch fp32':>12} {'bf16':>6}")
    for r in out["rows"]:
        print(f"  {r['seed']:>4}  {r['fp32_final']:10.4f} {r['fp32_best']:10.4f}  {r['bf16_final']:10.4f} "
              f"{r['bf16_best']:10.4f}  {r['fp32_s_per_epoch']:12.1f} {r['bf16_s_per_epoch']:6.1f}")
    noise = "n/a (one seed)" if out["noise"] is None else f"{out['noise']:.4f}"
    print(f"  mean difference bf16 - fp32: final {out['delta_final']:+.4f}, best {out['delta_best']:+.4f}; "
          f"noise (largest seed spread) {noise}; epoch speed-up {out['speedup'] or float('nan'):.2f}x")
    verdict = {True: "AP unchanged beyond noise", False: "AP CHANGED beyond noise",
               None: "undecided: needs 2 or more seeds"}[out["unchanged"]]
    print(f"  verdict: {verdict}")


if __name__ == "__main__":
    main()
