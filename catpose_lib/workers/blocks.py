"""Run a block of the study: resolve its base, check the data, then run every experiment x
seed (finished runs are skipped, interrupted ones resume), saying how far it is."""
import dataclasses
import os
import time

from catpose_lib.workers.claims import check_writable
from catpose_lib.recipe.experiments import (BASELINE, block_experiments, get_experiment,
                                            previous_block, resolve_block)
from catpose_lib.recipe.knobs import merge_overrides
from catpose_lib.runs.results import (FINISHED, RUNNING_ELSEWHERE, carried_on, load_block_results, seed_stats,
                                       winner)
from catpose_lib.runs.run import RunRequest, baseline_base, execute
from catpose_lib.errors import CatposeError
from catpose_lib.console import say


def resolve_base(block, base, results_dir) -> dict:
    """``baseline``, or ``best``: the best known recipe after the previous block
    (:func:`study_walk`): that block's winner (runs.results.winner) when it beats the recipe
    the block started from, else that recipe, kept.

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
    step = next((s for s in study_walk(results_dir) if s["block"] == prev), None)
    if step is None:
        raise CatposeError(
            f"base 'best' needs finished runs of the previous block '{prev}' in {results_dir}; "
            f"run that block first, or use base 'baseline'")
    return step["recipe"]


def _winner_recipe(block, results) -> dict:
    """The block's winner as a base: its own knobs (its base's and its experiment's), its mean
    and sd of best AP over its finished seeds; None when no run finished."""
    stats = seed_stats(results)
    top = winner(stats)
    if top is None:
        return None
    runs = [r for r in results if r["no"] == top and r["status"] == FINISHED]
    own = merge_overrides(runs[0]["base"]["overrides"], runs[0]["experiment_overrides"])
    return dict(name=f"{top:02d} ({block})", no=top, block=block, overrides=own,
                best_AP=float(stats.loc[top, "best_mean"]), seeds=int(stats.loc[top, "seeds"]),
                best_sd=None if stats.loc[top, "seeds"] < 2 else float(stats.loc[top, "best_sd"]),
                runs=[dict(seed=r["seed"], key=r["key"]) for r in runs])


def study_walk(results_dir) -> list:
    """The study's path of recipes: the baseline, then after each block with finished runs the
    best known recipe.  A block's winner is adopted when its mean best AP beats the recipe the
    block started from (runs.results.carried_on); otherwise that recipe is kept (a change
    that lost is not carried on).  Each step: block, its results, recipe (the base of the next
    block), winner (the block's own), adopted."""
    from catpose_lib.recipe.experiments import BLOCKS

    results = load_block_results(results_dir, "baseline")
    baseline = _winner_recipe("baseline", results)
    recipe = dict(baseline_base(), **({k: baseline[k] for k in ("best_AP", "seeds", "best_sd", "runs")}
                                      if baseline else {}))
    steps = [dict(block="baseline", results=results, recipe=recipe, winner=baseline, adopted=True)]
    for block in BLOCKS:
        results = load_block_results(results_dir, block)
        top = _winner_recipe(block, results)
        if top is None:
            continue
        adopted = carried_on(top["best_AP"], recipe.get("best_AP"))
        recipe = top if adopted else recipe
        steps.append(dict(block=block, results=results, recipe=recipe, winner=top, adopted=adopted))
    return steps


def block_jobs(block, experiments=None, seeds=(0,)) -> list:
    """A block's runs in order, as (experiment, seed): experiment-major, so that task i of a
    job array is ``block_jobs(...)[i]``."""
    if resolve_block(block) == "baseline":
        return [(BASELINE, int(seed)) for seed in seeds]
    return [(exp, int(seed)) for exp in block_experiments(block, experiments) for seed in seeds]


def task_index(task, n_jobs: int) -> int:
    """``task``: an index into the block's jobs, or 'slurm' for $SLURM_ARRAY_TASK_ID."""
    raw = os.environ.get("SLURM_ARRAY_TASK_ID") if str(task) == "slurm" else task
    if raw is None:
        raise CatposeError("--task slurm: SLURM_ARRAY_TASK_ID is not set (not inside a job array task)")
    try:
        i = int(raw)
    except ValueError:
        raise CatposeError(f"--task must be a job index or 'slurm', not {task!r}") from None
    if not 0 <= i < n_jobs:
        raise CatposeError(f"task {i} is out of range: this block has {n_jobs} jobs (experiments x seeds), "
                           f"indices 0..{n_jobs - 1}; size the array with `run ... --count-tasks`")
    return i


def run_block(block, data_root, results_dir, experiments=None, budget="full", seeds=(0,),
              device="auto", base="best", scheme=None, overrides=None, num_workers=None,
              verbose=True, check_data=True, task=None, confirm_seeds=(), wait=None, **run_options) -> list:
    """Run a block (or a subset of its experiments) and return the results, one per run.

    Any number of workers may run the same block on one results folder at once: each run is
    claimed (workers.claims), so it is trained once.  ``task``: only that job of the block
    (a job-array task).  ``confirm_seeds``: more seeds for the winner (:func:`confirm_winner`).
    ``wait`` (default: unless ``task``): wait for the runs other workers hold, so that the
    block's table, verdict and the next block's base see every run.
    ``run_options`` go to every :class:`RunRequest` (precision, channels_last, image_cache,
    launcher, init, protocol).
    """
    jobs = block_jobs(block, experiments, seeds)
    if task is not None:
        jobs = [jobs[task_index(task, len(jobs))]]
    check_writable(results_dir)
    if check_data:
        from catpose_lib.data.validate import check_dataset

        check_dataset(data_root, scheme=scheme)
    base_info = resolve_base(block, base, results_dir)
    common = dict(overrides or {})
    base_info = dict(base_info)

    def request(exp, seed, progress):
        return RunRequest(experiment=exp, data_root=str(data_root), results_dir=str(results_dir),
                          base=base_info, seed=seed, budget=budget, device=device,
                          scheme=scheme, common_overrides=common, num_workers=num_workers,
                          verbose=verbose, progress=progress, **run_options)

    wait = _waits(wait, task)
    results = _execute_jobs(block, jobs, request, verbose, wait=wait)
    if confirm_seeds and task is None:
        results += confirm_winner(block, results, confirm_seeds, request, verbose, wait=wait)
    return results


def _waits(wait, task) -> bool:
    """``wait`` None: wait for the runs other workers hold, unless this is one job-array task."""
    return task is None if wait is None else bool(wait)


def wait_poll_seconds() -> float:
    return float(os.environ.get("CATPOSE_WAIT_POLL_S", "30"))


def wait_for_others(block, results, requests, verbose=True) -> list:
    """Replace each result 'running elsewhere' by the run's result once its worker has finished
    it, polling every CATPOSE_WAIT_POLL_S seconds (30); a run whose worker died is taken over
    and trained here (execute's claim logic).  ``requests``: the RunRequest of each result."""
    results = list(results)
    pending = [i for i, r in enumerate(results) if r.get("status") == RUNNING_ELSEWHERE]
    if pending and verbose:
        say(f"[{block}] waiting for {len(pending)} run(s) that other workers train: "
            f"{', '.join(results[i]['name'] for i in pending)}")
    while pending:
        time.sleep(wait_poll_seconds())
        for i in pending:
            results[i] = execute(dataclasses.replace(requests[i], quiet_when_held=True))
            if verbose and results[i].get("skipped") and results[i].get("status") != RUNNING_ELSEWHERE:
                say(f"[{block} {results[i]['name']}] {results[i]['status']} by another worker")
        pending = [i for i in pending if results[i].get("status") == RUNNING_ELSEWHERE]
    return results


def _execute_jobs(block, jobs, request, verbose, label="run", wait=False) -> list:
    from catpose_lib.runs.hooks import block_progress  # mmdet's hooks: imported when training

    results, requests, trained_seconds, trained = [], [], 0.0, 0
    for i, (exp, seed) in enumerate(jobs, 1):
        t0 = time.perf_counter()
        requests.append(request(exp, seed, f"{label} {i}/{len(jobs)}"))
        with block_progress(len(jobs) - i, trained_seconds / trained if trained else None):
            results.append(execute(requests[-1]))
        if not results[-1].get("skipped"):
            trained_seconds, trained = trained_seconds + time.perf_counter() - t0, trained + 1
        if verbose and trained and i < len(jobs):
            say(f"[{block}] {i}/{len(jobs)} runs done; ~{trained_seconds / trained * (len(jobs) - i) / 60:.1f} min "
                f"left for the block (at {trained_seconds / trained / 60:.1f} min a run)")
    return wait_for_others(block, results, requests, verbose) if wait else results


def confirm_winner(block, results, confirm_seeds, request, verbose=True, wait=False) -> list:
    """More seeds for the block's winner until the winner has them all: a winner found on one
    seed may lose its place once averaged, and the next one is then confirmed too.  Each
    (experiment, seed) is tried once."""
    added, tried = [], set()
    while True:
        pool = results + added
        top = winner(seed_stats(pool))
        if top is None:
            return added
        have = {r["seed"] for r in pool if r["no"] == top}
        jobs = [(get_experiment(top), int(s)) for s in confirm_seeds
                if int(s) not in have and (top, int(s)) not in tried]
        if not jobs:
            return added
        tried.update((top, seed) for _, seed in jobs)
        if verbose:
            say(f"[{block}] winner so far: run {top:02d}; confirming it with seeds "
                f"{', '.join(str(seed) for _, seed in jobs)}")
        added += _execute_jobs(block, jobs, request, verbose, label=f"confirm {top:02d}", wait=wait)


def run_baseline(data_root, results_dir, **kwargs) -> list:
    """The baseline alone, stored as block 'baseline' (run 00); ``wait`` as in run_block."""
    seeds = kwargs.pop("seeds", (0,))
    task = kwargs.pop("task", None)
    wait = _waits(kwargs.pop("wait", None), task)
    if task is not None:
        seeds = [seeds[task_index(task, len(seeds))]]
    check_writable(results_dir)
    if kwargs.pop("check_data", True):
        from catpose_lib.data.validate import check_dataset

        check_dataset(data_root, scheme=kwargs.get("scheme"))
    requests = [RunRequest(experiment=BASELINE, data_root=str(data_root), results_dir=str(results_dir),
                           seed=int(seed), **kwargs) for seed in seeds]
    results = [execute(req) for req in requests]
    return wait_for_others("baseline", results, requests, kwargs.get("verbose", True)) if wait else results
