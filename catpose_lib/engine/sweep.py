"""Run a block of the study: resolve its base, check the data, then run every experiment x
seed (finished runs are skipped, interrupted ones resume), saying how far it is."""
import time

from catpose_lib.engine.experiments import (BASELINE, block_experiments, previous_block,
                                            resolve_block)
from catpose_lib.engine.overrides import merge_overrides
from catpose_lib.engine.results import FINISHED, load_block_results, seed_stats, winner
from catpose_lib.engine.run_one import RunRequest, baseline_base, execute
from catpose_lib.errors import CatposeError


def resolve_base(block, base, results_dir) -> dict:
    """``baseline``, or ``best``: the winner of the previous block (engine.results.winner).

    A base carries only its own experiment's knobs (and its own base's, down the study's
    path), never the protocol given to every run (budget, start checkpoint, model size): those
    are passed to each run again and listed in its result as ``common_overrides``.
    """
    block = resolve_block(block)
    if base == "baseline":
        return baseline_base()
    if base != "best":
        raise ValueError(f"base must be 'baseline' or 'best', not {base!r}")
    prev = previous_block(block)
    if prev is None:
        return baseline_base()
    results = load_block_results(results_dir, prev)
    stats = seed_stats(results)
    top = winner(stats)
    if top is None:
        raise CatposeError(
            f"base 'best' needs finished runs of the previous block '{prev}' in {results_dir}; "
            f"run that block first, or use base 'baseline'")
    runs = [r for r in results if r["no"] == top and r["status"] == FINISHED]
    own = merge_overrides(runs[0]["base"]["overrides"], runs[0]["experiment_overrides"])
    return dict(name=f"{top:02d} ({prev})", no=top, block=prev, overrides=own,
                best_AP=float(stats.loc[top, "best_mean"]), seeds=int(stats.loc[top, "seeds"]),
                runs=[dict(seed=r["seed"], key=r["key"]) for r in runs])


def run_block(block, data_root, results_dir, experiments=None, budget="full", seeds=(0,),
              device="auto", base="best", scheme=None, overrides=None, num_workers=None,
              verbose=True, check_data=True, **run_options) -> list:
    """Run a block (or a subset of its experiments) and return the results, one per run.

    ``run_options`` go to every :class:`RunRequest` (precision, channels_last, image_cache,
    launcher).
    """
    exps = block_experiments(block, experiments)
    if check_data:
        from catpose_lib.data.validate import check_dataset

        check_dataset(data_root, scheme=scheme)
    base_info = resolve_base(block, base, results_dir)
    common = dict(overrides or {})
    base_info = dict(base_info)
    jobs = [(exp, int(seed)) for exp in exps for seed in seeds]
    results, trained_seconds, trained = [], 0.0, 0
    for i, (exp, seed) in enumerate(jobs, 1):
        req = RunRequest(experiment=exp, data_root=str(data_root), results_dir=str(results_dir),
                         base=base_info, seed=seed, budget=budget, device=device,
                         scheme=scheme, common_overrides=common, num_workers=num_workers,
                         verbose=verbose, progress=f"run {i}/{len(jobs)}", **run_options)
        t0 = time.perf_counter()
        results.append(execute(req))
        if not results[-1].get("skipped"):
            trained_seconds, trained = trained_seconds + time.perf_counter() - t0, trained + 1
        if verbose and trained and i < len(jobs):
            print(f"[{block}] {i}/{len(jobs)} runs done; ~{trained_seconds / trained * (len(jobs) - i) / 60:.1f} min "
                  f"left for the block (at {trained_seconds / trained / 60:.1f} min a run)", flush=True)
    return results


def run_baseline(data_root, results_dir, **kwargs) -> list:
    """The baseline alone, stored as block 'baseline' (run 00)."""
    seeds = kwargs.pop("seeds", (0,))
    if kwargs.pop("check_data", True):
        from catpose_lib.data.validate import check_dataset

        check_dataset(data_root, scheme=kwargs.get("scheme"))
    results = []
    for seed in seeds:
        req = RunRequest(experiment=BASELINE, data_root=str(data_root), results_dir=str(results_dir),
                         seed=int(seed), **kwargs)
        results.append(execute(req))
    return results
