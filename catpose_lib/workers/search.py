"""Optuna search over the study's knobs: a TPE sampler, a median or Hyperband pruner fed each
epoch's AP by runs.hooks.OptunaPruningHook, and trials that are ordinary runs of block
``search/<study>`` (RunRequest + execute: result JSON and resolved config in the results format;
the trial's value is the run's best AP).

The study lives in Optuna's storage: SQLite ``RESULTS/search/<study>.db`` by default, or any
database URL that several processes or machines share (Optuna's distributed mode: each runs
``search`` on the same study and storage; ``n_trials`` counts the study's trials, all workers
and re-runs together).  A study remembers its protocol (space, budget, seed, fixed knobs): a
worker given another one is refused before any trial.
"""
import json
from pathlib import Path

from catpose_lib.data.validate import check_dataset
from catpose_lib.errors import ParameterError
from catpose_lib.recipe.config import build_config
from catpose_lib.recipe.experiments import Experiment, search_block
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.runs.hooks import pruning_trial
from catpose_lib.runs.results import FINISHED, NOT_CONVERGE, PRUNED, load_block_results, result_path
from catpose_lib.runs.run import RunRequest, execute
from catpose_lib.workers.search_space import check_space, describe, space_max, suggest, trial_knobs
from catpose_lib.workers.storage import TrialFailed, check_writable, open_storage, run_of

PRUNERS = ("median", "hyperband", "none")


def default_storage(results_dir, study: str) -> str:
    return f"sqlite:///{(Path(results_dir) / 'search' / f'{study}.db').resolve()}"


def check_search_parameters(study="search", space=None, n_trials=20, pruner="median", storage=None, timeout=None,
                            max_total_epochs=None, n_startup_trials=10, budget=None, device=None, precision=None,
                            data_root=None, shared_knobs=None) -> dict:
    """Normalised search parameters; the first bad one raises ParameterError, before any trial."""
    p = check_run_parameters(budget=budget, device=device, precision=precision, data_root=data_root or None,
                             shared_knobs=dict(shared_knobs or {}))
    try:
        p["block"] = search_block(study)
    except ValueError as exc:
        raise ParameterError("study", study, str(exc)) from None
    for name, value, what in (("n_trials", n_trials, "a number of trials >= 1"),
                              ("max_total_epochs", max_total_epochs, "a number of training epochs >= 1")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ParameterError(name, value, f"{what}, or None")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ParameterError("timeout", timeout, "seconds > 0, or None")
    if n_trials is None and timeout is None and max_total_epochs is None:
        raise ParameterError("n_trials", n_trials,
                             "a number of trials, unless timeout or max_total_epochs ends the search")
    if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int) or n_startup_trials < 0:
        raise ParameterError("n_startup_trials", n_startup_trials, "random trials before TPE models the space, >= 0")
    if (pruner not in PRUNERS) if isinstance(pruner, str) else not hasattr(pruner, "prune"):
        raise ParameterError("pruner", pruner, f"one of {', '.join(PRUNERS)}, or an optuna pruner")
    if storage is not None and (not isinstance(storage, str) or "://" not in storage):
        raise ParameterError("storage", storage, "a database URL, e.g. sqlite:///search.db or postgresql://"
                                                 "user:password@host/db; None for RESULTS/search/<study>.db")
    p["space"] = check_space(space, p["shared_knobs"])
    p["budget"] = p["settings"].budget
    return p


def make_pruner(pruner, longest_epochs: int):
    """A pruner by name (or an optuna pruner as it is), sized by the longest trial's epochs."""
    import optuna

    if not isinstance(pruner, str):
        return pruner
    if pruner == "median":  # a run's first epochs say little (warm-up, AP ~0): judged after a quarter
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, longest_epochs // 4))
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(1, longest_epochs), reduction_factor=3)
    return optuna.pruners.NopPruner()


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def open_study(name, storage, protocol: dict, pruner, sampler_seed=None, n_startup_trials=10):
    """Create or load the study (maximize AP); refuse one that holds another protocol."""
    import optuna

    sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=n_startup_trials)
    study = optuna.create_study(study_name=name, storage=open_storage(storage), direction="maximize",
                                sampler=sampler, pruner=pruner, load_if_exists=True)
    held, protocol = study.user_attrs.get("protocol"), _plain(protocol)
    if held is None:
        study.set_user_attr("protocol", protocol)
    else:
        for key in protocol:
            if held.get(key) != protocol[key]:
                raise ParameterError("study", name, f"{storage} holds this study with another {key} "
                                     f"({held.get(key)!r}, given {protocol[key]!r}); give the same, or another study")
    return study


def trained_epochs(study) -> int:
    return sum(int(t.user_attrs.get("epochs_trained", 0)) for t in study.get_trials(deepcopy=False))


class EpochBudget:
    """Stop the search before its trials' training epochs (every worker's) could pass ``limit``:
    Optuna stops on trial counts or time, while a comparison with a grid counts epochs."""

    def __init__(self, limit: int, longest: int):
        self.limit, self.longest = int(limit), int(longest)

    def exhausted(self, study) -> bool:
        return trained_epochs(study) + self.longest > self.limit

    def __call__(self, study, trial):
        if self.exhausted(study):
            study.stop()


