"""The starts compared (issue: ImageNet weights): each backbone's start -- cross-species from
scratch (ResNet-50, HRNet-W32), EfficientNet-Lite2 from ImageNet alone, and ImageNet -> the
other animals -- fine-tuned on the real cats at block 05's recipe (192 / 48 px, lr 5e-4, 6
epochs under protocol cpu), three seeds each, with its compute (pretraining + fine-tuning
thread-hours) and its zero-shot AP on the cats' val split.  Read from a study's results folder:
the pretraining runs (``pretrain/9N_s0.json``) and the fine-tuning runs of blocks 04-05."""
import json
from pathlib import Path

import pandas as pd

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.recipe.experiments import BLOCKS
from catpose_lib.report.drawing import figure, save
from catpose_lib.report.verdict import compare, finished_runs, seed_noise
from catpose_lib.runs.results import FINISHED, compute_seconds, load_block_results, read_result, result_path

# (label, fine-tuning run: block, no; its start: pretraining run no or None; the start's origin)
STARTS = (
    ("ResNet-50, cross-species from scratch", ("resolution", 22), 91, "other animals"),
    ("HRNet-W32, cross-species from scratch", ("backbone", 30), 92, "other animals"),
    ("EfficientNet-Lite2, ImageNet alone", ("backbone", 36), None, "ImageNet (package weights)"),
    ("EfficientNet-Lite2, ImageNet -> other animals", ("backbone", 35), 94, "ImageNet -> other animals"),
)
SEEDS = (0, 1, 2)
# the columns a reader is shown (the table command, the report); the JSON keeps them all
SHOWN = ("start", "run", "seeds", "best_AP", "best_AP_sd", "zero_shot_AP", "pretrain_epochs", "pretrain_hours",
         "finetune_hours")


def shown_columns(table: pd.DataFrame) -> list:
    """:data:`SHOWN` and each difference to a study start with its interval."""
    return [c for c in SHOWN if c in table] + [c for c in table if c.startswith("vs ") and not c.endswith("kind")]


# each start is compared with the study's two starts (the fine-tuning runs of blocks 04 / 05)
VERSUS = (("ResNet-50 start", ("resolution", 22)), ("HRNet-W32 start", ("backbone", 30)))


def starts_table(results_dir) -> pd.DataFrame:
    """One row per start: fine-tuned val AP (mean, sd, seeds) on ground-truth boxes, zero-shot AP,
    pretraining and fine-tuning thread-hours, and the difference to the study's two starts with its
    95% interval (report.verdict.compare: seed noise pooled over the study, the paired val
    bootstrap where both runs kept val predictions); a pretraining stopped early (status ``stopped``, its
    start the last epoch's weights) counts the epochs it trained and says so in ``pretrain_note``."""
    rows = []
    blocks = {b: load_block_results(results_dir, b) for b in BLOCKS}
    noise = seed_noise(blocks)
    versus = {name: finished_runs(blocks[b], no) for name, (b, no) in VERSUS}
    for label, (block, no), pre_no, origin in STARTS:
        runs = [r for seed, r in sorted(finished_runs(blocks[block], no).items()) if seed in SEEDS]
        diffs = {}
        for name, other in versus.items():  # no seed picked a start: every seed is unselected
            if (block, no) == dict(VERSUS)[name] or not runs or not other:
                continue
            c = compare({r["seed"]: r for r in runs}, other, picked=[], noise=noise, results_dir=results_dir)
            iv = c["interval"]
            diffs[f"vs {name}"] = None if c["difference"] is None else round(c["difference"], 4)
            diffs[f"vs {name} 95% interval"] = (None if iv.get("low") is None
                                                 else [round(iv["low"], 4), round(iv["high"], 4)])
            diffs[f"vs {name} interval kind"] = iv.get("kind")
        pre = read_result(result_path(results_dir, "pretrain", pre_no, 0)) if pre_no else None
        aps = pd.Series([r["best"]["AP"] for r in runs], dtype=float)
        rows.append(dict(
            start=label, origin=origin, run=no, seeds=len(runs),
            best_AP=round(aps.mean(), 4) if len(aps) else None,
            best_AP_sd=round(aps.std(), 4) if len(aps) > 1 else None,
            seed_APs=[round(a, 4) for a in aps],
            zero_shot_AP=round((pre.get("zero_shot") or {}).get("AP", float("nan")), 4) if pre else 0.0,
            pretrain_hours=round(compute_seconds(pre) / 3600, 2) if pre else 0.0,
            finetune_hours=round(sum(compute_seconds(r) for r in runs) / max(1, len(runs)) / 3600, 2),
            pretrain_epochs=(pre.get("epochs_done") or pre.get("max_epochs")) if pre else 0,
            pretrain_note=(pre.get("message") or "") if pre and pre.get("status") != FINISHED else "",
            **diffs))
    return pd.DataFrame(rows)


def starts_figure(table: pd.DataFrame, out) -> Path:
    """Fine-tuned val AP (mean +- sd over seeds) against the start's compute (pretraining + one
    fine-tuning, thread-hours), one point per start."""
    fig = figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    done = table.dropna(subset=["best_AP"])
    for _, r in done.iterrows():
        hours = r["pretrain_hours"] + r["finetune_hours"]
        ax.errorbar(hours, r["best_AP"], yerr=r["best_AP_sd"] or 0, fmt="o", capsize=4,
                    label=f"{r['start']} ({r['seeds']} seeds)")
    ax.set_xlabel("compute of the start + one fine-tuning, thread-hours (2-core CPU)")
    ax.set_ylabel("val mAP, ground-truth boxes (mean ± sd)")
    ax.set_title("Starts compared at block 05's recipe (protocol cpu, 6 epochs)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return save(fig, out)


def compare_starts(results_dir, figure=None) -> dict:
    """``RESULTS/starts.json`` and, given its path, the figure (``FIGURES/starts.png`` in the
    report); returns the table and paths."""
    table = starts_table(results_dir)
    out = Path(results_dir) / "starts.json"
    atomic_write_text(out, json.dumps(json.loads(table.to_json(orient="records")), indent=1))
    fig = starts_figure(table, figure) if figure else None
    return dict(table=table, json=out, figure=fig)
