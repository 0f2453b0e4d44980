"""Notebook pretrain: pretrain the backbones on the other animals, then a table (held-out
AP, zero-shot AP on the cats, start checkpoint and its sha256) and the held-out AP curves."""
import statistics
from pathlib import Path

import pandas as pd

from catpose_lib.console import logged
from catpose_lib.report.drawing import figure, save
from catpose_lib.report.record import write_report_record
from catpose_lib.runs.pretrain import pretrain_backbones


def pretrain_table(results: list):
    rows = []
    for r in results:
        sc, zs = r.get("start_checkpoint") or {}, r.get("zero_shot") or {}
        # the median: an epoch slowed by other work on the machine (a resumed run's) is not typical
        spe = [h["train_seconds"] for h in r.get("history", []) if h.get("train_seconds")]
        rows.append({"backbone": r["parameter"], "status": r["status"], "epochs": r["max_epochs"],
                     "held-out best (epoch: AP)": f"{r['best']['epoch']}: {r['best']['AP']:.4f}" if r.get("best") else "",
                     "zero-shot cats val AP": zs.get("AP"), "s / epoch (median)": round(statistics.median(spe), 1) if spe else None,
                     "device": r["provenance"].get("device_name", r["provenance"]["device"]),
                     "start checkpoint": sc.get("path"), "sha256": (sc.get("sha256") or "")[:16]})
    return pd.DataFrame(rows)


def plot_pretrain_curves(results: list, path):
    import seaborn as sns

    rows = [dict(backbone=r["parameter"].split(" on ")[0], epoch=h["epoch"], AP=h["AP"])
            for r in results for h in r.get("history", []) if h.get("AP") is not None]
    fig = figure(6.5, 3.8)
    ax = fig.subplots()
    if rows:
        sns.lineplot(data=pd.DataFrame(rows), x="epoch", y="AP", hue="backbone", marker="o", ax=ax)
    ax.set_title("Pretraining on other animals: AP on their held-out split")
    return save(fig, path, dpi=110)


@logged("00_pretrain")
def run_pretrain_report(data, results_dir, figures_dir, zero_shot=None, backbones=("resnet50", "hrnet_w32"),
                        out_dir=None, budget="full", seed=0, device="auto", shared_knobs=None, **run_options) -> dict:
    done = pretrain_backbones(data, results_dir, backbones=backbones, zero_shot=zero_shot, budget=budget,
                              device=device, shared_knobs=shared_knobs, out_dir=out_dir, seed=seed, **run_options)
    others, cats, results = done["data_root"], done["zero_shot_root"], done["results"]

    figure = plot_pretrain_curves(results, Path(figures_dir) / "pretrain" / "heldout_ap.png")
    table = pretrain_table(results)
    record = write_report_record(results_dir, "pretrain", data_root=str(others), table=table,
                                 figures=dict(heldout_ap=figure),
                                 runs=[dict(backbone=b, status=r["status"], best=r.get("best"),
                                            zero_shot=r.get("zero_shot"), start_checkpoint=r.get("start_checkpoint"))
                                       for b, r in zip(done["backbones"], results)])
    return dict(data_root=str(others), zero_shot_root=str(cats) if cats else None, results=results,
                table=table, figures=dict(heldout_ap=figure), record=record)
