"""Figures of one block, each showing the comparison the block makes: every run against the
base it started from (dashed), mean over seeds with a labelled +-1 sd band, titles naming the
block, the protocol and the metric.  Plain matplotlib Figures (report.drawing): no pyplot
backend switch in a user's kernel."""
from pathlib import Path

import numpy as np
import pandas as pd

from catpose_lib.recipe.experiments import BLOCK_NUMBERS
from catpose_lib.report.drawing import figure, save
from catpose_lib.runs.results import FINISHED

METRIC = "val AP (COCO OKS, ground-truth boxes)"
BASE_COLOR = "#444444"


def history_frame(results: list):
    """Long table: one row per (run, seed, validation epoch)."""
    rows = []
    for r in results:
        for h in r.get("history") or []:
            rows.append(dict(no=r["no"], run=f"{r['no']:02d} {r['parameter']}", seed=r["seed"],
                             status=r["status"], heatmap=heatmap_size(r), **h))
    return pd.DataFrame(rows)


def heatmap_size(result: dict):
    """The run's heatmap size in px (its knobs, then the protocol's), None for the config's default."""
    knobs = {**(result.get("knobs") or {}), **(result.get("shared_knobs") or {})}
    return knobs.get("heatmap_size")


def protocol_of(results: list) -> str:
    """'protocol cpu' / 'budget 0.05': what the block's runs were trained under."""
    for r in results:
        if r.get("protocol"):
            return f"protocol {r['protocol']}"
    budgets = sorted({str(r.get("budget")) for r in results if r.get("budget") is not None})
    return f"budget {', '.join(budgets)}" if budgets else "protocol unknown"


def block_title(block: str, results: list, what: str) -> str:
    number = BLOCK_NUMBERS.get(block)
    return f"{f'Block {number} ' if number else ''}{block}: {what} ({protocol_of(results)})"


def _palette(n):
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _mean_sd(values):
    """Mean and sample sd (0 for one value) of a run's seeds."""
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _mean_band(frame, y):
    g = frame.groupby("epoch")[y]
    return g.mean(), g.std(), g.count()


