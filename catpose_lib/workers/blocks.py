"""Run a block of the study: resolve its base, check the data, then run every experiment x
seed as a grid of workers.grid (finished runs are skipped, interrupted ones resume)."""
from catpose_lib.data.validate import check_dataset
from catpose_lib.errors import CatposeError
from catpose_lib.recipe.experiments import (
    BASELINE,
    BLOCKS,
    block_experiments,
    get_experiment,
    previous_block,
    resolve_block,
)
from catpose_lib.recipe.knobs import merge_knobs
from catpose_lib.report.verdict import decide, finished_runs, seed_noise, val_noise
from catpose_lib.runs.results import FINISHED, load_block_results, seed_stats, winner
from catpose_lib.runs.run import RunRequest, baseline_base
from catpose_lib.workers.grid import run_grid
from catpose_lib.workers.storage import check_writable
from catpose_lib.console import say


def resolve_base(block, base, results_dir) -> dict:
    """``baseline``, or ``best``: the best known recipe after the previous block
    (:func:`study_walk`): that block's winner (runs.results.winner) when the adopt rule
    (report.verdict.decide) carries it on, else the recipe the block started from, kept.

    A base carries only its own experiment's knobs (and its own base's, down the study's
    path), never the protocol given to every run (budget, start checkpoint, model size): those
    are passed to each run again and listed in its result as ``shared_knobs``.
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
    own = merge_knobs(runs[0]["base"]["knobs"], runs[0]["experiment_knobs"])
    return dict(name=f"{top:02d} ({block})", no=top, block=block, knobs=own,
                best_AP=float(stats.loc[top, "best_mean"]), seeds=int(stats.loc[top, "seeds"]),
                best_sd=None if stats.loc[top, "seeds"] < 2 else float(stats.loc[top, "best_sd"]),
                runs=[dict(seed=r["seed"], key=r["key"]) for r in runs])


def study_walk(results_dir, val_file=None) -> list:
    """The study's path of recipes: the baseline, then after each block with finished runs the
    best known recipe.  A block's winner is adopted when the adopt rule (report.verdict.decide,
    the one place it is written) carries it on against the base its runs started from;
    otherwise the recipe is kept (a change not shown beyond the noise is not carried on).
    Each step: block, its results, recipe (the base of the next block), winner (the block's
    own), adopted, verdict (decide's), and ``started_from`` when the block's runs recorded
    another base than the recipe the walk had reached (the block predates the rule's path).
    ``val_file``: the val annotations for paired bootstraps of kept val predictions (default:
    each run's own data root; see report.verdict.run_val_evals)."""
    blocks = {block: load_block_results(results_dir, block) for block in ("baseline", *BLOCKS)}
    noise = seed_noise(blocks)
    widen = val_noise(blocks, results_dir, val_file)
    results = blocks["baseline"]
    baseline = _winner_recipe("baseline", results)
    recipe = dict(baseline_base(), **({k: baseline[k] for k in ("best_AP", "seeds", "best_sd", "runs")}
                                      if baseline else {}))
    steps = [dict(block="baseline", results=results, recipe=recipe, winner=baseline, adopted=True, verdict=None)]
    for block in BLOCKS:
        results = blocks[block]
        top = _winner_recipe(block, results)
        if top is None:
            continue
        started = next(r for r in results if r["no"] == top["no"])["base"]
        base_runs = finished_runs(blocks.get(started.get("block"), []), started.get("no"))
        verdict = decide(results, base_runs, started["name"], noise, widen, results_dir, val_file)
        step = dict(block=block, results=results, winner=top, adopted=verdict["adopted"], verdict=verdict)
        if started["name"] != recipe["name"]:
            step["started_from"] = started["name"]
        recipe = top if verdict["adopted"] else recipe
        steps.append(dict(step, recipe=recipe))
    return steps


def block_jobs(block, experiments=None, seeds=(0,)) -> list:
    """A block's runs in order, as (experiment, seed), experiment-major: the grid of its study."""
    if resolve_block(block) == "baseline":
        return [(BASELINE, int(seed)) for seed in seeds]
    return [(exp, int(seed)) for exp in block_experiments(block, experiments) for seed in seeds]


def run_block(block, data_root, results_dir, experiments=None, seeds=(0,),
              device="auto", base="best", scheme=None, shared_knobs=None, num_workers=None,
              verbose=True, check_data=True, confirm_seeds=(), wait=True, storage=None, **run_options) -> list:
    """Run a block (or a subset of its experiments) and return the results, one per run.

    Any number of workers may run the same block (same experiments, seeds and protocol) on one
    ``storage`` (workers.grid; default: SQLite in the results folder): each run is trained once.
    ``wait``: wait for the runs other workers train, so that the block's table, verdict and the
    next block's base see every run; then ``confirm_seeds`` (:func:`confirm_winner`).
    ``run_options`` go to every :class:`RunRequest` (budget, min_epochs, start, starts, protocol:
    recipe.protocols.Settings.run_options; precision, channels_last, image_cache, launcher).
    """
    jobs = block_jobs(block, experiments, seeds)
    check_writable(results_dir)
    if check_data:
        check_dataset(data_root, scheme=scheme)
    base_info = dict(resolve_base(block, base, results_dir))
    common = dict(shared_knobs or {})

    def requests(jobs, label="run"):
        return [RunRequest(experiment=exp, data_root=str(data_root), results_dir=str(results_dir), base=base_info,
                           seed=seed, device=device, scheme=scheme, shared_knobs=common,
                           num_workers=num_workers, verbose=verbose, progress=f"{label} {i}/{len(jobs)}",
                           **run_options) for i, (exp, seed) in enumerate(jobs, 1)]

    results = run_grid(requests(jobs), storage, wait, verbose)
    if confirm_seeds and wait:  # the winner needs every run
        results += confirm_winner(block, results, confirm_seeds, requests, verbose, storage)
    return results


def confirm_winner(block, results, confirm_seeds, requests, verbose=True, storage=None) -> list:
    """More seeds for the block's winner until the winner has them all: a winner found on one
    seed may lose its place once averaged, and the next one is then confirmed too.  Each
    (experiment, seed) is tried once.  ``requests(jobs, label)``: their RunRequests."""
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
        added += run_grid(requests(jobs, label=f"confirm {top:02d}"), storage, True, verbose)


def run_baseline(data_root, results_dir, seeds=(0,), wait=True, storage=None, **kwargs) -> list:
    """The baseline alone, stored as block 'baseline' (run 00); ``wait``, ``storage`` as in run_block."""
    check_writable(results_dir)
    if kwargs.pop("check_data", True):
        check_dataset(data_root, scheme=kwargs.get("scheme"))
    requests = [RunRequest(experiment=BASELINE, data_root=str(data_root), results_dir=str(results_dir),
                           seed=int(seed), progress=f"run {i}/{len(seeds)}", **kwargs)
                for i, seed in enumerate(seeds, 1)]
    return run_grid(requests, storage, wait, kwargs.get("verbose", True))
