"""The study's final report (notebook 07): the path from baseline to final, overlays of both
models on the same validation images, failure cases, per-keypoint error, complexity and
runtime, and the test-set ``result_keypoints.json``."""
import json
import time
from pathlib import Path

from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.recipe.experiments import BLOCK_NUMBERS
from catpose_lib.runs.results import FINISHED
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.workers.blocks import run_baseline
from catpose_lib.console import logged


def study_path(results_dir):
    """One row per step of the study's path (workers.blocks.study_walk): the baseline, then
    after each block with results the recipe carried on (its winner when adopted, else the
    recipe kept), with the block's own winner beside it.  Candidates for the final model:
    (no, finished runs, mean best AP) of each recipe on the path."""
    import pandas as pd

    from catpose_lib.workers.blocks import study_walk

    rows, candidates = [], []
    steps = study_walk(results_dir)
    by_block = {step["block"]: step["results"] for step in steps}
    for step in steps:
        recipe, top = step["recipe"], step["winner"]
        if recipe.get("best_AP") is None:
            continue
        runs = [r for r in by_block[recipe["block"]]
                if r["no"] == recipe["no"] and r["status"] == FINISHED and r.get("best")]
        label = "baseline" if step["block"] == "baseline" else f"{BLOCK_NUMBERS[step['block']]} {step['block']}"
        rows.append(dict(step=label, run=recipe["no"], parameter=runs[0]["parameter"], mAP=recipe["best_AP"],
                         best_epoch=runs[0]["best"]["epoch"], seeds=len(runs),
                         winner=top["no"], winner_mAP=top["best_AP"], adopted=step["adopted"]))
        if recipe["no"] not in [c[0] for c in candidates]:
            candidates.append((recipe["no"], runs, recipe["best_AP"]))
    table = pd.DataFrame(rows)
    if not table.empty:
        table["vs baseline"] = table["mAP"] - table["mAP"].iloc[0]
    return table, candidates


def path_figure(table, out):
    from catpose_lib.report.drawing import figure, save

    fig = figure(max(5, 1.2 * len(table) + 2), 3.8)
    ax = fig.subplots()
    ax.plot(range(len(table)), table["mAP"], marker="o", label="recipe carried on")
    lost = table[~table["adopted"]]
    if not lost.empty:  # a block whose winner lost to the recipe it started from
        ax.scatter(lost.index, lost["winner_mAP"], marker="x", color="grey", label="block winner, not adopted")
        ax.legend(fontsize=8, loc="lower right")
    for i, (ap, run, adopted) in enumerate(zip(table["mAP"], table["run"], table["adopted"])):
        ax.annotate(f"{ap:.3f}\n(run {run:02d}{'' if adopted else ', kept'})", (i, ap), textcoords="offset points",
                    xytext=(0, 6), ha="center", fontsize=8)
    ax.set_xticks(range(len(table)), table["step"], rotation=20, fontsize=8)
    ax.set_ylabel("best val mAP")
    ax.set_ylim(0, max(0.05, float(table["mAP"].max()) * 1.3))
    ax.set_title("From baseline to final")
    return save(fig, out, dpi=110)


