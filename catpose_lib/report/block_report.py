"""One block of the study, end to end, as a notebook calls it: data, base, runs, then the
table, figures and verdict rendered from the results folder (:func:`render_block_report`,
which also renders a finished block again without training anything)."""
import statistics
from dataclasses import asdict
from pathlib import Path

from catpose_lib.console import logged
from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.data.layout import annotation_path
from catpose_lib.recipe.experiments import BLOCK_NUMBERS, resolve_block
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.report.block_figures import save_block_figures
from catpose_lib.report.overlays import run_overlays
from catpose_lib.report.record import write_report_record
from catpose_lib.report.verdict import RULE, decide, finished_runs, method_sentence, seed_noise, verdict_frame
from catpose_lib.runs.results import load_block_results, study_table
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.workers.blocks import resolve_base, run_baseline, run_block, study_walk


def _log_name(block, *args, **kwargs) -> str:
    """The log's name: the block's notebook (a bad block is reported by check_run_parameters)."""
    try:
        return f"{BLOCK_NUMBERS[resolve_block(block)]}_{resolve_block(block)}"
    except (KeyError, ValueError):
        return "block"


@logged(_log_name)
def run_block_report(block, data_root="", scheme=None, budget=None, seeds=None, device="auto",
                     experiments=None, base="best", results_dir="results", figures_dir="figures",
                     shared_knobs=None, synthetic=None, num_workers=None, verbose=True,
                     precision=DEFAULT_PRECISION, channels_last=DEFAULT_CHANNELS_LAST, protocol=None,
                     start=None, train=True) -> dict:
    """Run a block (skipping finished runs), then render its table, figures and verdict.

    With ``base='baseline'`` the baseline itself is run too (same budget and seeds), so the
    block is compared with a measured base.  ``budget``, ``seeds`` and ``start`` None = not
    given: a ``protocol`` sets them (its confirm seeds added for the baseline and the block's
    winner), else budget full, seed 0, no start (recipe.protocols.expand).  ``train`` False:
    train nothing, render what ``results_dir`` holds (no data, start or checkpoint needed).
    """
    p = check_run_parameters(block=block, experiments=experiments, budget=budget, seeds=seeds, device=device,
                             precision=precision, base=base, data_root=data_root or None,
                             shared_knobs=dict(shared_knobs or {}), protocol=protocol, start=start)
    # experiments None (all the block's runs) is not in p: check_run_parameters returns what was given
    block, experiments, shared_knobs, s = (p.get(k) for k in ("block", "experiments", "shared_knobs", "settings"))
    if not train:
        return render_block_report(block, results_dir, figures_dir, experiments=experiments,
                                   settings=asdict(s), data_root=data_root or None)
    root = resolve_data_root(data_root, **(synthetic or {}))
    common = dict(device=device, scheme=scheme, num_workers=num_workers, verbose=verbose, precision=precision,
                  channels_last=channels_last, **s.run_options())
    base_info = resolve_base(block, base, results_dir)
    base_results = []
    if base_info["name"] == "baseline":
        base_results = run_baseline(root, results_dir, seeds=list(s.all_seeds),
                                    shared_knobs=dict(shared_knobs or {}), **common)
    run_block(block, root, results_dir, experiments=experiments, seeds=list(s.seeds), base=base,
              shared_knobs=shared_knobs, check_data=not base_results, confirm_seeds=s.confirm_seeds,
              **common)  # data checked once
    return render_block_report(block, results_dir, figures_dir, experiments=experiments, settings=asdict(s),
                               data_root=str(root))


