"""The study's final report (notebook 07): the path from baseline to final, the final model's
val analysis (report.final_analysis: overlays beside the baseline, failure cases, per-keypoint
PCK, left / right swaps), complexity and runtime, and its predictions on the data's
test_info.json boxes (``result_keypoints.json``; in the Animal-Pose course layout those are the
val boxes) and on a blind test set's boxes (``result_keypoints_test.json``)."""
import json
import time
from pathlib import Path

import pandas as pd

from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.data.layout import annotation_path, atomic_write_json, blind_test_file
from catpose_lib.recipe.experiments import BLOCK_NUMBERS
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.report.drawing import figure, save
from catpose_lib.report.final_analysis import (
    BASELINE_VAL_KEYPOINTS,
    FINAL_VAL_KEYPOINTS,
    analyse_val_predictions,
    kept_val_predictions,
    model_of,
)
from catpose_lib.report.record import write_report_record
from catpose_lib.report.verdict import finished_runs
from catpose_lib.runs.predict import build_model, has_checkpoint, init_from_config, predict_boxes, run_config
from catpose_lib.runs.run import resolve_device
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.workers.blocks import run_baseline, study_walk
from catpose_lib.console import logged


def study_path(results_dir):
    """One row per step of the study's path (workers.blocks.study_walk): the baseline, then
    after each block with results the recipe carried on (its winner when the adopt rule
    carried it on, else the recipe kept), with the block's own winner beside it: its mean best
    AP over all its seeds and over the seeds that did not pick it, and the interval of its lead
    over the base.  Candidates for the final model: (no, finished runs, mean best AP) of each
    recipe on the path, in path order: the last is the recipe the rule carries out of the study."""
    rows, candidates = [], []
    steps = study_walk(results_dir)
    by_block = {step["block"]: step["results"] for step in steps}
    for step in steps:
        recipe, top, v = step["recipe"], step["winner"], step.get("verdict") or {}
        if recipe.get("best_AP") is None:
            continue
        runs = list(finished_runs(by_block[recipe["block"]], recipe["no"]).values())
        label = "baseline" if step["block"] == "baseline" else f"{BLOCK_NUMBERS[step['block']]} {step['block']}"
        iv = v.get("interval") or {}
        rows.append(dict(step=label, run=recipe["no"], parameter=runs[0]["parameter"], mAP=recipe["best_AP"],
                         sd=recipe.get("best_sd"), best_epoch=runs[0]["best"]["epoch"], seeds=len(runs),
                         winner=top["no"], winner_mAP=top["best_AP"], winner_unselected=v.get("winner_unselected"),
                         base_unselected=v.get("base_unselected"), low=iv.get("low"), high=iv.get("high"),
                         interval=iv.get("kind"), adopted=step["adopted"]))
        if recipe["no"] not in [c[0] for c in candidates]:
            candidates.append((recipe["no"], runs, recipe["best_AP"]))
    table = pd.DataFrame(rows)
    if not table.empty:
        table["vs baseline"] = table["mAP"] - table["mAP"].iloc[0]
    return table, candidates


def path_figure(table, out):
    """The recipe carried on after each step (mean best val AP ± 1 sd over its seeds), and the
    winners the rule did not carry on."""
    fig = figure(max(6, 1.25 * len(table) + 2), 4.2)
    ax = fig.subplots()
    x = list(range(len(table)))
    ax.errorbar(x, table["mAP"], yerr=table["sd"].fillna(0), marker="o", capsize=4,
                label="recipe carried on (mean ± 1 sd over seeds)")
    lost = table[~table["adopted"]]
    if not lost.empty:  # a block whose winner the rule did not carry on
        ax.scatter(lost.index, lost["winner_mAP"], marker="x", color="grey", zorder=3,
                   label="block winner, not carried on (mean over all its seeds)")
    for i, (ap, run, adopted) in enumerate(zip(table["mAP"], table["run"], table["adopted"])):
        ax.annotate(f"{ap:.3f}\n(run {run:02d}{'' if adopted else ', kept'})", (i, ap), textcoords="offset points",
                    xytext=(0, 8), ha="center", fontsize=8)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_xticks(x, table["step"], rotation=20, fontsize=8)
    ax.set_ylabel("best val AP (COCO OKS, ground-truth boxes)", fontsize=8)
    ax.set_ylim(0, max(0.05, float(table["mAP"].max()) * 1.3))
    ax.set_title("From the baseline to the final recipe: the recipe each block hands on", fontsize=9)
    return save(fig, out, dpi=110)


def write_path(results_dir, figures_dir):
    """``RESULTS/final_path.csv`` and ``FIGURES/07_final_report/path.png`` from the results."""
    table, candidates = study_path(results_dir)
    table.to_csv(Path(results_dir) / "final_path.csv", index=False)
    return table, candidates, path_figure(table, Path(figures_dir) / "07_final_report" / "path.png")


