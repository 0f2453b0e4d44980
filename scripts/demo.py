"""The demo (`make demo`) and its start checkpoint (`make demo-start`), settings in one place.

  run [--precision P] `make demo`: block 03 (12 runs + the baseline) on easy synthetic cats, every
                      run from the demo start with a fresh output layer, in a fresh results/demo
                      (cleared first); executed notebook results/demo/notebooks/03_lr_batch.ipynb,
                      the record (start AP, precision, wall time, targets) results/demo/demo_run.json
  start-build         `make demo-start`: pretrain the demo start (resumable), pack it int8 into
                      demo/start/ and write demo/start/PROVENANCE.json
  start-unpack [OUT]  check the packed start's sha256 and rebuild it at OUT (default
                      ~/.cache/catpose/demo_start/<name>.pth) unless already there; prints OUT
  params              the notebook parameters of the demo, as JSON

Why the start with a fresh output layer: the demo is block 03, the learning rate, and a lever
shows only where something is learned.  The whole start (the demo's model trained on 2,000 easy
synthetic cats of seed 1) already solves the demo's task (AP 0.55 before any training), so every
run sat at its level.  From scratch nothing learns within the budget on 2 CPU cores (AP ~0.07
after 40 epochs, tests/test_synthetic_learnable.py), and the start's backbone with a whole fresh
head reaches only ~0.34 (1e-4, bs 16) in the demo's 8 epochs.  Without its output layer (the
1x1 convolution that turns the features into the 17 heatmaps, re-initialised as MMPose does) the
start outputs no keypoints: AP 0 before training.  Adam moves each weight by about the lr per
step, so in the demo's ~60-100 steps lr 5e-4 / 1e-3 learn the read-out (and fine-tune the rest),
1e-4 learns it in part, and the baseline's 1e-5 barely moves it.  The start's fp32 weights
(~60 MB) stay out of git; int8 per output channel (scripts/pack_checkpoint.py) ships them in ~15 MB.
"""
import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

# --- the demo ---------------------------------------------------------------------------------
DEMO_DATA = dict(n_train=250, n_val=48, n_test=48, size=160, seed=0, difficulty="easy")
# the start's model: ResNet-18 SimpleBaseline, 64 px, 16 px heatmaps, sigma 2, DARK
DEMO_MODEL = dict(resnet_depth=18, input_size=64, heatmap_size=16, sigma=2, unbiased=True)
# data loading in the main process: the images are cached in memory and a 64 px crop is cheap,
# while 2 train + 2 val worker processes per run (each importing mmpose) cost more than they save
# on 2 cores (a run of 8 epochs: 65 s instead of 99 s, measured on a busy 2-core machine)
DEMO_WORKERS = 0
# lanes: the notebook's kernel and DEMO_LANES - 1 more `run 03 --no-wait` workers beside it on the
# same results folder (workers.grid: each run trained once), one thread each: on 2 cores two
# one-thread lanes of these small runs train more per second than one two-thread process
DEMO_LANES = 2
# recipe.protocols' 'demo': 5% of the reference study's epochs, at least 8 (8 of 150, 10 of 200,
# 9 of 175; the baseline 8 of its 20, so that it differs from block 03's runs by the lr alone)
DEMO_PROTOCOL = "demo"
DEMO_NOTEBOOK = REPO / "notebooks" / "03_lr_batch.ipynb"
DEMO_RESULTS, DEMO_FIGURES = "results/demo", "figures/demo"
DEMO_EXECUTED = REPO / "results" / "demo" / "notebooks" / "03_lr_batch.ipynb"
# what `make demo` must show (issue 27); tests/test_demo.py checks the committed record
TARGET = dict(wall_seconds=15 * 60, best_AP=0.45, gain_over_start=0.25, lr_effect=0.10, terminal_lines=200)
LR_STUDIED, LR_BASELINE = (1e-4, 5e-4), 1e-5

