"""One block of the study, end to end, as a notebook calls it: data, base, runs, table,
figures and verdict."""
from dataclasses import asdict
from pathlib import Path

from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.recipe.experiments import BLOCK_NUMBERS
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.report.block_figures import save_block_figures
from catpose_lib.report.block_summary import block_verdict
from catpose_lib.report.record import write_report_record
from catpose_lib.runs.results import load_block_results, study_table
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.workers.blocks import resolve_base, run_baseline, run_block


def run_block_report(block, data_root="", scheme=None, budget=None, seeds=None, device="auto",
                     experiments=None, base="best", results_dir="results", figures_dir="figures",
                     shared_knobs=None, synthetic=None, num_workers=None, verbose=True,
                     precision=DEFAULT_PRECISION, channels_last=DEFAULT_CHANNELS_LAST, protocol=None,
                     start=None) -> dict:
    """Run a block (skipping finished runs) and render its table, figures and verdict.

    With ``base='baseline'`` the baseline itself is run too (same budget and seeds), so the
    block is compared with a measured base.  ``budget``, ``seeds`` and ``start`` None = not
    given: a ``protocol`` sets them (its confirm seeds added for the baseline and the block's
    winner), else budget full, seed 0, no start (recipe.protocols.expand).
    """
    p = check_run_parameters(block=block, experiments=experiments, budget=budget, seeds=seeds, device=device,
                             precision=precision, base=base, data_root=data_root or None,
                             shared_knobs=dict(shared_knobs or {}), protocol=protocol, start=start)
    # experiments None (all the block's runs) is not in p: check_run_parameters returns what was given
    block, experiments, shared_knobs, s = (p.get(k) for k in ("block", "experiments", "shared_knobs", "settings"))
    root = resolve_data_root(data_root, **(synthetic or {}))
    common = dict(device=device, scheme=scheme, num_workers=num_workers, verbose=verbose, precision=precision,
                  channels_last=channels_last, **s.run_options())
    base_info = resolve_base(block, base, results_dir)
    base_ap, base_sd = base_info.get("best_AP"), base_info.get("best_sd")
    base_results = []
    if base_info["name"] == "baseline":
        base_results = run_baseline(root, results_dir, seeds=list(s.all_seeds),
                                    shared_knobs=dict(shared_knobs or {}), **common)
        base_ap, base_sd = _mean_sd([r["best"]["AP"] for r in base_results if r.get("best")])
    results = run_block(block, root, results_dir, experiments=experiments, seeds=list(s.seeds), base=base,
                        shared_knobs=shared_knobs, check_data=not base_results, confirm_seeds=s.confirm_seeds,
                        **common)  # data checked once
    figures_dir = Path(figures_dir)
    notebook = f"{BLOCK_NUMBERS[block]}_{block}"
    figure_paths = save_block_figures(results, figures_dir, notebook, base_ap)
    report = dict(block=block, data_root=str(root), base=base_info, base_AP=base_ap,
                  base_results=base_results, results=results, table=study_table(results),
                  verdict=block_verdict(results, base_ap, base_sd), figures=figure_paths,
                  settings=asdict(s))
    report["record"] = write_report_record(
        results_dir, notebook, block=block, data_root=str(root), base=base_info, base_AP=base_ap,
        base_sd=base_sd, settings=report["settings"],
        table=report["table"], verdict=report["verdict"], figures=figure_paths,
        runs=[dict(no=r["no"], seed=r["seed"], status=r["status"], final=r.get("final"), best=r.get("best"),
                   key=r["key"], base=r["base"]["name"]) for r in results])
    return report


def _mean_sd(values):
    """Mean and sample sd (None with fewer than 2 values), as pandas computes them for runs."""
    import statistics

    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def block_table(block, results_dir):
    return study_table(load_block_results(results_dir, block))