def run_trial(trial, block, space, run_kwargs) -> float:
    """One trial: its knobs sampled, trained as an ordinary run (pruned by the hook), its value the
    run's best AP (a run that did not converge: its best AP before, or 0)."""
    import optuna

    params = suggest(trial, space)  # a dead worker's trial comes back with its params: resumed under its number
    no = run_of(trial.study.get_trials(deepcopy=False)[trial.number])
    exp = Experiment(no, block, "Search", describe(params), trial_knobs(params), ref_no=-1)
    req = RunRequest(experiment=exp, progress=f"trial {no}", **run_kwargs)
    with pruning_trial(trial):
        result = execute(req)
    history = result.get("history") or []
    trial.set_user_attr("status", result["status"])
    trial.set_user_attr("epochs_trained", max((h["epoch"] for h in history), default=0))
    trial.set_user_attr("result", str(result_path(req.results_dir, block, exp.no, req.seed)))
    trial.set_user_attr("key", result.get("key"))
    if result.get("skipped"):  # trained before with the same knobs: the pruner still sees its curve
        for h in history:
            if h.get("AP") is not None:
                trial.report(h["AP"], h["epoch"])
    if result["status"] == PRUNED:
        raise optuna.TrialPruned(result.get("message") or "pruned")
    if result["status"] in (FINISHED, NOT_CONVERGE):
        return float((result.get("best") or {}).get("AP") or 0.0)
    raise TrialFailed(f"trial {trial.number}: {result['status']}")


def longest_trial_epochs(data_root, space, fixed, budget) -> int:
    """The most epochs one trial can train (the space's longest, scaled by the budget)."""
    from catpose_lib.configs import SEARCH_CONFIG

    longest = space_max(space, "epochs")
    knobs = dict(fixed, **({"epochs": int(longest)} if longest is not None else {}))
    return int(build_config(data_root, knobs, budget=budget, config=SEARCH_CONFIG).train_cfg.max_epochs)


def run_search(data_root, results_dir, study="search", space=None, n_trials=20, pruner="median", budget=None,
               seed=0, sampler_seed=None, storage=None, timeout=None, max_total_epochs=None, n_startup_trials=10,
               device="auto", scheme=None, shared_knobs=None, verbose=True, check_data=True, **run_options) -> dict:
    """Run (or join, or continue) a study until it holds ``n_trials`` finished or pruned trials,
    ``timeout`` seconds pass, or its trials trained ``max_total_epochs`` epochs.

    ``space``: see workers.search_space (None: its DEFAULT_SPACE); ``shared_knobs``: knobs given to
    every trial (not searched); ``seed``: every trial's training seed; ``sampler_seed``: TPE's
    (give each worker its own, or None); ``run_options`` go to every RunRequest (precision,
    channels_last, image_cache, num_workers, start).  Returns the study, its storage URL, block,
    space and the results of its trials.
    """
    import optuna

    p = check_search_parameters(study=study, space=space, n_trials=n_trials, pruner=pruner, storage=storage,
                                timeout=timeout, max_total_epochs=max_total_epochs, n_startup_trials=n_startup_trials,
                                budget=budget, device=device, precision=run_options.get("precision"),
                                shared_knobs=shared_knobs)

    check_writable(results_dir)  # a read-only or full disk fails here, before the study's database
    if check_data:
        check_dataset(data_root, scheme=scheme)
    from catpose_lib.configs import SEARCH_CONFIG

    block, space, fixed = p["block"], p["space"], p["shared_knobs"]
    longest = longest_trial_epochs(data_root, space, fixed, p["budget"])
    if max_total_epochs is not None and longest > max_total_epochs:
        raise ParameterError("max_total_epochs", max_total_epochs, f"at least the longest trial's {longest} epochs")
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)
    url = storage or default_storage(results_dir, study)
    handle = open_study(study, url, dict(space=space, budget=p["budget"], seed=int(seed), shared_knobs=fixed),
                        make_pruner(pruner, longest), sampler_seed=sampler_seed, n_startup_trials=n_startup_trials)
    done_states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    callbacks, remaining = [], None
    if n_trials is not None:
        remaining = n_trials - len(handle.get_trials(deepcopy=False, states=done_states))
        callbacks.append(optuna.study.MaxTrialsCallback(n_trials, states=done_states))
    epoch_budget = EpochBudget(max_total_epochs, longest) if max_total_epochs is not None else None
    if epoch_budget:
        callbacks.append(epoch_budget)
    run_kwargs = dict(data_root=str(data_root), results_dir=str(results_dir), seed=int(seed), budget=p["budget"],
                      device=device, scheme=scheme, shared_knobs=fixed, verbose=verbose,
                      config=str(SEARCH_CONFIG), **run_options)
    if (remaining is None or remaining > 0) and not (epoch_budget and epoch_budget.exhausted(handle)):
        handle.optimize(lambda trial: run_trial(trial, block, space, run_kwargs), n_trials=remaining,
                        timeout=timeout, callbacks=callbacks, catch=(TrialFailed,), gc_after_trial=True)
    return dict(study=handle, storage=url, block=block, space=space, longest_epochs=longest,
                trained_epochs=trained_epochs(handle), results=load_block_results(results_dir, block))