def model_complexity(model, input_size):
    """Parameters and FLOPs of one forward pass (mmengine's analysis tools)."""
    import torch
    from mmengine.analysis import get_model_complexity_info

    class TensorForward(torch.nn.Module):  # as mmpose's get_flops tool: backbone + head only
        def __init__(self, pose_model):
            super().__init__()
            self.pose_model = pose_model

        def forward(self, x):
            return self.pose_model._forward(x)

    w, h = input_size
    info = get_model_complexity_info(TensorForward(model).eval(), input_shape=(3, h, w),
                                     show_table=False, show_arch=False)
    return dict(params=int(info["params"]), flops=int(info["flops"]),
                params_str=info["params_str"], flops_str=info["flops_str"])


COMPLEXITY_CSV = "final_complexity.csv"  # written here, read by `table complexity`


def inference_speed(model, ann_file, flip_test, repeats=1):
    """Instances per second of top-down inference on the boxes of ``ann_file``."""
    predict_boxes(model, ann_file, flip_test=flip_test)  # warm-up
    start = time.perf_counter()
    n = 0
    for _ in range(repeats):
        n += len(predict_boxes(model, ann_file, flip_test=flip_test))
    return n / (time.perf_counter() - start)


def final_sentence(baseline_ap, final_mean, seeds, kept) -> str:
    """Baseline -> final, the final's mean over its ``seeds`` (the study path's) and the seed kept,
    at the budget and protocol the runs recorded (a protocol knobs the budget the report was given)."""
    protocol = kept.get("protocol")
    return (f"Baseline best val AP {baseline_ap:.3f} -> final run {kept['no']:02d} ({kept['parameter']}) "
            f"{final_mean:.3f} over {seeds} seed(s); the model kept is seed {kept['seed']} ({kept['best']['AP']:.3f}), "
            f"at budget `{kept['budget']}`{f' (protocol `{protocol}`)' if protocol else ''}.  Every AP here is "
            f"COCO OKS AP on the val split's ground-truth boxes.")


def _model(run, device):
    """The run's trained model; when its checkpoint is not on this machine (results copied
    without their run folders), its architecture from the resolved config, untrained: enough
    for complexity and runtime, not for predictions (runs.predict.has_checkpoint tells which)."""
    if has_checkpoint(run):
        return build_model(run, device=device)
    return init_from_config(run_config(run), None, device)


