"""A grid of runs (a block's experiments x seeds) as an Optuna study, so that any number of
workers (processes, machines, SLURM array tasks) on one storage train each run once.

Trial k of the study is run k: Optuna numbers trials atomically, and GridSampler gives its
first n trials their grid points the same way (we skip its shuffle, and its fallback that hands
a point still training elsewhere to a second worker).  A dead worker's trial comes back WAITING
(workers.storage), and one worker pops it and resumes the run from its last checkpoint.  A study
is named by its block and its runs' keys; a worker that finds all its trials over while a run
still lacks a kept result (it failed) opens the next round, one trial per run again."""
import hashlib
import os
import socket
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from catpose_lib.errors import CatposeError
from catpose_lib.runs.results import KEPT_STATUSES, RUNNING_ELSEWHERE, read_result
from catpose_lib.runs.run import execute, resolve_run
from catpose_lib.workers.storage import TrialFailed, open_storage, run_of

OPEN = (TrialState.WAITING, TrialState.RUNNING)


def default_storage(results_dir) -> str:
    return f"sqlite:///{(Path(results_dir) / 'studies.db').resolve()}"


def poll_seconds() -> float:
    return float(os.environ.get("CATPOSE_WAIT_POLL_S", "30"))


def study_name(block, runs) -> str:
    return f"{block}-{hashlib.sha256(','.join(r['key'] for r in runs).encode()).hexdigest()[:12]}"


def _result(run):
    r = read_result(run["out_path"])
    return r if r and r.get("key") == run["key"] else None


def check_same_data(storage, data_root, fingerprint) -> None:
    """Refuse a storage (a results folder) in use by a live worker that trains on other data."""
    for s in storage.get_all_studies():
        study = optuna.load_study(study_name=s.study_name, storage=storage)
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial is not in use
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            w = t.user_attrs.get("worker", {})
            if w.get("fingerprint", fingerprint) != fingerprint:
                raise CatposeError(
                    f"the results folder's storage is in use by worker {w.get('host')}:{w.get('pid')} training on data "
                    f"{w.get('data_root')} (fingerprint {w['fingerprint']}), but this worker was given {data_root} "
                    f"(fingerprint {fingerprint}): give each dataset its own results folder")


def open_round(block, runs, url, data_root):
    """The study of these runs that workers share now: its latest round while one of its runs is
    to come, waiting or running; else (a run failed) the next round."""
    storage = open_storage(url)
    check_same_data(storage, data_root, runs[0]["fingerprint"])
    prefix = study_name(block, runs) + "-r"
    rounds = sorted(int(n[len(prefix):]) for n in optuna.get_all_study_names(storage) if n.startswith(prefix))
    if rounds:
        study = optuna.load_study(study_name=f"{prefix}{rounds[-1]}", storage=storage)
        optuna.storages.fail_stale_trials(study)
        if _pending(study, len(runs)):
            return study
    try:  # exactly one worker creates a round; the others load it
        return optuna.create_study(study_name=f"{prefix}{rounds[-1] + 1 if rounds else 0}", storage=storage)
    except optuna.exceptions.DuplicatedStudyError:
        return optuna.load_study(study_name=f"{prefix}{rounds[-1] + 1}", storage=storage)


def _pending(study, n, states=OPEN) -> list:
    """The runs of a study still to come (no trial yet) or in ``states``."""
    trials = study.get_trials(deepcopy=False)
    return sorted({run_of(t) for t in trials if t.state in states and run_of(t) < n} | set(range(len(trials), n)))


def run_grid(requests, storage=None, wait=True, verbose=True) -> list:
    """Train the runs of ``requests`` that no other worker trains, one trial at a time; with
    ``wait``, then wait for the others' (a dead worker's run is trained here).  Returns each
    run's result (a run still held by a live worker: status 'running elsewhere')."""
    runs = [resolve_run(req) for req in requests]
    if requests[0].launcher != "none" or all((_result(r) or {}).get("status") in KEPT_STATUSES for r in runs):
        return [execute(req, run) for req, run in zip(requests, runs)]  # a torchrun job is one worker
    block, n = requests[0].experiment.block, len(runs)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_round(block, runs, storage or default_storage(requests[0].results_dir), requests[0].data_root)
    told = False
    while True:
        if _pending(study, n, states=(TrialState.WAITING,)):
            trials = []
            try:
                study.optimize(lambda t: trials.append(t) or _train(t, requests, runs, verbose), n_trials=1,
                               catch=(TrialFailed,))
            except KeyboardInterrupt:  # Optuna failed the trial: queued again, as if this worker died
                if trials:
                    optuna.storages.RetryHeartbeatStaleTrialCallback()(study, study.trials[trials[0].number])
                raise
            continue
        pending = _pending(study, n) if wait else []
        if not pending:
            return [_result(run) or _held(study, k, req, run, verbose) for k, (req, run) in enumerate(zip(requests, runs))]
        if verbose and not told:
            print(f"[{block}] waiting for {len(pending)} run(s) that other workers train: "
                  f"{', '.join(runs[k]['name'] for k in pending)}", flush=True)
        told = True
        time.sleep(poll_seconds())
        optuna.storages.fail_stale_trials(study)


def _train(trial, requests, runs, verbose) -> float:
    k, gone = run_of(trial.study.get_trials(deepcopy=False)[trial.number]), trial.user_attrs.get("worker")
    if k >= len(runs):  # another worker took the last run between our look and our ask
        raise optuna.TrialPruned("no run left")
    trial.set_user_attr("worker", dict(host=socket.gethostname(), pid=os.getpid(), slurm=os.environ.get("SLURM_JOB_ID"),
                                       data_root=requests[k].data_root, fingerprint=runs[k]["fingerprint"], run=runs[k]["name"]))
    from catpose_lib.runs.hooks import block_progress  # mmdet's hooks: imported when training

    if gone and verbose:
        print(f"[{requests[k].experiment.block} {runs[k]['name']}] taking over from worker "
              f"{gone['host']}:{gone['pid']} (gone)", flush=True)
    with block_progress(len(_pending(trial.study, len(runs))) - 1):
        result = execute(requests[k], runs[k])
    if result["status"] not in KEPT_STATUSES:
        raise TrialFailed(f"{runs[k]['name']}: {result['status']}")
    return float((result.get("best") or {}).get("AP") or 0.0)


def _held(study, k, req, run, verbose) -> dict:
    """A run without a result: held by a live worker, or failed without one (its trial says)."""
    exp = req.experiment
    live = [t.user_attrs.get("worker") or {} for t in study.get_trials(deepcopy=False, states=OPEN) if run_of(t) == k]
    if verbose and live:
        print(f"[{exp.block} {run['name']}] being trained by worker {live[0].get('host')}:{live[0].get('pid')}: "
              f"skipped", flush=True)
    return dict(no=exp.no, ref_no=exp.ref_no, name=run["name"], block=exp.block, policy=exp.policy,
                parameter=exp.parameter, seed=req.seed, budget=run["budget"], key=run["key"], base=req.base,
                status=RUNNING_ELSEWHERE if live else "failed: no result (see the workers' logs)",
                claimed_by=live[0] if live else None, skipped=True, provenance=dict(device=run["device"]))
