"""The GPU check (see scripts/gpu_check.sh): on the given data, measure
  1. the baseline at full budget (20 epochs): AP and seconds per epoch,
  2. HRNet-W32 at 256 px for a few epochs, extrapolated to 210 epochs,
  3. train throughput with and without AMP (same config, same run),
then print one table and write gpu_check.json under --out.
--dry runs the same steps on the CPU at a tiny size (tested by pytest)."""
import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

DRY_OVERRIDES = dict(resnet_depth=18, input_size=64, heatmap_size=16)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="", help="dataset root (default: synthetic cats)")
    p.add_argument("--out", required=True)
    p.add_argument("--dry", action="store_true", help="CPU, tiny data, smoke budget")
    p.add_argument("--hrnet-epochs", type=int, default=3)
    p.add_argument("--workers", type=int, default=8)
    args = p.parse_args(argv)

    from catpose_lib.data.default_data import resolve_data_root
    from catpose_lib.engine.experiments import get_experiment
    from catpose_lib.engine.provenance import now_iso, provenance
    from catpose_lib.engine.run_one import RunRequest, execute, resolve_device
    from catpose_lib.engine.sweep import run_baseline

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cpu" if args.dry else resolve_device("cuda")
    root = resolve_data_root(args.data, **(dict(n_train=12, n_val=4, n_test=4, size=128) if args.dry else {}))
    common = dict(DRY_OVERRIDES) if args.dry else {}
    workers = 0 if args.dry else args.workers
    started = time.time()
    rows = []

    # 1. the baseline at full budget
    (base,) = run_baseline(root, out / "results", budget="smoke" if args.dry else "full", device=device,
                           common_overrides=common, num_workers=workers, precision="fp32", verbose=True)
    spe = [h["train_seconds"] for h in base["history"]]
    rows.append(dict(what="baseline ResNet-50 128px (fp32)", epochs=base["max_epochs"], status=base["status"],
                     AP=(base.get("best") or {}).get("AP"), s_per_epoch=sum(spe) / len(spe) if spe else None,
                     samples_per_s=base.get("samples_per_s")))

    # 2. HRNet-W32 at 256 px for a few epochs, extrapolated to 210
    hrnet = get_experiment(28)  # HRNet-W32, bs 32, on the resolution block's 256/64
    req = RunRequest(experiment=hrnet, data_root=str(root), results_dir=str(out / "results"),
                     base=dict(name="21 (resolution)", overrides=dict(get_experiment(21).overrides, epochs=210)),
                     budget="smoke" if args.dry else f"{args.hrnet_epochs / 210:.6f}", device=device,
                     common_overrides=common, num_workers=workers, precision="auto", channels_last=True)
    hr = execute(req)
    spe = [h["train_seconds"] for h in hr["history"]]
    mean = sum(spe) / len(spe) if spe else None
    rows.append(dict(what=f"HRNet-W32 256px ({hr.get('speed', {}).get('precision')})", epochs=hr["max_epochs"],
                     status=hr["status"], AP=(hr.get("best") or {}).get("AP"), s_per_epoch=mean,
                     samples_per_s=hr.get("samples_per_s"),
                     extrapolated_210_epochs_min=round(mean * 210 / 60, 1) if mean else None))

    # 3. throughput with and without AMP (same config, same process)
    import copy

    from train_throughput import measure, train_only

    from catpose_lib.engine.config_builder import build_config
    from catpose_lib.engine.precision import apply_speed_options

    iters, warmup = (3, 1) if args.dry else (30, 5)
    bs = 8 if args.dry else 64
    cfg = train_only(build_config(root, common, work_dir=str(out / "bench"), device=device), iters + warmup, bs, workers)
    fp32 = measure(copy.deepcopy(cfg), warmup, "fp32")
    amp_cfg = copy.deepcopy(cfg)
    applied = apply_speed_options(amp_cfg, device, "auto", channels_last=True)
    amp = measure(amp_cfg, warmup, "amp")
    rows.append(dict(what=f"throughput ResNet-50 128px bs {bs}: fp32", samples_per_s=fp32))
    rows.append(dict(what=f"throughput ... {applied['precision']} + channels-last", samples_per_s=amp,
                     ratio=amp / fp32))

    report = dict(dry=args.dry, device=device, data=str(root), rows=rows, seconds=round(time.time() - started, 1),
                  measured=now_iso(), provenance=provenance(device))
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1, default=str))
    import pandas as pd

    print(pd.DataFrame(rows).to_string(index=False))
    print(f"wrote {out / 'gpu_check.json'} ({report['seconds']} s)")
    return report


if __name__ == "__main__":
    main()
