"""The final model on val, from its kept val predictions alone (no checkpoint): AP with its
bootstrap interval over the val images, per-keypoint PCK with intervals, the left / right
swap rate, the failure cases, and the figures (overlays with a colour key, failures on one
extent, PCK as dots with intervals).  Notebook 07 and ``make report`` both call
:func:`analyse_val_predictions`; it writes ``RESULTS/final_val_analysis.json``."""
import json
from pathlib import Path

import pandas as pd

from catpose_lib.data.layout import annotation_path, atomic_write_text, by_image, same_boxes
from catpose_lib.report.bootstrap import ap_interval, image_evals
from catpose_lib.report.drawing import figure, save
from catpose_lib.report.keypoint_eval import by_annotation, per_instance_oks, per_keypoint_error, swap_rate
from catpose_lib.report.overlays import comparison_grid
from catpose_lib.report.record import plain
from catpose_lib.runs.results import result_path, val_predictions_path
from catpose_lib.schemes import load_scheme

ANALYSIS_JSON = "final_val_analysis.json"
PCK_THRESHOLD = 0.1


FINAL_VAL_KEYPOINTS = "final_val_keypoints.json"  # notebook 07: the final model's val predictions, when
BASELINE_VAL_KEYPOINTS = "baseline_val_keypoints.json"  # its run kept none (runs before the val predictions)


def kept_val_predictions(results_dir, run: dict):
    """A run's own kept val predictions (``NN_sS.val.json``, its best epoch's), or None."""
    kept = val_predictions_path(result_path(results_dir, run["block"], run["no"], run["seed"]))
    return kept if kept.is_file() else None


def final_val_predictions(results_dir, final: dict, data_root=None):
    """The final model's val predictions: its run's kept ``NN_sS.val.json``, else notebook 07's
    ``final_val_keypoints.json``, else ``result_keypoints.json`` when the data's test_info.json
    boxes are its val boxes (the Animal-Pose course layout).  None when none of them is there."""
    kept = kept_val_predictions(results_dir, final)
    if kept:
        return kept
    if (Path(results_dir) / FINAL_VAL_KEYPOINTS).is_file():
        return Path(results_dir) / FINAL_VAL_KEYPOINTS
    fallback = Path(results_dir) / "result_keypoints.json"
    if data_root and fallback.is_file() and same_boxes(annotation_path(data_root, "test"),
                                                        annotation_path(data_root, "val")):
        return fallback
    return None


def model_of(run: dict) -> dict:
    """What an analysis is of: the run's no, seed, parameter, recorded best AP and block."""
    return dict(no=run["no"], seed=run["seed"], parameter=run["parameter"], AP=run["best"]["AP"], block=run["block"])


def pck_figure(table, out, title):
    """PCK per keypoint as dots with their 95% intervals, sorted, on a 0-1 axis."""
    col = f"PCK@{PCK_THRESHOLD:g}"
    t = table.dropna(subset=[col]).sort_values(col)
    fig = figure(7.5, 0.26 * len(t) + 1.6)
    ax = fig.subplots()
    y = range(len(t))
    ax.errorbar(t[col], y, xerr=[t[col] - t["PCK_low"], t["PCK_high"] - t[col]], fmt="o", color="#1f4e79",
                capsize=3, ms=4, label="PCK, 95% Wilson interval")
    ax.set_yticks(list(y), [f"{k} ({n})" for k, n in zip(t.index, t["labelled"])], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"PCK@{PCK_THRESHOLD:g} of the box size (val, ground-truth boxes); (n) = labelled cats", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, out, dpi=110)


def analyse_val_predictions(data_root, predictions, scheme, figures_dir, results_dir, model: dict,
                            others=None, n_overlays=4, n_failures=6) -> dict:
    """The final model's val analysis from ``predictions`` (COCO keypoint results on the val
    boxes); ``model``: what they are (no, seed, parameter, recorded AP); ``others``: {label:
    predictions} drawn beside it in the overlays (e.g. the baseline).  Writes the figures under
    ``figures_dir`` and ``RESULTS/final_val_analysis.json``; returns the analysis."""
    meta = load_scheme(scheme)
    val_file = annotation_path(data_root, "val")
    val = json.loads(val_file.read_text())
    preds = json.loads(Path(predictions).read_text())
    sigmas = meta["sigmas"]
    names = [meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"])]
    figures_dir = Path(figures_dir)
    label = f"run {model['no']:02d} seed {model['seed']}"

    ap = ap_interval(image_evals(val_file, preds, sigmas))
    per_kpt = per_keypoint_error(val, preds, names, PCK_THRESHOLD, sigmas)
    swaps = swap_rate(val, preds, meta["flip_indices"], names, sigmas)

    by_ann = by_annotation(val, preds, sigmas)
    anns_by_image = by_image(val["annotations"])
    images = [im for im in val["images"] if im["id"] in anns_by_image][:n_overlays]
    columns = [("ground truth", "gt")]
    for name, other in (others or {}).items():
        columns.append((name, by_annotation(val, json.loads(Path(other).read_text()), sigmas)))
    columns.append((f"final ({label})", by_ann))
    overlays = comparison_grid(meta, Path(data_root) / "images",
                               [(im, anns_by_image[im["id"]], im["file_name"]) for im in images], columns,
                               figures_dir / "overlays.png", title="Val cats: ground truth against the predictions "
                                                                   "(ground-truth boxes)")
    oks = sorted((o for o in per_instance_oks(val, preds, sigmas) if o["oks"] == o["oks"]), key=lambda o: o["oks"])
    worst = oks[:n_failures]
    ann_index = {a["id"]: a for a in val["annotations"]}
    image_index = {im["id"]: im for im in val["images"]}
    failures = comparison_grid(meta, Path(data_root) / "images",
                               [(image_index[o["image_id"]], [ann_index[o["ann_id"]]], f"OKS {o['oks']:.2f}")
                                for o in worst],
                               [("ground truth", "gt"), (f"final ({label})", by_ann)], figures_dir / "failures.png",
                               title=f"The {len(worst)} val cats with the lowest OKS, each on the same extent",
                               kpt_thr=0.0)
    pck = pck_figure(per_kpt, figures_dir / "per_keypoint_pck.png",
                     f"Per-keypoint PCK@{PCK_THRESHOLD:g} of the final model ({label}), val")
    oks_values = [o["oks"] for o in oks]
    analysis = dict(
        model=model, predictions=Path(predictions).name, images=ap["images"], cats=len(val["annotations"]),
        AP=ap["AP"], AP_sd=ap["sd"], AP_low=ap["low"], AP_high=ap["high"], resamples=ap["resamples"],
        pck_threshold=PCK_THRESHOLD, per_keypoint=per_kpt.reset_index(),
        swap=dict({k: v for k, v in swaps.items() if k != "pairs"}, pairs=swaps["pairs"]),
        oks_median=float(pd.Series(oks_values).median()) if oks_values else None,
        failures=[dict(o, file_name=image_index[o["image_id"]]["file_name"]) for o in worst],
        figures=dict(overlays=overlays, failures=failures, per_keypoint_pck=pck))
    atomic_write_text(Path(results_dir) / ANALYSIS_JSON, json.dumps(plain(analysis), indent=1, default=str))
    return analysis


