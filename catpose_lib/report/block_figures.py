"""Figures of one block: AP per run (bars, error bars over seeds), AP-vs-epoch and loss curves
(seaborn on report.drawing's plain Figures: no pyplot backend switch in a user's kernel)."""
from pathlib import Path

from catpose_lib.report.drawing import figure, save


def history_frame(results: list):
    """Long table: one row per (run, seed, validation epoch)."""
    import pandas as pd

    rows = []
    for r in results:
        for h in r.get("history") or []:
            rows.append(dict(no=r["no"], run=f"{r['no']:02d} {r['parameter']}", seed=r["seed"],
                             status=r["status"], **h))
    return pd.DataFrame(rows)


def plot_ap_per_run(results: list, base_ap=None):
    """Best AP per run; error bars (sd) when several seeds; failed runs shown as 0 with their status."""
    import pandas as pd
    import seaborn as sns

    rows = [dict(run=f"{r['no']:02d}", label=f"{r['no']:02d} {r['parameter']}",
                 AP=(r.get("best") or {}).get("AP") or 0.0, status=r["status"]) for r in results]
    frame = pd.DataFrame(rows)
    fig = figure(max(5, 0.7 * frame["run"].nunique() + 2), 4)
    ax = fig.subplots()
    sns.barplot(data=frame, x="run", y="AP", errorbar="sd", color="#4c72b0", ax=ax)
    for i, run in enumerate(frame["run"].unique()):
        statuses = set(frame.loc[frame["run"] == run, "status"]) - {"finished"}
        if statuses:
            ax.text(i, 0.01, "\n".join(sorted(statuses)), rotation=90, ha="center", va="bottom", fontsize=7)
    if base_ap is not None:
        ax.axhline(base_ap, color="grey", ls="--", lw=1, label=f"base {base_ap:.3f}")
        ax.legend(loc="upper right")
    ax.set_ylabel("best val mAP (OKS)")
    ax.set_xlabel("run")
    ax.set_ylim(0, max(0.05, float(frame["AP"].max()) * 1.25))
    ax.set_title("mAP per run")
    return fig


def plot_curves(results: list, y="AP", ylabel="val mAP", base_results=(), base_name="base"):
    """One curve per run (mean and sd over seeds); the base's runs, given, as a grey dashed curve."""
    import seaborn as sns

    frame = history_frame(results)
    base = history_frame(list(base_results))
    fig = figure(7, 4)
    ax = fig.subplots()
    if not base.empty and base[y].notna().any():
        sns.lineplot(data=base, x="epoch", y=y, errorbar="sd", color="grey", ls="--", marker="s",
                     label=f"base: {base_name}", ax=ax)
    if not frame.empty and frame[y].notna().any():
        sns.lineplot(data=frame, x="epoch", y=y, hue="run", errorbar="sd", marker="o", ax=ax)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    if y == "train_loss":
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel} per epoch")
    return fig


def save_block_figures(results: list, figures_dir, block: str, base_ap=None, base_results=(),
                       base_name="base") -> dict:
    """Write ap_per_run.png, ap_curves.png, loss_curves.png under figures_dir/<block>/; the
    curves with the base's (``base_results``: its runs, when measured)."""
    out = Path(figures_dir) / block
    out.mkdir(parents=True, exist_ok=True)
    base = dict(base_results=base_results, base_name=base_name)
    figs = dict(ap_per_run=plot_ap_per_run(results, base_ap),
                ap_curves=plot_curves(results, "AP", "val mAP", **base),
                loss_curves=plot_curves(results, "train_loss", "mean train loss", **base))
    return {name: save(fig, out / f"{name}.png", dpi=110) for name, fig in figs.items()}
