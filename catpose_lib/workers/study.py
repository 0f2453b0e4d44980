"""The whole study in one resumable command (``make study``, ``python -m catpose_lib study``):
the data imported, the start of each backbone the protocol needs (those missing: pretrained on
the other animals), then the notebooks in order with papermill, each skipped when its record says
every run finished.  Before any of it, the time it expects on this machine, from a measured
training throughput (machines with and without bf16 differ about 3x).

Lanes: with ``lanes`` > 1 every process uses one thread; a block's notebook is one lane and
``lanes - 1`` more ``run BLOCK`` workers on the same results folder take the runs it has not
taken (workers.grid: each run is trained once); the starts are pretrained side by side.
"""
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from catpose_lib import zoo
from catpose_lib.console import say, terminal
from catpose_lib.data.default_data import course_layout_root
from catpose_lib.data.layout import annotation_path
from catpose_lib.recipe.config import build_config
from catpose_lib.recipe.experiments import BLOCK_NUMBERS
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.recipe.protocols import epoch_cost, study_cost
from catpose_lib.recipe.starts import PRETRAIN_BUDGET
from catpose_lib.report.record import notebook_done
from catpose_lib.runs.precision import apply_speed_options
from catpose_lib.workers.lanes import block_workers, one_thread_per_lane

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
BLOCK_NOTEBOOKS = tuple(f"{n}_{b}" for b, n in BLOCK_NUMBERS.items())
# one pretraining epoch of the other animals (4,113 train + 500 val instances) against one
# baseline epoch of the cats (1,106 + 137), both at the start's own resolution and model
OTHERS_EPOCH_RATIO = (4113 + 500) / (1106 + 137)


def measure_epoch_seconds(data_root, device="cpu", precision="auto", iters=6, warmup=2, threads=None) -> dict:
    """Seconds of one baseline epoch (ResNet-50 at 128 px, training + validation) on ``data_root``
    on this machine, from ``iters`` timed training iterations of batch 32 (validation counted as
    a third of a training pass per instance, as measured on the real cats)."""
    if threads:
        torch.set_num_threads(int(threads))
    stamps = []

    class Stamp(Hook):
        priority = "LOWEST"

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            stamps.append((time.perf_counter(), len(data_batch["data_samples"])))

    with tempfile.TemporaryDirectory(prefix="catpose-measure-") as work:
        cfg = build_config(data_root, {}, device=device, work_dir=work, num_workers=1)
        speed = apply_speed_options(cfg, device, precision, True)
        cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=iters + warmup, val_interval=10**9)
        cfg.param_scheduler = []
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
        cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=10**9, save_last=False)
        cfg.default_hooks.logger = dict(type="LoggerHook", interval=10**6)
        cfg.log_level = "ERROR"
        cfg.experiment_name = f"measure-{time.time_ns()}"
        cfg.visualizer.name = cfg.experiment_name
        runner = Runner.from_cfg(cfg)
        runner.register_hook(Stamp())
        runner.train()
    timed = stamps[warmup:]
    samples_per_s = sum(n for _, n in timed) / (timed[-1][0] - stamps[warmup - 1][0])
    ann = json.loads(annotation_path(data_root, "train").read_text())
    val = json.loads(annotation_path(data_root, "val").read_text())
    n_train, n_val = len(ann["annotations"]), len(val["annotations"])
    seconds = (n_train + n_val / 3) / samples_per_s
    return dict(samples_per_s=round(samples_per_s, 2), seconds_per_epoch=round(seconds, 1),
                precision=speed["precision"], threads=torch.get_num_threads(), device=device)


def starts_to_build(settings) -> list:
    """The backbones whose start the settings name but which is not on disk yet."""
    return [b for b, path in settings.starts.items() if not Path(path).is_file() and not zoo.is_model(path)]


def estimate(settings, seconds_per_epoch: float, missing=(), lanes=1):
    """Hours of the study (recipe.protocols.study_cost) and of the missing starts' pretraining,
    per step, and the wall time with ``lanes`` lanes of one thread (a lane is assumed half as fast
    as the two-thread measurement, and lanes share the work evenly)."""
    import pandas as pd

    table = study_cost(settings, seconds_per_epoch)
    rows = []
    for backbone in missing:
        budget = PRETRAIN_BUDGET[settings.protocol or "full"][backbone]
        epochs = 100 if budget == "full" else 100 * float(budget)
        size = 192 if backbone.startswith("efficientnet") else 128
        hours = epochs * epoch_cost(backbone, size) * OTHERS_EPOCH_RATIO * seconds_per_epoch / 3600
        rows.append(dict(block=f"start {backbone}", runs=1, epochs=epochs, hours=round(hours, 2)))
    if rows:
        table = pd.concat([pd.DataFrame(rows), table[table["block"] != "total"]], ignore_index=True)
        table.loc[len(table)] = dict(block="total", runs=table["runs"].sum(), epochs=table["epochs"].sum(),
                                     hours=table["hours"].sum())
    total = float(table.loc[table["block"] == "total", "hours"].iloc[0])
    wall = total if lanes <= 1 else total * 2 / lanes  # one thread runs at about half of two
    return table[["block", "runs", "epochs", "hours"]], round(wall, 1)


