"""The GPU check (see scripts/gpu_check.sh): the cross-species pretraining and its proof,
where they take minutes instead of hours.

  1. `python -m catpose_lib pretrain` for ResNet-50 and HRNet-W32 at once (other animals,
     held-out AP, zero-shot AP on the cats' val split);
  2. as soon as ResNet-50 is done, benchmarks/pretrain_transfer.py: the course baseline on
     the real cats from scratch vs from that start (several seeds, extra arms);
  3. both start checkpoints packed for the trip back (scripts/pack_checkpoint.py), and the
     unpacked copies evaluated again, so the transport's effect on AP is measured;
  4. results (JSONs, histories, logs; no checkpoints) in results.tar.gz, a summary in
     gpu_check.json, everything under --out.

--start PREFIX skips 1 and 3: the proof runs from a start checkpoint packed here
(scripts/pack_checkpoint.py), e.g. the study's own cross-species start, so its arms measure
what the full budget changes against the study's `cpu` protocol; --deadline stops unfinished
runs in time for the results to come back (their per-epoch history still does).

--dry runs the same steps on the CPU on a tiny subset with a small model (tested by pytest).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

DRY_KNOBS = ["resnet_depth=18", "input_size=64", "heatmap_size=16"]
T0 = time.time()


def say(msg):
    print(f"[gpu_check {time.time() - T0:6.0f} s] {msg}", flush=True)


def subset(root, out, n_train, n_val):
    """The first images of each split of a course-layout root (for --dry)."""
    out = Path(out)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    (out / "images").mkdir(exist_ok=True)
    for split, n in (("train", n_train), ("val", n_val), ("test_info", n_val)):
        coco = json.loads((Path(root) / "annotations" / f"{split}.json").read_text())
        images = coco["images"][:n]
        ids = {im["id"] for im in images}
        for im in images:
            dst = out / "images" / im["file_name"]
            if not dst.exists():
                shutil.copy(Path(root) / "images" / im["file_name"], dst)
        coco.update(images=images, annotations=[a for a in coco["annotations"] if a["image_id"] in ids])
        (out / "annotations" / f"{split}.json").write_text(json.dumps(coco))
    return out


def _mean(xs):
    return sum(xs) / len(xs) if xs else None


def cli(*args):
    return [sys.executable, "-m", "catpose_lib", *args]


def start(cmd, log, **popen):
    say("start: " + " ".join(str(c) for c in cmd[2:]))
    return subprocess.Popen([str(c) for c in cmd], cwd=REPO, stdout=open(log, "w"), stderr=subprocess.STDOUT, **popen)


def start_proof(args, cats, init, arms, device, sets, work):
    """benchmarks/pretrain_transfer.py over the arms x seeds, in a process group of its own so
    that a deadline (wait_until) stops it and every run it started."""
    log = work / "pretrain_transfer.log"
    cmd = [sys.executable, "benchmarks/pretrain_transfer.py", "--data", cats, "--init", init,
           "--results", work / "transfer", "--seeds", args.seeds, *[x for a in arms for x in ("--arm", a)],
           "--jobs", args.proof_jobs, "--workers", args.proof_workers, "--device", device, *sets,
           "--json", work / "pretrain_transfer.json"]
    return start(cmd, log, start_new_session=True), log


def wait(proc, name, log):
    rc = proc.wait()
    say(f"{name} exit {rc}")
    if rc:
        print(Path(log).read_text()[-3000:], flush=True)
    return rc


def wait_until(proc, name, log, deadline):
    """wait() with a deadline (seconds since the start): the process group is stopped then."""
    try:
        return wait(proc, name, log) if deadline is None else _wait_for(proc, name, log, deadline)
    except subprocess.TimeoutExpired:
        say(f"{name}: deadline {deadline:.0f} s reached, stopping its unfinished runs")
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return None


def _wait_for(proc, name, log, deadline):
    proc.wait(max(1.0, deadline - (time.time() - T0)))
    return wait(proc, name, log)


def write_results(report, out, work):
    """gpu_check.json, and results.tar.gz: the work folder's small files (no checkpoints, no
    subset images, no visualiser dumps)."""
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1, default=str))
    with tarfile.open(out / "results.tar.gz", "w:gz") as tar:
        for f in sorted(work.rglob("*")):
            if f.is_file() and f.suffix in (".json", ".jsonl", ".log", ".csv", ".py") and "others_tiny" not in str(f) \
                    and "cats_tiny" not in str(f) and "/vis_data/" not in str(f):
                tar.add(f, arcname=str(f.relative_to(work)))


def partial_curves(folder) -> dict:
    """(epoch, AP) of every run under folder so far, finished or not (history.jsonl)."""
    curves = {}
    for h in sorted(Path(folder).glob("*/baseline/runs/*/history.jsonl")):
        rows = [json.loads(line) for line in h.read_text().splitlines() if line.strip()]
        curves[f"{h.parents[3].name}/{h.parent.name}"] = [(r["epoch"], r.get("AP")) for r in rows]
    return curves


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--others", required=True, help="other animals, course layout (one category)")
    p.add_argument("--cats", required=True, help="real cats, course layout")
    p.add_argument("--out", required=True)
    p.add_argument("--work", required=True, help="work folder (results, checkpoints)")
    p.add_argument("--dry", action="store_true")
    p.add_argument("--budget", default="full", help="pretraining budget")
    p.add_argument("--seeds", default="0,1,2", help="seeds of the proof")
    p.add_argument("--arm", action="append", default=None, help="proof arms (benchmarks/pretrain_transfer.py)")
    p.add_argument("--workers", type=int, default=7, help="dataloader workers per pretraining")
    p.add_argument("--proof-jobs", type=int, default=2)
    p.add_argument("--proof-workers", type=int, default=4)
    p.add_argument("--start", default=None, metavar="PREFIX",
                   help="packed start checkpoint: no pretraining, the proof runs from it")
    p.add_argument("--deadline", type=float, default=None, metavar="S",
                   help="stop the proof's unfinished runs this many seconds after the start")
    p.add_argument("--deadline-at", type=float, default=None, metavar="EPOCH",
                   help="the same as a wall-clock time (seconds since 1970)")
    args = p.parse_args(argv)
    if args.deadline_at is not None:
        args.deadline = min(args.deadline or float("inf"), args.deadline_at - T0)
    if args.start:
        return from_start(args)

    from pack_checkpoint import pack, unpack

    from catpose_lib.engine.provenance import now_iso, provenance

    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    device = "cpu" if args.dry else "cuda"
    others, cats = Path(args.others), Path(args.cats)
    knobs = []
    if args.dry:
        others = subset(others, work / "others_tiny", 12, 6)
        cats = subset(cats, work / "cats_tiny", 12, 6)
        knobs = DRY_KNOBS
        args.budget, args.seeds, args.workers, args.proof_jobs, args.proof_workers = "smoke", "0", 0, 1, 0
    sets = [x for k in knobs for x in ("--set", k)]
    results, ckpts = work / "results", work / "pretrained"
    procs = {}
    for backbone in ("resnet50", "hrnet_w32"):
        log = work / f"pretrain_{backbone}.log"
        procs[backbone] = (start(cli("pretrain", "--data", others, "--zero-shot", cats, "--results", results,
                                     "--out", ckpts, "--backbone", backbone, "--device", device,
                                     "--budget", args.budget, "--workers", args.workers, *sets), log), log)
    rc = wait(procs["resnet50"][0], "pretrain resnet50", procs["resnet50"][1])
    res = json.loads((results / "pretrain" / "91_s0.json").read_text()) if not rc else {}
    proof = None
    if res.get("start_checkpoint"):
        arms = args.arm or ["scratch::", "cross_species:init:", "cross_species_lr1e-4:init:lr=1e-4"]
        proof = start_proof(args, cats, res["start_checkpoint"]["path"], arms, device, sets, work)
    wait(procs["hrnet_w32"][0], "pretrain hrnet_w32", procs["hrnet_w32"][1])

    from catpose_lib.engine.pretrain import evaluate_checkpoint

    report = dict(dry=args.dry, device=device, budget=args.budget, pretrain={}, started=now_iso())
    for backbone, no in (("resnet50", 91), ("hrnet_w32", 92)):
        path = results / "pretrain" / f"{no}_s0.json"
        r = json.loads(path.read_text()) if path.exists() else {}
        entry = dict(status=r.get("status"), best=r.get("best"), final=r.get("final"),
                     zero_shot=r.get("zero_shot"), start_checkpoint=r.get("start_checkpoint"),
                     seconds_per_epoch=_mean([h["train_seconds"] for h in r.get("history", [])]),
                     wall_seconds=r.get("wall_seconds"), max_epochs=r.get("max_epochs"))
        if r.get("start_checkpoint"):
            parts = pack(r["start_checkpoint"]["path"], out / f"pretrain_{backbone}.int8")
            back = unpack(out / f"pretrain_{backbone}.int8", work / f"unpacked_{backbone}.pth")
            o = r["overrides"]
            entry["parts"] = [Path(x).name for x in parts]
            entry["unpacked_zero_shot"] = evaluate_checkpoint(back, cats, o, device=device)
            entry["unpacked_heldout"] = evaluate_checkpoint(back, others, o, device=device)
            # before transport: the exported checkpoint is the run's best, validated on these animals
            say(f"{backbone}: held-out AP {r['best']['AP']:.4f} -> "
                f"{entry['unpacked_heldout']['AP']:.4f} after int8 transport; zero-shot cats "
                f"{(r.get('zero_shot') or {}).get('AP')} -> {entry['unpacked_zero_shot']['AP']:.4f}")
        report["pretrain"][backbone] = entry
    if proof:
        wait_until(proof[0], "pretrain_transfer", proof[1], args.deadline)
        pt = work / "pretrain_transfer.json"
        report["transfer"] = json.loads(pt.read_text()) if pt.exists() else None
    report.update(seconds=round(time.time() - T0, 1), ended=now_iso(), provenance=provenance(device))
    write_results(report, out, work)
    say(f"wrote {out} ({report['seconds']} s)")
    for backbone, e in report["pretrain"].items():
        print(backbone, json.dumps({k: e.get(k) for k in ("status", "best", "zero_shot", "seconds_per_epoch")},
                                   default=str), flush=True)
    if report.get("transfer"):
        for name, a in report["transfer"]["arms"].items():
            print(f"{name}: final {a['final_mean']:.4f} +- {a['final_std']:.4f}, best {a['best_mean']:.4f}", flush=True)
    return report


def from_start(args):
    """The proof's arms from a packed start, and what the transport did to its zero-shot AP."""
    from pack_checkpoint import unpack

    from catpose_lib.engine.pretrain import evaluate_checkpoint
    from catpose_lib.engine.provenance import now_iso, provenance

    import torch

    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    device = "cpu" if args.dry else "cuda"
    cats, sets = Path(args.cats), []
    if args.dry:  # the start's own backbone, at 64 px for one epoch on a few images
        cats, sets = subset(cats, work / "cats_tiny", 12, 6), [
            x for k in ("input_size=64", "heatmap_size=16", "epochs=1") for x in ("--set", k)]
        args.seeds, args.proof_jobs, args.proof_workers = "0", 1, 0
    start = unpack(args.start, work / "start.pth")
    meta = torch.load(start, map_location="cpu", weights_only=True)["meta"]
    report = dict(dry=args.dry, device=device, start=dict(prefix=args.start, meta=meta), started=now_iso())
    report["start"]["zero_shot_after_transport"] = evaluate_checkpoint(start, cats, meta.get("overrides"),
                                                                       device=device)
    say(f"start: zero-shot cats val AP {report['start']['zero_shot_after_transport']['AP']:.4f} after transport")
    # the arms build the start's own architecture (its knobs, e.g. backbone), then any dry knobs
    sets = [x for k, v in (meta.get("overrides") or {}).items() for x in ("--set", f"{k}={v}")] + sets
    proc, log = start_proof(args, cats, start, args.arm or ["baseline_full:init:"], device, sets, work)
    rc = wait_until(proc, "pretrain_transfer", log, args.deadline)
    sys.path.insert(0, str(REPO / "benchmarks"))
    from pretrain_transfer import summarise

    report.update(proof_exit=rc, transfer=dict(arms=summarise(work / "transfer")),
                  curves=partial_curves(work / "transfer"))
    report.update(seconds=round(time.time() - T0, 1), ended=now_iso(), provenance=provenance(device))
    write_results(report, out, work)
    say(f"wrote {out} ({report['seconds']} s)")
    for name, a in report["transfer"]["arms"].items():
        print(f"{name}: final {a['final_mean']:.4f} +- {a['final_std']:.4f}, best {a['best_mean']:.4f} "
              f"+- {a['best_std']:.4f}, seeds {a['seeds']}, {a['epochs']} epochs, "
              f"{a['seconds_per_epoch']} s/epoch", flush=True)
    for run, curve in report["curves"].items():
        print(run, "AP by epoch:", " ".join(f"{e}:{ap:.3f}" for e, ap in curve if ap is not None), flush=True)
    return report


if __name__ == "__main__":
    main()
