"""One block of the study, end to end, as a notebook calls it: data, base, runs, table,
figures and verdict."""
from pathlib import Path

from catpose_lib.console import logged
from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.recipe.experiments import BLOCK_NUMBERS, resolve_block
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.runs.results import FINISHED, load_block_results, seed_stats, study_table, winner
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.workers.blocks import resolve_base, run_baseline, run_block
from catpose_lib.report.block_figures import save_block_figures
from catpose_lib.report.block_summary import block_verdict
from catpose_lib.report.overlays import run_overlays
from catpose_lib.report.record import write_report_record


def _notebook(block, *args, **kwargs) -> str:
    """The log's name: the block's notebook (a bad block is reported by check_run_parameters)."""
    try:
        block = resolve_block(block)
    except ValueError:
        return "block"
    return f"{BLOCK_NUMBERS.get(block, '00')}_{block}"


@logged(_notebook)
def run_block_report(block, data_root="", scheme=None, budget="full", seeds=(0,), device="auto",
                     experiments=None, base="best", results_dir="results", figures_dir="figures",
                     overrides=None, synthetic=None, num_workers=None, verbose=True,
                     precision=DEFAULT_PRECISION, channels_last=DEFAULT_CHANNELS_LAST, protocol=None,
                     init=None, n_overlays=4) -> dict:
    """Run a block (skipping finished runs) and render its table, figures and verdict.

    With ``base='baseline'`` the baseline itself is run too (same budget and seeds), so the
    block is compared with a measured base.  A ``protocol`` (recipe.protocols) sets the
    budget, the start checkpoint and the seeds: its seeds for every run, its confirm seeds
    added for the baseline and the block's winner.

    Figures: AP per run, AP and loss curves with the base's, and overlays (ground truth |
    base | the block's winner on ``n_overlays`` val cats).  What the libraries print goes to a
    log (console.library_log), named at the end.
    """
    p = check_run_parameters(block=block, experiments=experiments, budget=budget, seeds=seeds, device=device,
                             precision=precision, base=base, data_root=data_root or None,
                             overrides=dict(overrides or {}), protocol=protocol, init=init)
    # experiments None (all the block's runs) is not in p: check_run_parameters returns what was given
    block, experiments, budget, seeds, overrides = (p.get(k) for k in ("block", "experiments", "budget", "seeds",
                                                                         "overrides"))
    proto = p.get("protocol")
    confirm = proto.confirm_seeds if proto else ()
    if proto:
        seeds = list(proto.seeds)
    root = resolve_data_root(data_root, **(synthetic or {}))
    common = dict(budget=budget, device=device, scheme=scheme, num_workers=num_workers,
                  verbose=verbose, precision=precision, channels_last=channels_last,
                  protocol=proto.name if proto else None, init=init or None)
    base_info = resolve_base(block, base, results_dir)
    base_ap, base_sd = base_info.get("best_AP"), base_info.get("best_sd")
    base_results = []
    if base_info["name"] == "baseline":
        base_results = run_baseline(root, results_dir, seeds=list(proto.all_seeds) if proto else seeds,
                                    common_overrides=dict(overrides or {}), **common)
        base_ap, base_sd = _mean_sd([r["best"]["AP"] for r in base_results if r.get("best")])
    results = run_block(block, root, results_dir, experiments=experiments, seeds=seeds, base=base,
                        overrides=overrides, check_data=not base_results, confirm_seeds=confirm,
                        **common)  # data checked once
    figures_dir = Path(figures_dir)
    notebook = f"{BLOCK_NUMBERS[block]}_{block}"
    base_runs = base_results or base_info_runs(base_info, results_dir)
    figure_paths = save_block_figures(results, figures_dir, notebook, base_ap, base_runs, base_info["name"])
    overlays = winner_overlays(results, base_runs, base_info["name"], figures_dir / notebook / "overlays.png",
                               n_overlays, device)
    if overlays:
        figure_paths["overlays"] = overlays
    report = dict(block=block, data_root=str(root), base=base_info, base_AP=base_ap,
                  base_results=base_results, results=results, table=study_table(results),
                  verdict=block_verdict(results, base_ap, base_sd), figures=figure_paths,
                  protocol=proto.record() if proto else None)
    report["record"] = write_report_record(
        results_dir, notebook, block=block, data_root=str(root), base=base_info, base_AP=base_ap,
        base_sd=base_sd, protocol=report["protocol"],
        table=report["table"], verdict=report["verdict"], figures=figure_paths,
        runs=[dict(no=r["no"], seed=r["seed"], status=r["status"], final=r.get("final"), best=r.get("best"),
                   key=r["key"], base=r["base"]["name"]) for r in results])
    return report


def base_info_runs(base_info, results_dir) -> list:
    """The finished runs of a base that is a previous block's winner (``resolve_base``), read
    from the results folder; [] for a base without runs there."""
    keys = {r["key"] for r in base_info.get("runs") or []}
    if not keys:
        return []
    return [r for r in load_block_results(results_dir, base_info["block"])
            if r["key"] in keys and r["status"] == FINISHED]


def winner_overlays(results, base_runs, base_name, out, n, device):
    """Ground truth | the base | the block's winner (the best seed of each) on ``n`` val cats;
    None without a winner, a base run, or their checkpoints on disk."""
    from catpose_lib.runs.run import resolve_device

    top = winner(seed_stats(results))
    finished = [r for r in base_runs if r.get("best")]
    if top is None or not finished or not n:
        return None
    best = max((r for r in results if r["no"] == top and r.get("best")), key=lambda r: r["best"]["AP"])
    base = max(finished, key=lambda r: r["best"]["AP"])
    runs = [(f"base: {base_name} (mAP {base['best']['AP']:.3f})", base),
            (f"winner: run {top:02d}, {best['parameter']} (mAP {best['best']['AP']:.3f})", best)]
    return run_overlays(runs, Path(best["data_root"]) / "annotations" / "val.json", out, n=n,
                        device=resolve_device(device))


def _mean_sd(values):
    """Mean and sample sd (None with fewer than 2 values), as pandas computes them for runs."""
    import statistics

    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def block_table(block, results_dir):
    return study_table(load_block_results(results_dir, block))