# --- its start ---------------------------------------------------------------------------------
START_NAME = "resnet18_64px_synth_easy_seed1"
START_PACKED = REPO / "demo" / "start" / START_NAME           # + .part0
START_PROVENANCE = REPO / "demo" / "start" / "PROVENANCE.json"
START_DATA = dict(n_train=2000, n_val=128, n_test=8, size=160, seed=1, difficulty="easy")  # not the demo's seed
START_MODEL = DEMO_MODEL
FRESH = ("head.final_layer.",)  # left out of the runs' start: the output layer starts fresh
START_TRAIN = dict(lr=2e-3, batch_size=32, lr_policy="cosine", warmup_iters=50, epochs=30)


def _cache() -> Path:
    return Path(os.environ.get("CATPOSE_CACHE", Path.home() / ".cache" / "catpose"))


def start_path() -> Path:
    return _cache() / "demo_start" / f"{START_NAME}.pth"


def runs_start_path() -> Path:
    return _cache() / "demo_start" / f"{START_NAME}.fresh-output.pth"


def demo_parameters(start, precision="auto") -> dict:
    """The notebook parameters of `make demo` (papermill -y)."""
    return dict(protocol=DEMO_PROTOCOL, base="baseline", device="cpu", precision=precision, channels_last=True,
                results_dir=DEMO_RESULTS, figures_dir=DEMO_FIGURES, synthetic=DEMO_DATA,
                shared_knobs=DEMO_MODEL, start=str(start), num_workers=DEMO_WORKERS)


def build_start(results=None, threads=None) -> dict:
    """Pretrain the start (resumable: a finished run is skipped), then pack it."""
    import torch

    from catpose_lib.data.default_data import synthetic_cats
    from catpose_lib.workers.blocks import run_baseline

    if threads:
        torch.set_num_threads(int(threads))
    results = Path(results or _cache() / "demo_start" / "pretrain_results")
    (r,) = run_baseline(synthetic_cats(**START_DATA), results, shared_knobs=dict(START_MODEL, **START_TRAIN),
                        budget="full", device="cpu", precision="auto", channels_last=True,
                        num_workers=0 if threads == 1 else None)
    if r["status"] != "finished":
        raise SystemExit(f"pretraining ended {r['status']}: {r.get('message')}")
    return pack_start(r)


def pack_start(r: dict) -> dict:
    """Pack a finished pretraining result's best checkpoint into demo/start/ and write its
    provenance: settings, history, sha256s, and the AP of the unpacked copy on its own val
    split and, before any training, on the demo's."""
    from catpose_lib.data.default_data import synthetic_cats
    from catpose_lib.runs.pretrain import evaluate_checkpoint, export_start_checkpoint
    from catpose_lib.recipe.start import sha256_file
    from pack_checkpoint import pack

    work = _cache() / "demo_start"
    plain = export_start_checkpoint(r["checkpoint"], work / f"{START_NAME}.fp32.pth",
                                    dict(name=START_NAME, data=START_DATA, model=START_MODEL, train=START_TRAIN))
    START_PACKED.parent.mkdir(parents=True, exist_ok=True)
    for old in START_PACKED.parent.glob(START_PACKED.name + ".part*"):
        old.unlink()
    parts = pack(plain["path"], str(START_PACKED), part_mb=24)
    record = dict(
        name=START_NAME, rebuild="make demo-start  (= .venv/bin/python scripts/demo.py start-build)",
        data=START_DATA, model=START_MODEL, train=START_TRAIN, speed=r["speed"], seed=r["seed"],
        best=r["best"], final=r["final"],
        history=[{k: h.get(k) for k in ("epoch", "AP", "train_loss", "train_seconds")} for h in r["history"]],
        train_seconds=r["train_seconds"], run_key=r["key"], fp32_sha256=plain["sha256"],
        parts={Path(p).name: dict(sha256=sha256_file(p), bytes=Path(p).stat().st_size) for p in parts},
        transport="int8 per output channel, fp32 scales (scripts/pack_checkpoint.py)",
        provenance=r["provenance"])
    START_PROVENANCE.write_text(json.dumps(record, indent=1) + "\n")
    unpacked = unpack_start(work / f"{START_NAME}.check.pth")
    record["AP_unpacked_own_val"] = evaluate_checkpoint(unpacked, synthetic_cats(**START_DATA), START_MODEL,
                                                        device="cpu")["AP"]
    record["AP_unpacked_demo_val_before_training"] = evaluate_checkpoint(
        unpacked, synthetic_cats(**DEMO_DATA), START_MODEL, device="cpu")["AP"]
    START_PROVENANCE.write_text(json.dumps(record, indent=1) + "\n")
    return record