def _pretrain(backbones, others, cats, results, settings, device, lanes, log):
    """The missing starts, ``lanes`` at a time, one thread each (``pretrain`` is resumable)."""
    procs, pending = [], list(backbones)
    with one_thread_per_lane(lanes):  # the pretraining processes inherit it
        while pending or procs:
            while pending and len(procs) < max(1, lanes):
                b = pending.pop(0)
                cmd = [sys.executable, "-m", "catpose_lib", "pretrain", "--data", str(others), "--zero-shot",
                       str(cats), "--results", str(results), "--backbone", b, "--device", device,
                       "--budget", PRETRAIN_BUDGET[settings.protocol or "full"][b],
                       "--out", str(Path(settings.starts[b]).parent)]
                log(f"[study] pretraining the start of {b}: {' '.join(cmd[1:])}")
                procs.append((b, subprocess.Popen(cmd)))
            time.sleep(5)
            for b, p in list(procs):
                if p.poll() is not None:
                    procs.remove((b, p))
                    if p.returncode:
                        raise RuntimeError(f"pretraining the start of {b} failed (exit {p.returncode})")


def _notebook(name, results, params, lanes, log, block=None, run_args=()):
    out = results / "notebooks" / f"{name}.ipynb"
    if notebook_done(results, name) and out.exists():
        log(f"[study] {name}: every run finished before: not executed again")
        return
    log(f"[study] {name}: executing into {out}")
    import papermill as pm

    out.parent.mkdir(parents=True, exist_ok=True)
    with block_workers(lanes if block else 1, block, run_args):  # more workers on the block's runs
        pm.execute_notebook(str(NOTEBOOKS_DIR / f"{name}.ipynb"), str(out), parameters=params, kernel_name="python3",
                            progress_bar=False, stdout_file=terminal(), stderr_file=sys.stderr,
                            cwd=str(NOTEBOOKS_DIR.parent))  # the kernel's progress lines on the terminal


def run_study(data, others, results="results/real_cats", figures="figures/real_cats", protocol="cpu",
              device="auto", lanes=2, test_root=None, estimate_only=False, log=say) -> dict:
    """Everything ``make study`` does, in order; every step is skipped when done, so a killed
    study resumes where it stopped.  Returns the estimate and what ran."""
    p = check_run_parameters(device=device, protocol=protocol)
    settings = p["settings"]
    device = "cuda" if device == "auto" and _cuda() else ("cpu" if device == "auto" else device)
    cats = course_layout_root(data)
    others_root = course_layout_root(others, one_category="animal") if others else None
    missing = starts_to_build(settings)
    if missing and not others_root and not estimate_only:
        raise ValueError(f"the starts of {', '.join(missing)} are missing and no --others data was given to "
                         f"pretrain them (the other animals, e.g. ../shared/datasets/animalpose_others)")
    measured = measure_epoch_seconds(cats, device, threads=None)
    table, wall = estimate(settings, measured["seconds_per_epoch"], missing, lanes)
    log(f"[study] measured on this machine ({device}, {measured['precision']}, {measured['threads']} threads): "
        f"{measured['samples_per_s']} samples/s, a baseline epoch ~{measured['seconds_per_epoch']:.0f} s")
    log(table.to_string(index=False))
    log(f"[study] expected: {float(table['hours'].iloc[-1]):.1f} thread-hours at that speed, about {wall:.1f} h of "
        f"wall time with {lanes} lane(s); resumable: run the same command again after an interruption")
    if estimate_only:
        return dict(measured=measured, estimate=table, wall_hours=wall)
    results, figures = Path(results), Path(figures)
    if missing:
        _pretrain(missing, others_root, cats, results, settings, device, lanes, log)
    common = dict(data_root=str(cats), results_dir=str(results.resolve()), figures_dir=str(figures.resolve()),
                  device=device)
    if lanes > 1:
        common["num_workers"] = 1
    _notebook("00_dataset", results, dict(data_root=str(cats), results_dir=common["results_dir"],
                                          figures_dir=common["figures_dir"]), 1, log)
    run_params = dict(common, **({"protocol": settings.protocol} if settings.protocol else {}))
    run_args = ["--data", cats, "--results", results, "--device", device, "--workers", "1",
                *(["--protocol", settings.protocol] if settings.protocol else [])]
    for name in BLOCK_NOTEBOOKS:
        _notebook(name, results, run_params, lanes, log, block=name.split("_", 1)[0], run_args=run_args)
    final = dict(run_params, **({"test_root": str(Path(test_root).resolve())} if test_root else {}))
    _notebook("07_final_report", results, final, 1, log)
    return dict(measured=measured, estimate=table, wall_hours=wall, settings=asdict(settings))


def _cuda() -> bool:
    return torch.cuda.is_available()