def render_block_report(block, results_dir, figures_dir, experiments=None, settings=None, data_root=None,
                        n_overlays=4) -> dict:
    """A block's table, figures, verdict and record (``RESULTS/reports/NN_block.json``) from
    the results folder: the runs of ``experiments`` (default all) against the base they
    started from, decided by the study's adopt rule (report.verdict, via study_walk); the
    overlays: ground truth | base | winner on ``n_overlays`` val cats (when their checkpoints exist)."""
    block = resolve_block(block)
    results = [r for r in load_block_results(results_dir, block) if not experiments or r["no"] in experiments]
    if not results:
        raise ValueError(f"block {block}: no results in {results_dir}")
    val_file = annotation_path(Path(data_root).expanduser(), "val") if data_root else None
    steps = study_walk(results_dir, val_file=val_file)
    step = next((st for st in steps if st["block"] == block), None)
    base = dict(results[0]["base"])
    blocks = {st["block"]: st["results"] for st in steps}
    base_runs = list(finished_runs(blocks.get(base.get("block"), []), base.get("no")).values())
    if step is None or experiments:  # a subset: the verdict of these runs alone, under the same rule
        verdict = decide(results, {r["seed"]: r for r in base_runs}, base["name"], seed_noise(blocks),
                         results_dir=results_dir, val_file=val_file)
    else:
        verdict = step["verdict"]
    base_aps = [r["best"]["AP"] for r in base_runs]
    base_ap, base_sd = _mean_sd(base_aps)
    notebook = f"{BLOCK_NUMBERS[block]}_{block}"
    figure_paths = save_block_figures(results, figures_dir, block, base_runs, base["name"])
    overlays = winner_overlays(results, base_runs, base["name"], verdict.get("winner"),
                               val_file or annotation_path(results[0]["data_root"], "val"),
                               Path(figure_paths["ap_curves"]).parent / "overlays.png", n_overlays)
    if overlays:
        figure_paths["overlays"] = overlays
    table = study_table(results, verdict)
    record = write_report_record(
        results_dir, notebook, block=block, data_root=str(data_root or results[0].get("data_root")), base=base,
        base_AP=base_ap, base_sd=base_sd, settings=settings, table=table, verdict=verdict, rule=RULE,
        **{k: verdict.get(k) for k in ("winner", "picked_on", "winner_unselected", "unselected_seeds",
                                       "base_unselected", "base_seeds", "difference")},
        interval=verdict.get("interval") or {}, adopted=verdict.get("adopted"), figures=figure_paths,
        runs=[dict(no=r["no"], seed=r["seed"], status=r["status"], final=r.get("final"), best=r.get("best"),
                   key=r["key"], base=r["base"]["name"]) for r in results])
    base_text = (f"Base: {base['name']}" + (
        f", best val AP {base_ap:.3f}" + (f" ± {base_sd:.3f} over {len(base_aps)} seeds" if base_sd else "")
        if base_ap is not None else ", not measured here") + " (COCO OKS on ground-truth boxes).")
    return dict(block=block, data_root=str(data_root or results[0].get("data_root")), base=base, base_AP=base_ap,
                base_text=base_text, base_results=base_runs, results=results, table=table, verdict=verdict,
                verdict_table=verdict_frame(verdict), rule=f"{RULE}\n\n{method_sentence()}", figures=figure_paths,
                settings=settings, record=record)


def winner_overlays(results, base_runs, base_name, top, val_file, out, n=4, device="auto"):
    """Ground truth | the base | the block's winner ``top`` (the best seed of each) on ``n`` val
    cats; None without a winner, a base run, the val file, or their checkpoints on disk."""
    from catpose_lib.runs.run import resolve_device  # lazy: torch/mmengine (CLI speed)

    finished = [r for r in base_runs if r.get("best")]
    if top is None or not finished or not n or not val_file or not Path(val_file).is_file():
        return None
    best = max((r for r in results if r["no"] == top and r.get("best")), key=lambda r: r["best"]["AP"])
    base = max(finished, key=lambda r: r["best"]["AP"])
    runs = [(f"base: {base_name} (mAP {base['best']['AP']:.3f})", base),
            (f"winner: run {top:02d}, {best['parameter']} (mAP {best['best']['AP']:.3f})", best)]
    return run_overlays(runs, val_file, out, n=n, device=resolve_device(device))


def _mean_sd(values):
    """Mean and sample sd (None with fewer than 2 values), as pandas computes them for runs."""
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)