def unpack_start(out=None) -> Path:
    """The demo start as a plain checkpoint at ``out``, rebuilt from the packed part(s) once."""
    from catpose_lib.recipe.start import sha256_file
    from catpose_lib.errors import CatposeError
    from pack_checkpoint import unpack

    out = Path(out or start_path()).expanduser()
    record = json.loads(START_PROVENANCE.read_text())
    for name, part in record["parts"].items():
        path = START_PACKED.parent / name
        if not path.is_file() or sha256_file(path) != part["sha256"]:
            raise CatposeError(f"demo start: {path} is missing or not the one in {START_PROVENANCE.name} "
                               f"(a Git LFS pointer?); rebuild it with `make demo-start`")
    stamp = Path(f"{out}.parts-sha256")  # the parts it was unpacked from
    want = " ".join(p["sha256"] for p in record["parts"].values())
    if not (out.is_file() and stamp.is_file() and stamp.read_text() == want):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{out}.tmp")
        unpack(str(START_PACKED), tmp)
        tmp.replace(out)
        stamp.write_text(want)
    return out


def runs_start(out=None, whole=None) -> dict:
    """The demo runs' start: the demo start without its output layer (recipe.start.
    checkpoint_without), so that each run learns to read the keypoints out.  ``whole``: where
    the packed start is unpacked (default start_path())."""
    from catpose_lib.recipe.start import checkpoint_without

    return checkpoint_without(unpack_start(whole), Path(out or runs_start_path()).expanduser(), FRESH)


def start_ap_before_training(start, data_root, precision="fp32") -> float:
    """Val AP of the runs' model before its first step: the start, and the output layer as
    every run initialises it (seed 0, MMPose's init), evaluated as the runs validate."""
    import tempfile

    import torch
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmpose.registry import MODELS

    from catpose_lib.recipe.config import build_config
    from catpose_lib.recipe.start import read_state_dict
    from catpose_lib.runs.pretrain import evaluate_checkpoint

    init_default_scope("mmpose")
    set_random_seed(0)
    model = MODELS.build(build_config(data_root, DEMO_MODEL).model)
    model.init_weights()
    model.load_state_dict(read_state_dict(start), strict=False)  # what the file lacks stays as initialised
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "start_before_training.pth"
        torch.save(dict(state_dict=model.state_dict()), path)
        return evaluate_checkpoint(path, data_root, DEMO_MODEL, device="cpu")["AP"]


@contextlib.contextmanager
def lanes(n, data_root, start, precision, log):
    """``n - 1`` helper workers on block 03 beside the notebook (their output to ``log``), one
    thread for every lane, the notebook's kernel included (workers.lanes)."""
    from catpose_lib.workers.lanes import block_workers

    args = ["--data", data_root, "--results", REPO / DEMO_RESULTS, "--base", "baseline", "--protocol", DEMO_PROTOCOL,
            "--start", start, "--device", "cpu", "--precision", precision, "--channels-last",
            "--workers", DEMO_WORKERS, "--set", *[f"{k}={v}" for k, v in DEMO_MODEL.items()]]
    with open(log, "a") as out, block_workers(n, "lr_batch", args, out=out, cwd=REPO) as helpers:
        yield helpers