def plot_ap_per_run(results: list, base_runs=None, base_name="base", block=""):
    """Best val AP per run as dots (seeds as small dots, mean +- sd as a bar), the base's mean as
    a dashed line with its +-sd band, on an axis fitted to the values (not from 0)."""
    fig = figure(max(6, 0.55 * len({r["no"] for r in results}) + 3), 4.2)
    ax = fig.subplots()
    nos = sorted({r["no"] for r in results})
    labels = []
    for i, no in enumerate(nos):
        runs = [r for r in results if r["no"] == no]
        aps = [r["best"]["AP"] for r in runs if r["status"] == FINISHED and r.get("best")]
        labels.append(f"{no:02d}")
        if not aps:
            status = next(r["status"] for r in runs)
            ax.annotate(status, (i, 0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                        textcoords="offset points", rotation=90, ha="center", va="bottom", fontsize=7)
            continue
        ax.scatter([i] * len(aps), aps, s=12, color="#9bb7d4", zorder=2)
        mean, sd = _mean_sd(aps)
        ax.errorbar([i], [mean], yerr=[sd] if len(aps) > 1 else None, fmt="o", color="#1f4e79", capsize=4,
                    ms=6, zorder=3)
    if base_runs:
        base = [r["best"]["AP"] for r in base_runs]
        mean, sd = _mean_sd(base)
        ax.axhline(mean, color=BASE_COLOR, ls="--", lw=1.2,
                   label=f"base {base_name}: {mean:.3f}" + (f" ± {sd:.3f} sd ({len(base)} seeds)" if sd else ""))
        if sd:
            ax.axhspan(mean - sd, mean + sd, color=BASE_COLOR, alpha=0.12, label="base ± 1 sd over seeds")
    ax.scatter([], [], s=12, color="#9bb7d4", label="one seed")
    ax.errorbar([], [], yerr=[], fmt="o", color="#1f4e79", capsize=4, label="mean ± 1 sd over seeds")
    ax.legend(fontsize=7, loc="best")
    ax.set_xticks(range(len(nos)), labels)
    ax.set_xlabel("run")
    ax.set_ylabel(f"best {METRIC}", fontsize=8)
    ax.set_title(block_title(block, results, "best val AP per run, against the base"), fontsize=9)
    ax.margins(y=0.15)
    return fig


def _with_heatmap(frame, size):
    if frame.empty:
        return frame
    return frame[frame["heatmap"].isna()] if size is None else frame[frame["heatmap"] == size]


def _curve(ax, frame, y, color, label, dashed=False):
    mean, sd, count = _mean_band(frame, y)
    ax.plot(mean.index, mean.values, ls="--" if dashed else "-", marker="o", ms=3, color=color, label=label)
    several = count > 1
    if several.any():
        ax.fill_between(mean.index[several], (mean - sd)[several], (mean + sd)[several], color=color, alpha=0.15)


def plot_curves(results: list, base_runs=None, base_name="base", block="", y="AP"):
    """Per run, the mean over its seeds per epoch with a +-1 sd band (where it has several seeds),
    and the base's curve dashed.  ``y`` AP (one axis) or train_loss (one panel per heatmap size:
    the losses of different heatmap sizes are not on one scale)."""
    frame = history_frame(results)
    base = history_frame(base_runs or [])
    if y == "AP":
        groups = [(None, frame, base)]
    else:
        sizes = {None if h != h else h for part in (frame, base) if not part.empty for h in part["heatmap"]}
        groups = [(h, _with_heatmap(frame, h), _with_heatmap(base, h))
                  for h in sorted(sizes or {None}, key=lambda h: (h is None, h or 0))]
    fig = figure(7.5 if len(groups) == 1 else 5.2 * len(groups), 4.4)
    axes = np.atleast_1d(fig.subplots(1, len(groups), squeeze=False)[0])
    runs = sorted(frame["run"].unique()) if not frame.empty else []
    colors = dict(zip(runs, _palette(len(runs))))
    for ax, (size, part, base_part) in zip(axes, groups):
        for run in runs:
            sub = part[part["run"] == run]
            if not sub.empty and sub[y].notna().any():
                _curve(ax, sub, y, colors[run], run)
        if not base_part.empty and base_part[y].notna().any():
            _curve(ax, base_part, y, BASE_COLOR, f"base {base_name}", dashed=True)
        if y == "train_loss":
            ax.set_yscale("log")
            ax.set_title(f"heatmap {size} px" if size else "heatmap: the config's default size", fontsize=8)
        ax.set_xlabel("epoch")
        ax.set_ylabel(METRIC if y == "AP" else "mean train loss (heatmap MSE)", fontsize=8)
    from matplotlib.patches import Patch

    legend = {}  # each label once, in the order the panels first show it
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, h)
    legend["shaded: ± 1 sd over seeds"] = Patch(color="grey", alpha=0.25)
    axes[-1].legend(list(legend.values()), list(legend.keys()), fontsize=6.5, loc="best")
    what = ("val AP per epoch (COCO OKS, ground-truth boxes)" if y == "AP" else
            "train loss per epoch, one panel per heatmap size")
    fig.suptitle(block_title(block, results, what), fontsize=9)
    return fig


def save_block_figures(results: list, figures_dir, block: str, base_runs=None, base_name="base") -> dict:
    """Write ap_per_run.png, ap_curves.png, loss_curves.png under figures_dir/<NN_block>/ (or
    figures_dir/<block>/ for a block outside the study's numbering)."""
    number = BLOCK_NUMBERS.get(block)
    out = Path(figures_dir) / (f"{number}_{block}" if number else block)
    out.mkdir(parents=True, exist_ok=True)
    common = dict(base_runs=base_runs, base_name=base_name, block=block)
    figs = dict(ap_per_run=plot_ap_per_run(results, **common),
                ap_curves=plot_curves(results, y="AP", **common),
                loss_curves=plot_curves(results, y="train_loss", **common))
    return {name: save(fig, out / f"{name}.png", dpi=110) for name, fig in figs.items()}
