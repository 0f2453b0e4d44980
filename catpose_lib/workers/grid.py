"""A block's runs x seeds as one Optuna study that any number of workers share (storage:
workers.storage).  Trial k trains run k: Optuna numbers trials atomically, as GridSampler hands
out its first n points, without its shuffle or its re-run of a point still training elsewhere.
A dead worker's trial comes back WAITING with its run, which one worker resumes.  Once a round's
trials are over with a run failed, the next worker opens the next round (``...-r<N>``)."""
import hashlib
import os
import socket
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from catpose_lib.console import say
from catpose_lib.errors import CatposeError
from catpose_lib.runs.results import KEPT_STATUSES, RUNNING_ELSEWHERE, kept_result, read_result
from catpose_lib.runs.run import execute, resolve_run
from catpose_lib.workers.storage import TrialFailed, open_storage, run_of

OPEN = (TrialState.WAITING, TrialState.RUNNING)


def default_storage(results_dir) -> str:
    return f"sqlite:///{(Path(results_dir) / 'studies.db').resolve()}"


def poll_seconds() -> float:
    return float(os.environ.get("CATPOSE_WAIT_POLL_S", "30"))


def study_name(block, runs) -> str:
    return f"{block}-{hashlib.sha256(','.join(r['key'] for r in runs).encode()).hexdigest()[:12]}"


def _pending(study, n, states=OPEN) -> list:
    """The runs of a study still to start (no trial yet) or in ``states``."""
    trials = study.get_trials(deepcopy=False)
    return sorted({run_of(t) for t in trials if t.state in states and run_of(t) < n} | set(range(len(trials), n)))


def open_round(block, runs, url, data_root):
    """The round of these runs' study that workers share now, or the next one (a run failed);
    refused while a live worker trains other data into the same results folder."""
    storage, fingerprint, prefix = open_storage(url), runs[0]["fingerprint"], study_name(block, runs) + "-r"
    studies = [optuna.load_study(study_name=s, storage=storage) for s in optuna.get_all_study_names(storage)]
    for study in studies:
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial is not in use
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            w = t.user_attrs.get("worker", {})
            if w.get("fingerprint", fingerprint) != fingerprint:
                raise CatposeError(
                    f"the results folder's storage is in use by worker {w.get('host')}:{w.get('pid')} training on "
                    f"data {w.get('data_root')} (fingerprint {w['fingerprint']}), but this worker was given "
                    f"{data_root} (fingerprint {fingerprint}): give each dataset its own results folder")
    rounds = sorted((s for s in studies if s.study_name.startswith(prefix)),
                    key=lambda s: int(s.study_name[len(prefix):]))
    if rounds and _pending(rounds[-1], len(runs)):
        return rounds[-1]
    try:  # one worker creates the next round; the others load it
        return optuna.create_study(study_name=f"{prefix}{len(rounds)}", storage=storage, direction="maximize")  # AP
    except optuna.exceptions.DuplicatedStudyError:
        return optuna.load_study(study_name=f"{prefix}{len(rounds)}", storage=storage)


def run_grid(requests, storage=None, wait=True, verbose=True) -> list:
    """Train the runs of ``requests`` that no other worker trains, one trial at a time; with
    ``wait``, then wait for the others' (a dead worker's run is trained here).  Returns each
    run's result (a run a live worker trains: status 'running elsewhere')."""
    runs = [resolve_run(req) for req in requests]
    if requests[0].launcher != "none" or all(kept_result(r["out_path"], r["key"]) for r in runs):  # torchrun, or done
        return [execute(req, run) for req, run in zip(requests, runs)]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_round(requests[0].experiment.block, runs, storage or default_storage(requests[0].results_dir),
                       requests[0].data_root)
    pace, waited = [], False  # pace: seconds a run trained here
    while True:
        if _pending(study, len(runs), states=(TrialState.WAITING,)):
            trials = []
            try:
                study.optimize(lambda t: trials.append(t) or _train(t, requests, runs, pace, verbose),
                               n_trials=1, catch=(TrialFailed,))
            except KeyboardInterrupt:  # Optuna failed the trial: queued again, as if this worker died
                if trials:
                    optuna.storages.RetryHeartbeatStaleTrialCallback()(study, study.trials[trials[0].number])
                raise
            continue
        pending = _pending(study, len(runs)) if wait else []
        if not pending:
            return [_result_or_holder(study, k, req, run, verbose) for k, (req, run) in enumerate(zip(requests, runs))]
        if verbose and not waited:
            say(f"[{requests[0].experiment.block}] waiting for {len(pending)} run(s) that other workers train: "
                f"{', '.join(runs[k]['name'] for k in pending)}")
        waited = True
        time.sleep(poll_seconds())
        optuna.storages.fail_stale_trials(study)


def _train(trial, requests, runs, pace, verbose) -> float:
    from catpose_lib.runs.hooks import block_progress  # lazy: torch/mmengine (CLI speed)

    k, gone, n = run_of(trial.study.get_trials(deepcopy=False)[trial.number]), trial.user_attrs.get("worker"), len(runs)
    if k >= n:  # another worker took the last run between our look and our ask
        raise optuna.TrialPruned("no run left")
    req, run, block = requests[k], runs[k], requests[k].experiment.block
    trial.set_user_attr("worker", dict(host=socket.gethostname(), pid=os.getpid(), slurm=os.environ.get("SLURM_JOB_ID"),
                                       data_root=req.data_root, fingerprint=run["fingerprint"], run=run["name"]))
    if gone and verbose:
        say(f"[{block} {run['name']}] taking over from worker {gone['host']}:{gone['pid']} (gone)")
    t0 = time.perf_counter()
    with block_progress(len(_pending(trial.study, n)) - 1, sum(pace) / len(pace) if pace else None):
        result = execute(req, run)
    pace += [] if result.get("skipped") else [time.perf_counter() - t0]
    left = len(_pending(trial.study, n)) - 1  # this trial still runs
    if verbose and left and pace and not result.get("skipped"):
        mean = sum(pace) / len(pace)
        say(f"[{block}] {n - left}/{n} runs done; ~{mean * left / 60:.1f} min left for the block "
            f"(at {mean / 60:.1f} min a run)")
    if result["status"] not in KEPT_STATUSES:
        raise TrialFailed(f"{run['name']}: {result['status']}")
    return float((result.get("best") or {}).get("AP") or 0.0)


def _result_or_holder(study, k, req, run, verbose) -> dict:
    """A run's result; without one, a placeholder naming the live worker that trains it (or a failure)."""
    result = read_result(run["out_path"])
    if result and result.get("key") == run["key"]:
        return result
    exp, w = req.experiment, next((t.user_attrs.get("worker", {}) for t in study.get_trials(states=OPEN)
                                   if run_of(t) == k), None)
    if verbose and w is not None:
        say(f"[{exp.block} {run['name']}] being trained by worker {w.get('host')}:{w.get('pid')}: skipped")
    return dict(no=exp.no, ref_no=exp.ref_no, name=run["name"], block=exp.block, policy=exp.policy,
                parameter=exp.parameter, seed=req.seed, budget=run["budget"], key=run["key"], base=req.base,
                status=RUNNING_ELSEWHERE if w is not None else "failed: no result", claimed_by=w, skipped=True,
                provenance=dict(device=run["device"]))
