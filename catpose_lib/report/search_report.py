"""Notebook 08_search: an Optuna study over the study's knobs, then its trials table and Optuna's
optimization history, parameter importance and parallel-coordinate plots (matplotlib backend)."""
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd

from catpose_lib.console import logged
from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.report.record import write_report_record
from catpose_lib.workers.search import check_search_parameters, run_search

PLOTS = ("history", "importance", "parallel")


def trials_table(study):
    """One row per trial (Optuna's ``trials_dataframe``): number, state, value (best AP), the
    sampled knobs, the run's status and epochs trained, and the duration in seconds."""
    frame = study.trials_dataframe(attrs=("number", "state", "value", "params", "user_attrs", "duration"))
    if frame.empty:
        return pd.DataFrame(columns=["number", "state", "AP"])
    knobs = [c[len("params_"):] for c in frame.columns if c.startswith("params_")]
    frame = frame.rename(columns=lambda c: c.replace("params_", "").replace("user_attrs_", ""))
    frame = frame.rename(columns={"value": "AP", "status": "run status", "epochs_trained": "epochs"})
    frame["duration"] = frame["duration"].dt.total_seconds().round(1)
    keep = ["number", "state", "AP", *knobs, "run status", "epochs", "duration"]
    return frame[[c for c in keep if c in frame.columns]]


def _plot(name, study):
    import optuna.visualization.matplotlib as ov
    from optuna.trial import TrialState

    if name == "history":
        return ov.plot_optimization_history(study, target_name="best AP")
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        raise ValueError(f"needs 2 or more finished trials (the study has {len(complete)})")
    if name == "importance":
        return ov.plot_param_importances(study, target_name="best AP")
    return ov.plot_parallel_coordinate(study, target_name="best AP")


def save_search_figures(study, out_dir) -> dict:
    """Optuna's matplotlib plots as PNGs in ``out_dir``: {history, importance, parallel} -> path.
    A plot the study cannot show yet (importance and parallel coordinates need 2 finished trials)
    is a figure saying why.  Optuna draws with pyplot and sets a style: both stay inside here."""
    import matplotlib
    import matplotlib.pyplot as plt

    out_dir, paths = Path(out_dir), {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in PLOTS:
        with matplotlib.rc_context(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
            try:
                fig = _plot(name, study).figure
            except ValueError as exc:
                fig = plt.figure(figsize=(6, 2))
                fig.text(0.5, 0.5, f"{name}: {exc}", ha="center", va="center")
            fig.set_size_inches(max(fig.get_size_inches()[0], 7), max(fig.get_size_inches()[1], 4))
            fig.tight_layout()
            fig.savefig(out_dir / f"{name}.png", dpi=110)
            plt.close(fig)
        paths[name] = out_dir / f"{name}.png"
    return paths


def search_verdict(study, best, trained_epochs) -> str:
    """One line: the best trial and what the study holds."""
    states = Counter(t.state.name.lower() for t in study.trials)
    held = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    if best is None:
        return f"No finished trial yet ({held or 'no trials'}; {trained_epochs} training epochs)."
    return (f"Best: trial {best['number']}, AP {best['AP']:.4f} with {best['params']} "
            f"({len(study.trials)} trials: {held}; {trained_epochs} training epochs).")


@logged("08_search")
def run_search_report(data_root="", results_dir="results", figures_dir="figures", study="search", space=None,
                      n_trials=20, pruner="median", budget="full", seed=0, sampler_seed=None, storage=None,
                      timeout=None, max_total_epochs=None, n_startup_trials=10, device="auto", scheme=None,
                      shared_knobs=None, synthetic=None, verbose=True, **run_options) -> dict:
    """Run (or continue) the study, then its table, figures and record
    (``RESULTS/reports/08_search.json``); figures in ``FIGURES/08_search/<study>/``."""
    check_search_parameters(study=study, space=space, n_trials=n_trials, pruner=pruner, storage=storage,
                            timeout=timeout, max_total_epochs=max_total_epochs, n_startup_trials=n_startup_trials,
                            budget=budget, device=device, precision=run_options.get("precision"),
                            data_root=data_root or None, shared_knobs=shared_knobs)  # before the synthetic data is made
    root = resolve_data_root(data_root, **(synthetic or {}))
    done = run_search(root, results_dir, study=study, space=space, n_trials=n_trials, pruner=pruner, budget=budget,
                      seed=seed, sampler_seed=sampler_seed, storage=storage, timeout=timeout,
                      max_total_epochs=max_total_epochs, n_startup_trials=n_startup_trials, device=device,
                      scheme=scheme, shared_knobs=shared_knobs, verbose=verbose, **run_options)
    handle = done["study"]
    table = trials_table(handle)
    figures = save_search_figures(handle, Path(figures_dir) / "08_search" / study)
    best = None
    if any(t.state.name == "COMPLETE" for t in handle.trials):
        t = handle.best_trial
        best = dict(number=t.number, AP=t.value, params=t.params, result=t.user_attrs.get("result"))
    verdict = search_verdict(handle, best, done["trained_epochs"])
    report = dict(data_root=str(root), study=study, storage=done["storage"], block=done["block"], space=done["space"],
                  best=best, verdict=verdict, table=table, figures=figures, trained_epochs=done["trained_epochs"],
                  results=done["results"])
    report["record"] = write_report_record(
        results_dir, "08_search", data_root=str(root), study=study, storage=done["storage"], block=done["block"],
        space=done["space"], pruner=pruner if isinstance(pruner, str) else type(pruner).__name__, budget=budget,
        best=best, verdict=verdict, trained_epochs=done["trained_epochs"], table=table, figures=figures,
        trials=[dict(number=t.number, state=t.state.name, value=t.value, params=t.params,
                     intermediate=t.intermediate_values, **t.user_attrs) for t in handle.trials])
    return report