@logged("07_final_report")
def run_final_report(data_root="", scheme=None, budget=None, seeds=None, device="auto",
                     results_dir="results", figures_dir="figures", shared_knobs=None, synthetic=None,
                     final="best", n_overlays=4, n_failures=6, num_workers=None, verbose=True,
                     precision=DEFAULT_PRECISION, channels_last=DEFAULT_CHANNELS_LAST, protocol=None,
                     start=None, test_root="", train=True) -> dict:
    """The study's path, the final model's val analysis (report.final_analysis), complexity and
    runtime, and its predictions for the data's test_info.json boxes (``result_keypoints.json``)
    and, with ``test_root`` (a blind test set: ``annotations/test_info.json`` + ``images/``, boxes
    only), for that set's boxes (``result_keypoints_test.json``).  ``final``: 'best' = the recipe
    the adopt rule carries out of the study's last block (its best seed is the model), or a
    run number on the path.  Settings as in report.block_report.run_block_report."""
    p = check_run_parameters(budget=budget, seeds=seeds, device=device, precision=precision,
                             data_root=data_root or None, shared_knobs=dict(shared_knobs or {}), protocol=protocol,
                             start=start)
    shared_knobs, s = p["shared_knobs"], p["settings"]
    blind = blind_test_file(test_root) if test_root else None  # checked before any work
    root = resolve_data_root(data_root, **(synthetic or {}))
    results_dir, figures_root = Path(results_dir), Path(figures_dir)
    figures_dir = figures_root / "07_final_report"
    figures_dir.mkdir(parents=True, exist_ok=True)
    # the baseline has the confirm seeds too, as in block 01; the study path reads its results from results_dir
    if train:
        run_baseline(root, results_dir, seeds=list(s.all_seeds), device=device, scheme=scheme,
                     shared_knobs=dict(shared_knobs or {}), num_workers=num_workers, verbose=verbose,
                     precision=precision, channels_last=channels_last, **s.run_options())
    path_table, candidates, path_fig = write_path(results_dir, figures_root)
    if final == "best":
        chosen = candidates[-1]
    else:
        chosen = next((c for c in candidates if c[0] == int(final)), None)
        if chosen is None:
            raise ValueError(f"run {final} is not on the study path ({[c[0] for c in candidates]})")
    _, final_runs, final_mean = chosen
    final_run = max(final_runs, key=lambda r: r["best"]["AP"])
    baseline_run = max(candidates[0][1], key=lambda r: r["best"]["AP"])

    dev = resolve_device(device)
    models = dict(baseline=_model(baseline_run, dev), final=build_model(final_run, device=dev))
    val_file = annotation_path(root, "val")
    # the val predictions analysed: each run's own kept ones (its recorded AP's), else predicted here
    val_preds = {}
    for name, run, fallback in (("baseline", baseline_run, BASELINE_VAL_KEYPOINTS),
                                ("final", final_run, FINAL_VAL_KEYPOINTS)):
        kept = kept_val_predictions(results_dir, run)
        if kept is None and has_checkpoint(run):
            kept = results_dir / fallback
            atomic_write_json(kept, predict_boxes(models[name], val_file))
        val_preds[name] = kept
    analysis = analyse_val_predictions(
        root, val_preds["final"], final_run["scheme"], figures_dir, results_dir,
        model_of(final_run),
        others={f"baseline (run 00 seed {baseline_run['seed']})": val_preds["baseline"]} if val_preds["baseline"] else {},
        n_overlays=n_overlays, n_failures=n_failures)

    complexity_rows = []
    for name, run in (("baseline", baseline_run), ("final", final_run)):
        cfg = models[name].cfg  # the resolved config init_model attached to the model
        info = model_complexity(models[name], cfg.model.head.decoder.input_size)
        complexity_rows.append(dict(
            model=f"{name} (run {run['no']:02d})", input=f"{cfg.model.head.decoder.input_size[0]} px",
            backbone=cfg.model.backbone.type + (str(cfg.model.backbone.get("depth", "")) or ""),
            params_M=round(info["params"] / 1e6, 2), GFLOPs=round(info["flops"] / 1e9, 3),
            **{"instances/s (flip)": round(inference_speed(models[name], val_file, True), 1),
               "instances/s (no flip)": round(inference_speed(models[name], val_file, False), 1)},
            device=dev))
    complexity = pd.DataFrame(complexity_rows)

    test_file = annotation_path(root, "test")
    result_keypoints = results_dir / "result_keypoints.json"
    atomic_write_json(result_keypoints, predict_boxes(models["final"], test_file))

    result_keypoints_test = None
    if blind:  # the final model on the blind test set (never trained or tuned on)
        result_keypoints_test = results_dir / "result_keypoints_test.json"
        atomic_write_json(result_keypoints_test, predict_boxes(models["final"], blind))

    complexity.to_csv(results_dir / COMPLEXITY_CSV, index=False)
    first, last = path_table["mAP"].iloc[0], final_run["best"]["AP"]
    summary = (f"{final_sentence(first, final_mean, len(final_runs), final_run)}  Predictions on the data's "
               f"test_info.json boxes: `{result_keypoints.name}` ({len(json.loads(result_keypoints.read_text()))} "
               f"cats; in the Animal-Pose course layout those are the val boxes, so these are val predictions).")
    if result_keypoints_test:
        summary += (f"  Blind test set: `{result_keypoints_test.name}` "
                    f"({len(json.loads(result_keypoints_test.read_text()))} boxes, scored independently against its "
                    f"withheld keypoints: this package cannot score it).")
    figures = dict(path=path_fig, overlays=analysis["figures"]["overlays"], failures=analysis["figures"]["failures"],
                   per_keypoint=analysis["figures"]["per_keypoint_pck"])
    record = write_report_record(results_dir, "07_final_report", data_root=str(root), path=path_table,
                                 baseline_AP=first, final=dict(no=final_run["no"], seed=final_run["seed"],
                                                               AP=last, parameter=final_run["parameter"]),
                                 complexity=complexity, per_keypoint=analysis["per_keypoint"], swap=analysis["swap"],
                                 val_AP=dict(AP=analysis["AP"], low=analysis["AP_low"], high=analysis["AP_high"]),
                                 result_keypoints=result_keypoints, result_keypoints_test=result_keypoints_test,
                                 figures=figures, summary=summary)
    sw = analysis["swap"]
    swap_text = ("Left / right swaps: a left or right keypoint is predicted closer to its mirrored keypoint's true "
                 f"position than to its own in {sw['rate']:.3f} of {sw['eligible']} cases (95% interval "
                 f"[{sw['low']:.3f}, {sw['high']:.3f}])." if sw["eligible"] else
                 "Left / right swaps: no cat has both keypoints of a left / right pair labelled.")
    return dict(data_root=str(root), path_table=path_table, final_run=final_run, baseline_run=baseline_run,
                per_keypoint=analysis["per_keypoint"].set_index("keypoint"), swap=analysis["swap"],
                swap_text=swap_text, complexity=complexity, failures=analysis["failures"],
                result_keypoints=result_keypoints, result_keypoints_test=result_keypoints_test,
                figures=figures, summary=summary, record=record)