class _Terminal:
    """What the demo shows, counted: papermill's stdout_file (the kernel's lines) and ours."""

    def __init__(self):
        self.lines, self.ap_printouts = 0, 0

    def write(self, text):
        from catpose_lib.console import say

        self.lines += text.count("\n")
        self.ap_printouts += text.count("Average Precision")
        say(text, end="")

    def flush(self):
        pass


def _lr_effect(runs, base_ap) -> dict:
    """The best run at lr 1e-4 or 5e-4 against the baseline (lr 1e-5)."""
    studied = [r for r in runs if r["lr"] in LR_STUDIED]
    top = max(studied, key=lambda r: r["best_AP"])
    return dict(best_run=top["no"], lr=top["lr"], best_AP=top["best_AP"], baseline_lr=LR_BASELINE,
                baseline_AP=base_ap, difference=top["best_AP"] - base_ap)


def run_demo(precision="auto") -> dict:
    """`make demo`: a fresh results folder, the start's AP before training, the notebook under
    papermill (its progress lines on the terminal), the table, verdict and figures, and the
    record: start AP, precision, wall time and the targets."""
    from datetime import datetime, timezone

    import papermill

    from catpose_lib.commands.table import whole_study_table
    from catpose_lib.console import library_log
    from catpose_lib.data.default_data import synthetic_cats
    from catpose_lib.runs.precision import cpu_bf16_supported

    t0, started = time.time(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    load_start = os.getloadavg()
    terminal = _Terminal()
    with library_log("demo") as log:
        for path in (REPO / DEMO_RESULTS, REPO / DEMO_FIGURES):
            shutil.rmtree(path, ignore_errors=True)
        DEMO_EXECUTED.unlink(missing_ok=True)
        DEMO_EXECUTED.parent.mkdir(parents=True, exist_ok=True)
        start = runs_start()
        params = demo_parameters(start["path"], precision)
        root = synthetic_cats(**DEMO_DATA)
        terminal.write(f"demo: block 03 (lr x batch size, 12 runs + the baseline at lr 1e-5) on {DEMO_DATA['n_train']} "
                       f"train / {DEMO_DATA['n_val']} val easy synthetic cats; ResNet-18 at {DEMO_MODEL['input_size']} px, "
                       f"every run from the demo start with a fresh output layer; protocol '{DEMO_PROTOCOL}'\n")
        start_ap = start_ap_before_training(start["path"], root)
        terminal.write(f"demo: the start scores AP {start_ap:.4f} on the val cats before training; "
                       f"results in {DEMO_RESULTS}/ (cleared), progress below\n")
        with lanes(DEMO_LANES, root, start["path"], precision, log) as helpers:
            papermill.execute_notebook(str(DEMO_NOTEBOOK), str(DEMO_EXECUTED), parameters=params, cwd=str(REPO),
                                       progress_bar=False, stdout_file=terminal, stderr_file=sys.stderr)
        if any(h.returncode for h in helpers):
            raise SystemExit(f"demo: a helper worker failed (exit {[h.returncode for h in helpers]}); see {log}")
        report = json.loads((REPO / DEMO_RESULTS / "reports" / "03_lr_batch.json").read_text())
        runs = [dict(no=r["no"], lr=_run_lr(r["no"]), best_AP=r["best"]["AP"] if r.get("best") else 0.0)
                for r in report["runs"]]
        best = max(runs, key=lambda r: r["best_AP"])
        baseline = json.loads((REPO / DEMO_RESULTS / "baseline" / "00_s0.json").read_text())
        precisions = sorted({json.loads(p.read_text())["speed"]["precision"]
                             for p in (REPO / DEMO_RESULTS).glob("*/*_s0.json")})
        terminal.write("\n" + whole_study_table(REPO / DEMO_RESULTS).to_string(index=False) + "\n\n")
        terminal.write(f"verdict: {report['verdict']['text']}\n")
        figures = [Path(p) for p in report["figures"].values()]
        terminal.write(f"figures: {_shown(figures[0].parent)}/ ({', '.join(p.name for p in figures)}); "
                       f"notebook: {_shown(DEMO_EXECUTED)}\n")
        lr_effect = _lr_effect(runs, report["base_AP"])
        wall = round(time.time() - t0, 1)
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        record = dict(
            command="make demo  (= .venv/bin/python scripts/demo.py run)", started=started,
            ended=datetime.now(timezone.utc).isoformat(timespec="seconds"), wall_seconds=wall,
            cpu_seconds=round(sum(u.ru_utime + u.ru_stime for u in usage), 1),
            load_average=dict(start=[round(x, 2) for x in load_start], end=[round(x, 2) for x in os.getloadavg()]),
            machine=dict(cpus=os.cpu_count(), processor=_cpu_name(), platform=platform.platform(),
                         OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS"), cpu_bf16=cpu_bf16_supported(),
                         lanes=DEMO_LANES),
            precision=precisions[0] if len(precisions) == 1 else precisions, parameters=params,
            start=dict(packed=json.loads(START_PROVENANCE.read_text())["parts"], path=start["path"],
                       sha256=start["sha256"], fresh=start["dropped"], AP_before_training=start_ap),
            runs=runs, best=dict(no=best["no"], best_AP=best["best_AP"]), best_AP=best["best_AP"],
            gain_over_start=best["best_AP"] - start_ap, baseline_AP=report["base_AP"],
            baseline_epochs=baseline["max_epochs"], lr_effect=lr_effect, verdict=report["verdict"]["text"],
            terminal=dict(lines=terminal.lines + 2, average_precision_printouts=terminal.ap_printouts),
            log=str(log), target=TARGET)
        record["target_met"] = dict(
            wall_seconds=wall <= TARGET["wall_seconds"], best_AP=best["best_AP"] >= TARGET["best_AP"],
            gain_over_start=record["gain_over_start"] >= TARGET["gain_over_start"],
            lr_effect=lr_effect["difference"] >= TARGET["lr_effect"],
            terminal=record["terminal"]["lines"] < TARGET["terminal_lines"] and not terminal.ap_printouts)
        (REPO / DEMO_RESULTS / "demo_run.json").write_text(json.dumps(record, indent=1) + "\n")
        terminal.write(f"demo: {wall / 60:.1f} min ({record['precision']}); best AP {best['best_AP']:.3f} (run "
                       f"{best['no']:02d}) from {start_ap:.3f} before training; lr {lr_effect['lr']:g} beats lr 1e-5 "
                       f"by {lr_effect['difference']:+.3f}; record {DEMO_RESULTS}/demo_run.json\n")
    return record


def _shown(path) -> str:
    """``path`` relative to the project when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _run_lr(no) -> float:
    from catpose_lib.recipe.experiments import get_experiment

    return get_experiment(no).knobs.get("lr", LR_BASELINE)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                   help="auto: bf16 where the CPU has native bf16 (AVX512-BF16 / AMX), else fp32; "
                        "fp32 to time it as on a CPU without")
    b = sub.add_parser("start-build")
    b.add_argument("--results", default=None, help="pretraining results folder (resumable)")
    b.add_argument("--threads", type=int, default=None, help="torch threads (1 on a busy machine)")
    u = sub.add_parser("start-unpack")
    u.add_argument("out", nargs="?", default=None)
    sub.add_parser("params")
    args = p.parse_args(argv)
    if args.cmd == "run":
        run_demo(args.precision)
    elif args.cmd == "start-build":
        record = build_start(args.results, args.threads)
        print(f"demo start: best AP {record['best']['AP']:.4f} (epoch {record['best']['epoch']}); "
              f"{', '.join(record['parts'])} in {START_PACKED.parent}")
    elif args.cmd == "start-unpack":
        print(unpack_start(args.out))
    else:
        print(json.dumps(demo_parameters(runs_start_path()), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
