"""Does the cross-species start help on the real cats?  The course baseline recipe (ResNet-50,
128 px, Adam, 20 epochs, flip test) trained from scratch and from the `pretrain` start
checkpoint, several seeds each, and any extra arm a researcher tries (e.g. another lr).

  python benchmarks/pretrain_transfer.py --data data/animalpose_cats --init CKPT \\
      --results DIR --seeds 0,1,2 [--arm NAME:init:lr=1e-4 ...] [--jobs 2] --json OUT.json
  python benchmarks/pretrain_transfer.py --summarise DIR --json OUT.json --figure OUT.png

Each arm x seed is an ordinary `python -m catpose_lib run baseline` (resumable, its result
JSON under DIR/<arm>/baseline/); the summary gives AP mean +- std per arm and the ratio
of each arm to the scratch arm.
"""
import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_ARMS = ("scratch::", "cross_species:init:")


def parse_arm(text):
    """NAME:[init]:KNOB=VALUE,KNOB=VALUE"""
    name, init, knobs = (text.split(":", 2) + ["", ""])[:3]
    if init not in ("", "init"):
        raise SystemExit(f"--arm {text!r}: the second field is 'init' or empty")
    return dict(name=name, init=init == "init", knobs=[k for k in knobs.split(",") if k])


def run_arm_seed(args, arm, seed):
    cmd = [sys.executable, "-m", "catpose_lib", "run", "baseline", "--data", args.data,
           "--results", str(Path(args.results) / arm["name"]), "--seeds", str(seed),
           "--device", args.device, "--quiet", "--no-wait"]  # a seed held by another lane: its summary counts it
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    if arm["init"]:
        cmd += ["--init", args.init]
    knobs = list(args.set or []) + arm["knobs"]
    if knobs:
        cmd += ["--set", *knobs]
    log = Path(args.results) / f"{arm['name']}_s{seed}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:  # a lane that skips the run must not truncate the log of the lane training it
        rc = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT).returncode
    print(f"[pretrain_transfer] {arm['name']} seed {seed}: exit {rc} ({log})", flush=True)
    return rc


def summarise(results_dir) -> dict:
    from catpose_lib.runs.results import load_block_results

    arms = {}
    for folder in sorted(p for p in Path(results_dir).iterdir() if (p / "baseline").is_dir()):
        runs = [r for r in load_block_results(folder, "baseline") if r["status"] == "finished"]
        if not runs:
            continue
        finals = [r["final"]["AP"] for r in runs]
        bests = [r["best"]["AP"] for r in runs]
        spe = [h["train_seconds"] for r in runs for h in r["history"] if h.get("train_seconds")]
        arms[folder.name] = dict(
            seeds=[r["seed"] for r in runs], final_AP=finals, best_AP=bests,
            final_mean=statistics.mean(finals), final_std=statistics.stdev(finals) if len(finals) > 1 else 0.0,
            best_mean=statistics.mean(bests), best_std=statistics.stdev(bests) if len(bests) > 1 else 0.0,
            epochs=runs[0]["max_epochs"], knobs=runs[0]["knobs"], init=runs[0].get("init"),
            device=runs[0]["provenance"]["device"], device_name=runs[0]["provenance"].get("device_name"),
            speed=runs[0].get("speed"), seconds_per_epoch=statistics.mean(spe) if spe else None,
            curves={r["seed"]: [(h["epoch"], h["AP"]) for h in r["history"]] for r in runs})
    scratch = arms.get("scratch", {}).get("final_mean")
    for a in arms.values():
        a["final_vs_scratch"] = (a["final_mean"] / scratch) if scratch else None
    return arms


TITLE = "Course baseline on the real cats (val): from scratch vs cross-species start"
IMAGENET = ((0.144, "course baseline from ImageNet (0.144)"),)


def figure(arms: dict, path, title=TITLE, refs=IMAGENET) -> None:
    """AP by epoch of each arm (mean +- sd over its seeds), with reference APs as dashed lines."""
    import pandas as pd
    import seaborn as sns

    from catpose_lib.report.drawing import figure as new_figure, save

    rows = [dict(arm=name, seed=s, epoch=e, AP=ap) for name, a in arms.items()
            for s, curve in a["curves"].items() for e, ap in curve]
    fig = new_figure(7, 4.2)
    ax = fig.subplots()
    sns.lineplot(data=pd.DataFrame(rows), x="epoch", y="AP", hue="arm", errorbar="sd", marker="o", ax=ax)
    for ap, label in refs:
        ax.axhline(ap, ls="--", c="grey", lw=1)
        ax.text(1, ap + 0.003, label, color="grey", fontsize=8)
    ax.set_title(f"{title}\nmean +- sd over seeds")
    ax.set_ylabel("COCO OKS AP (val)")
    save(fig, path, dpi=120)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="real cats, course layout")
    p.add_argument("--init", help="the cross-species start checkpoint")
    p.add_argument("--results", help="folder of the arms' results")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--arm", action="append", default=None,
                   help="NAME:[init]:KNOB=VALUE,... (default: scratch:: and cross_species:init:)")
    p.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                   help="knob for every arm (repeatable; passed on to `run --set`)")
    p.add_argument("--jobs", type=int, default=1, help="runs at once")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--summarise", default=None, metavar="DIR", help="only summarise DIR")
    p.add_argument("--json", default=None)
    p.add_argument("--figure", default=None)
    args = p.parse_args(argv)
    results = args.summarise or args.results
    if not args.summarise:
        arms = [parse_arm(a) for a in (args.arm or DEFAULT_ARMS)]
        if not (args.data and args.results):
            p.error("--data and --results are needed to train")
        if any(a["init"] for a in arms) and not (args.init and Path(args.init).is_file()):
            p.error(f"--init {args.init}: no such file (an arm starts from it)")
        jobs = [(arm, int(s)) for arm in arms for s in args.seeds.split(",") if s.strip()]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(lambda j: run_arm_seed(args, *j), jobs))
    arms = summarise(results)
    for name, a in arms.items():
        ratio = a["final_vs_scratch"]
        print(f"{name:28s} final AP {a['final_mean']:.4f} +- {a['final_std']:.4f}  best {a['best_mean']:.4f} "
              f"+- {a['best_std']:.4f}  seeds {a['seeds']}"
              + (f"  x{ratio:.1f} scratch" if ratio else ""))
    if args.json:
        from catpose_lib.runs.provenance import now_iso

        out = Path(args.json)
        previous = json.loads(out.read_text()) if out.exists() else {}
        arms = json.loads(json.dumps(arms, default=str))
        if previous.get("arms") != arms:  # a re-summary of the same runs leaves the file as it was
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(dict(arms=arms, measured=now_iso()), indent=1, default=str))
    if args.figure:
        figure(arms, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
