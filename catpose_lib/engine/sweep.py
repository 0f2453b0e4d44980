"""Run a block of the study: resolve its base, check the data, then run every experiment x
seed (finished runs are skipped, interrupted ones resume)."""
from catpose_lib.engine.experiments import (BASELINE, block_experiments, previous_block,
                                            resolve_block)
from catpose_lib.engine.results import FINISHED, load_block_results
from catpose_lib.engine.run_one import RunRequest, execute
from catpose_lib.errors import CatposeError


def resolve_base(block, base, results_dir) -> dict:
    """``baseline`` or ``best`` (best finished run of the previous block, mean over seeds)."""
    block = resolve_block(block)
    if base == "baseline":
        return dict(name="baseline", overrides={})
    if base != "best":
        raise ValueError(f"base must be 'baseline' or 'best', not {base!r}")
    prev = previous_block(block)
    if prev is None:
        return dict(name="baseline", overrides={})
    finished = [r for r in load_block_results(results_dir, prev) if r["status"] == FINISHED and r.get("best")]
    if not finished:
        raise CatposeError(
            f"base 'best' needs finished runs of the previous block '{prev}' in {results_dir}; "
            f"run that block first, or use base 'baseline'")
    by_no = {}
    for r in finished:
        by_no.setdefault(r["no"], []).append(r["best"]["AP"])
    best_no = max(by_no, key=lambda n: (sum(by_no[n]) / len(by_no[n]), -n))
    best = next(r for r in finished if r["no"] == best_no)
    return dict(name=f"{best_no:02d} ({prev})", overrides=dict(best["overrides"]),
                best_AP=sum(by_no[best_no]) / len(by_no[best_no]))


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
    results = []
    for exp in exps:
        for seed in seeds:
            req = RunRequest(experiment=exp, data_root=str(data_root), results_dir=str(results_dir),
                             base=base_info, seed=int(seed), budget=budget, device=device,
                             scheme=scheme, common_overrides=common, num_workers=num_workers,
                             verbose=verbose, **run_options)
            results.append(execute(req))
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