def _per_keypoint_figure(table, out):
    from catpose_lib.report.drawing import figure, save

    fig = figure(7, 3.8)
    ax = fig.subplots()
    ax.bar(range(len(table)), table["mean_norm_error"])
    ax.set_xticks(range(len(table)), table.index, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("mean error / box size")
    ax.set_title("Per-keypoint error of the final model (val)")
    return save(fig, out, dpi=110)


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
    from catpose_lib.runs.predict import predict_boxes

    predict_boxes(model, ann_file, flip_test=flip_test)  # warm-up
    start = time.perf_counter()
    n = 0
    for _ in range(repeats):
        n += len(predict_boxes(model, ann_file, flip_test=flip_test))
    return n / (time.perf_counter() - start)


def final_sentence(baseline_ap, final_mean, seeds, kept, root) -> str:
    """Baseline -> final, the final's mean over its ``seeds`` (the study path's) and the seed kept,
    at the budget and protocol the runs recorded (a protocol overrides the budget the report was given)."""
    protocol = (kept.get("protocol") or {}).get("name")
    return (f"Baseline mAP {baseline_ap:.4f} -> final run {kept['no']:02d} ({kept['parameter']}) {final_mean:.4f} "
            f"over {seeds} seed(s); the model kept is seed {kept['seed']} ({kept['best']['AP']:.4f}), "
            f"on `{root}` at budget `{kept['budget']}`{f' (protocol `{protocol}`)' if protocol else ''}.")


@logged("07_final_report")
def run_final_report(data_root="", scheme=None, budget="full", seeds=(0,), device="auto",
                     results_dir="results", figures_dir="figures", overrides=None, synthetic=None,
                     final="best", n_overlays=4, n_failures=6, num_workers=None, verbose=True,
                     precision=DEFAULT_PRECISION, channels_last=DEFAULT_CHANNELS_LAST, protocol=None,
                     init=None, test_root="") -> dict:
    """The study's path, the final model's overlays, failures, per-keypoint error, complexity
    and runtime, and its predictions for the data's test boxes (``result_keypoints.json``) and,
    with ``test_root`` (a blind test set: ``annotations/test_info.json`` + ``images/``, boxes
    only), for that set's boxes (``result_keypoints_test.json``)."""
    import pandas as pd

    from catpose_lib.data.layout import atomic_write_json
    from catpose_lib.runs.predict import build_model, predict_boxes
    from catpose_lib.runs.run import resolve_device
    from catpose_lib.report.keypoint_eval import per_instance_oks, per_keypoint_error
    from catpose_lib.report.overlays import by_annotation, comparison_grid
    from catpose_lib.schemes import load_scheme

    from catpose_lib.recipe.params import check_run_parameters

    p = check_run_parameters(budget=budget, seeds=seeds, device=device, precision=precision,
                             data_root=data_root or None, overrides=dict(overrides or {}), protocol=protocol,
                             init=init)
    budget, seeds, overrides = p["budget"], p["seeds"], p["overrides"]
    blind = _blind_test_file(test_root) if test_root else None  # checked before any work
    proto = p.get("protocol")
    if proto:  # the baseline has the protocol's seeds and its confirm seeds, as in block 01
        seeds = list(proto.all_seeds)
    root = resolve_data_root(data_root, **(synthetic or {}))
    results_dir, figures_dir = Path(results_dir), Path(figures_dir) / "07_final_report"
    figures_dir.mkdir(parents=True, exist_ok=True)
    run_baseline(root, results_dir, seeds=seeds, budget=budget, device=device, scheme=scheme,
                 common_overrides=dict(overrides or {}), num_workers=num_workers, verbose=verbose,
                 precision=precision, channels_last=channels_last, protocol=proto.name if proto else None,
                 init=init or None)  # the study path reads the baseline's results from results_dir
    path_table, candidates = study_path(results_dir)
    if final == "best":
        chosen = max(candidates, key=lambda c: c[2])
    else:
        chosen = next((c for c in candidates if c[0] == int(final)), None)
        if chosen is None:
            raise ValueError(f"run {final} is not on the study path ({[c[0] for c in candidates]})")
    _, final_runs, final_mean = chosen
    final_run = max(final_runs, key=lambda r: r["best"]["AP"])
    baseline_run = max(candidates[0][1], key=lambda r: r["best"]["AP"])

    dev = resolve_device(device)
    models = dict(baseline=build_model(baseline_run, device=dev), final=build_model(final_run, device=dev))
    meta = load_scheme(final_run["scheme"])
    val_file = root / "annotations" / "val.json"
    val = json.loads(val_file.read_text())
    preds = {name: predict_boxes(m, val_file) for name, m in models.items()}

    # overlays: the same validation images, ground truth | baseline | final
    anns_by_image = {}
    for a in val["annotations"]:
        anns_by_image.setdefault(a["image_id"], []).append(a)
    by_ann = {name: by_annotation(val, recs) for name, recs in preds.items()}
    images = [im for im in val["images"] if im["id"] in anns_by_image][:n_overlays]
    columns = [("ground truth", "gt"), (f"baseline (run 00, mAP {baseline_run['best']['AP']:.3f})", by_ann["baseline"]),
               (f"final (run {final_run['no']:02d}, mAP {final_run['best']['AP']:.3f})", by_ann["final"])]
    overlays = comparison_grid(meta, root / "images", [(im, anns_by_image[im["id"]], im["file_name"]) for im in images],
                               columns, figures_dir / "overlays.png")

    # failure cases: lowest OKS instances of the final model
    oks = sorted((o for o in per_instance_oks(val, preds["final"], meta["sigmas"]) if o["oks"] == o["oks"]),
                 key=lambda o: o["oks"])[:n_failures]
    ann_index = {a["id"]: a for a in val["annotations"]}
    image_index = {im["id"]: im for im in val["images"]}
    failure_rows = [(image_index[o["image_id"]], [ann_index[o["ann_id"]]], f"OKS {o['oks']:.2f}") for o in oks]
    failures = comparison_grid(meta, root / "images", failure_rows,
                               [("ground truth", "gt"), ("final", by_ann["final"])], figures_dir / "failures.png")

    names = [meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"])]
    per_kpt = per_keypoint_error(val, preds["final"], names)
    per_kpt_fig = _per_keypoint_figure(per_kpt, figures_dir / "per_keypoint_error.png")

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

    test_file = root / "annotations" / "test_info.json"
    result_keypoints = results_dir / "result_keypoints.json"
    atomic_write_json(result_keypoints, predict_boxes(models["final"], test_file))

    result_keypoints_test = None
    if blind:  # the final model on the blind test set (never trained or tuned on)
        result_keypoints_test = results_dir / "result_keypoints_test.json"
        atomic_write_json(result_keypoints_test, predict_boxes(models["final"], blind))

    path_fig = path_figure(path_table, figures_dir / "path.png")
    path_table.to_csv(results_dir / "final_path.csv", index=False)
    complexity.to_csv(results_dir / COMPLEXITY_CSV, index=False)
    first, last = path_table["mAP"].iloc[0], final_run["best"]["AP"]
    summary = (f"{final_sentence(first, final_mean, len(final_runs), final_run, root)} Test-set predictions: "
               f"`{result_keypoints}` ({len(json.loads(result_keypoints.read_text()))} instances).")
    if result_keypoints_test:
        summary += (f" Blind test set `{test_root}`: `{result_keypoints_test}` "
                    f"({len(json.loads(result_keypoints_test.read_text()))} instances, scored separately).")
    figures = dict(path=path_fig, overlays=overlays, failures=failures, per_keypoint=per_kpt_fig)
    from catpose_lib.report.record import write_report_record

    record = write_report_record(results_dir, "07_final_report", data_root=str(root), path=path_table,
                                 baseline_AP=first, final=dict(no=final_run["no"], seed=final_run["seed"],
                                                               AP=last, parameter=final_run["parameter"]),
                                 complexity=complexity, per_keypoint=per_kpt.reset_index(),
                                 result_keypoints=result_keypoints, result_keypoints_test=result_keypoints_test,
                                 figures=figures, summary=summary)
    return dict(data_root=str(root), path_table=path_table, final_run=final_run, baseline_run=baseline_run,
                per_keypoint=per_kpt, complexity=complexity, failures=oks, result_keypoints=result_keypoints,
                result_keypoints_test=result_keypoints_test,
                figures=figures, summary=summary, record=record)


def _blind_test_file(test_root) -> Path:
    from catpose_lib.errors import ParameterError

    ann = Path(str(test_root)).expanduser() / "annotations" / "test_info.json"
    if not ann.is_file() or not (ann.parent.parent / "images").is_dir():
        raise ParameterError("test_root", test_root, "a test set folder with annotations/test_info.json and "
                                                     f"images/ (boxes only); {ann} or its images/ is missing")
    return ann
