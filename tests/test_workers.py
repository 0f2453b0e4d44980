"""Many workers on one results folder (workers.grid: an Optuna study per block): every run
trained once, a dead worker's run taken over and resumed, SLURM array tasks, and folders that
cannot be shared or written."""
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from catpose_lib.errors import CatposeError
from tests.conftest import QUICK, fake_worker, grid_study

REPO = Path(__file__).resolve().parents[1]
QUICK_SET = ["--set", "resnet_depth=18", "input_size=64", "heatmap_size=16"]


def _cmd(block, data, results, *extra):
    return [sys.executable, "-m", "catpose_lib", "run", block, "--data", str(data), "--results", str(results),
            "--base", "baseline", "--device", "cpu", "--workers", "0", *extra, *QUICK_SET]


def test_trial_k_is_run_k_and_a_dead_workers_trial_comes_back_with_its_run(tmp_path, monkeypatch):
    from catpose_lib.workers.grid import default_storage
    from catpose_lib.workers.storage import open_storage, run_of

    monkeypatch.setenv("CATPOSE_GRACE_S", "1")
    storage = open_storage(default_storage(tmp_path))
    study = optuna.create_study(study_name="block-r0", storage=storage)
    first, second = study.ask(), study.ask()
    first.set_user_attr("worker", dict(host="node-7", pid=1))
    storage.record_heartbeat(first._trial_id)
    storage.record_heartbeat(second._trial_id)
    study.tell(second, 0.5)
    time.sleep(2.5)  # no heartbeat for longer than the grace period: the worker of trial 0 is dead
    optuna.storages.fail_stale_trials(study)
    states = [t.state.name for t in study.trials]
    assert states == ["FAIL", "COMPLETE", "WAITING"] and [run_of(t) for t in study.trials] == [0, 1, 0]
    again = study.ask()  # the next worker pops the waiting copy: run 0, with the dead worker's record
    assert again.number == 2 and again.user_attrs["worker"]["host"] == "node-7"


def test_workers_opening_a_new_database_at_once_all_get_it(tmp_path):
    """Optuna's first open of a database creates its tables: workers started together raced on
    them (23 of 30 failed, 6 at a time), so workers.storage retries the open."""
    from catpose_lib.workers.grid import default_storage

    code = ("import sys; from catpose_lib.workers.storage import open_storage; "
            f"open_storage({default_storage(tmp_path)!r}); print('ok')")
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(6)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [o.strip() for o, _ in outs] == ["ok"] * 6, [e[-500:] for _, e in outs]


def _request(tiny_cats, results, no=10, seed=0):
    from catpose_lib.recipe.experiments import get_experiment
    from catpose_lib.runs.run import RunRequest

    return RunRequest(experiment=get_experiment(no), data_root=str(tiny_cats), results_dir=str(results),
                      seed=seed, budget="smoke", device="cpu", num_workers=0, verbose=False,
                      shared_knobs=dict(resnet_depth=18, input_size=64, heatmap_size=16))


def test_workers_on_other_data_are_refused_before_training(tiny_cats, tmp_path):
    from catpose_lib.workers.blocks import run_block

    fake_worker(tmp_path, "optimizer-0123456789ab-r0")  # a live worker of block 06 on other data
    with pytest.raises(CatposeError) as err:
        run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                  device="cpu", num_workers=0, verbose=False)
    msg = str(err.value)
    assert "/elsewhere/cats" in msg and str(tiny_cats) in msg and "node-7" in msg
    assert not (tmp_path / "lr_batch").exists()


@pytest.mark.parametrize("code, words", [(errno.EROFS, "read-only filesystem"), (errno.ENOSPC, "full disk")])
def test_unwritable_results_folder_is_a_clear_error_and_changes_nothing(tiny_cats, tmp_path, monkeypatch,
                                                                          code, words):
    from catpose_lib.workers import storage
    from catpose_lib.workers.blocks import run_block

    kept = tmp_path / "lr_batch" / "10_s0.json"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"earlier": "result"}')

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(storage, "open", refuse, raising=False)
    with pytest.raises(CatposeError, match=words) as err:
        run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                  device="cpu", num_workers=0, verbose=False)
    assert str(tmp_path) in str(err.value)
    assert kept.read_text() == '{"earlier": "result"}'
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["10_s0.json", "lr_batch"]


def test_slurm_array_task_is_a_worker_of_the_block(tiny_cats, tmp_path):
    """The array script's body, run locally with the variables SLURM sets in a task: a worker
    that takes the runs nobody trains and does not wait."""
    args = ["baseline", "--data", str(tiny_cats), "--results", str(tmp_path), "--seeds", "0,1",
            "--budget", "smoke", "--base", "baseline", "--device", "cpu", "--workers", "0", *QUICK_SET]
    count = subprocess.run([sys.executable, "-m", "catpose_lib", "run", *args, "--count-tasks"], cwd=REPO,
                           capture_output=True, text=True, timeout=300)
    assert count.returncode == 0 and count.stdout.strip() == "2", count.stderr[-2000:]
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_JOB_ID="41", SLURM_JOB_ID="42",
               SLURM_SUBMIT_DIR=str(REPO), CATPOSE_PYTHON=sys.executable)
    out = subprocess.run(["bash", str(REPO / "scripts" / "slurm" / "array.sh"), *args], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "baseline").glob("*_s?.json")) == ["00_s0.json", "00_s1.json"]
    for seed in (0, 1):
        r = json.loads((tmp_path / "baseline" / f"00_s{seed}.json").read_text())
        assert r["status"] == "finished" and r["seed"] == seed and [h["epoch"] for h in r["history"]] == [1, 2]
    trials = _trials(tmp_path)
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert {t.user_attrs["worker"]["slurm"] for t in trials} == {"42"}


def _trials(results):
    """Every trial of the results folder's studies (workers.grid)."""
    from catpose_lib.workers.grid import default_storage

    url = default_storage(results)
    return [t for name in optuna.get_all_study_names(url)
            for t in optuna.load_study(study_name=name, storage=url).trials]


def test_three_workers_train_each_run_once_and_a_killed_one_is_resumed(tiny_cats, tmp_path, monkeypatch):
    """3 workers on one block (3 runs, 5 epochs each); the first run to finish an epoch has its
    worker SIGKILLed; the run is taken over (by a survivor waiting for the block's runs, or by a
    4th worker started after them) and resumed from its checkpoint; no run is trained twice."""
    monkeypatch.setenv("CATPOSE_WAIT_POLL_S", "1")  # the workers' poll for runs the others hold
    # a worker silent for 15 s is dead (heartbeat every second); 5 s declared live workers dead on a loaded 2-core machine
    monkeypatch.setenv("CATPOSE_GRACE_S", "15")

    # 20 epochs x 0.25 = 5: long enough that no worker ends the block before a victim is picked
    cmd = _cmd("optimizer", tiny_cats, tmp_path, "--budget", "0.25")
    logs = [tmp_path.parent / f"{tmp_path.name}-worker{i}.log" for i in range(4)]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=open(logs[i], "w"), stderr=subprocess.STDOUT,
                              start_new_session=True) for i in range(3)]
    runs = tmp_path / "optimizer" / "runs"
    victim, deadline = None, time.time() + 600
    while victim is None and time.time() < deadline:
        for done in runs.glob("*/last_checkpoint") if runs.exists() else []:
            name = done.parent.name.split("-")[0]
            pids = [t.user_attrs["worker"]["pid"] for t in _trials(tmp_path)
                    if t.state.name == "RUNNING" and t.user_attrs.get("worker", {}).get("run") == name]
            if pids:
                victim = (name, pids[0])
                break
        assert all(p.poll() is None for p in procs) or victim, [log.read_text()[-2000:] for log in logs[:3]]
        time.sleep(0.1)
    assert victim, "no run reached its first checkpoint"
    killed = next(p for p in procs if p.pid == victim[1])
    os.killpg(killed.pid, signal.SIGKILL)
    for p in procs:
        p.wait(timeout=900)
    assert all(p.returncode == 0 for p in procs if p is not killed), [log.read_text()[-2000:] for log in logs[:3]]
    if not (tmp_path / "optimizer" / f"{victim[0]}.json").exists():
        fourth = subprocess.run(cmd, cwd=REPO, stdout=open(logs[3], "w"), stderr=subprocess.STDOUT, timeout=900)
        assert fourth.returncode == 0, logs[3].read_text()[-3000:]
    out = "".join(log.read_text() for log in logs if log.exists())
    for no in (32, 33, 34):
        trained = len(re.findall(rf"\[optimizer {no}_s0, run \d/3\] starting", out))
        resumed = len(re.findall(rf"\[optimizer {no}_s0, run \d/3\] resuming", out))
        assert trained == 1, (no, out[-4000:])
        assert resumed == (1 if f"{no:02d}_s0" == victim[0] else 0), (no, out[-4000:])
        r = json.loads((tmp_path / "optimizer" / f"{no}_s0.json").read_text())
        assert r["status"] == "finished" and [h["epoch"] for h in r["history"]] == [1, 2, 3, 4, 5], r["history"]
        assert r["resumed"] is (f"{no:02d}_s0" == victim[0])
    assert not [t for t in _trials(tmp_path) if t.state.name in ("RUNNING", "WAITING")]  # released
    assert "taking over from worker" in out
    csv = (tmp_path / "optimizer.csv").read_text().splitlines()
    assert len(csv) == 4 and all(",finished," in line for line in csv[1:])


def test_search_on_a_read_only_results_folder_fails_before_its_database(tiny_cats, tmp_path, monkeypatch):
    from catpose_lib.workers import storage
    from catpose_lib.workers.search import run_search

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(storage, "open", refuse, raising=False)
    with pytest.raises(CatposeError, match="read-only filesystem"):
        run_search(tiny_cats, tmp_path / "results", study="ro", space={"lr": ["log", 1e-4, 1e-2]}, n_trials=1,
                   budget="smoke", device="cpu", shared_knobs=dict(resnet_depth=18, input_size=64, heatmap_size=16))
    assert not list(tmp_path.rglob("*.db"))


def test_a_block_waits_for_the_run_another_worker_holds_and_takes_it_over_when_it_dies(
        tiny_cats, tmp_path, monkeypatch, capsys):
    """A notebook's block must see every run (its table, verdict and the next base): a run held
    by a live worker is waited for, and trained here once that worker's heartbeat stops."""
    import threading

    from catpose_lib.runs.provenance import data_fingerprint
    from catpose_lib.workers import grid
    from catpose_lib.workers.blocks import run_block

    monkeypatch.setenv("CATPOSE_GRACE_S", "2")
    req = _request(tiny_cats, tmp_path)
    beat = fake_worker(tmp_path, grid_study(req), fingerprint=data_fingerprint(tiny_cats), data_root=str(tiny_cats))
    polls = []  # the waiting block's polls: the other worker dies only after three of them
    monkeypatch.setattr(grid, "poll_seconds", lambda: polls.append(time.time()) or 0.2)

    def heartbeat_stops():  # the other worker beats while the block waits, then dies
        deadline = time.time() + 300  # however slow the block is to reach its wait (a loaded CI machine)
        while len(polls) < 3 and time.time() < deadline:
            beat()
            time.sleep(0.1)

    other = threading.Thread(target=heartbeat_stops)
    other.start()
    results = run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                        device="cpu", num_workers=0, verbose=True, shared_knobs=QUICK)
    other.join()
    out = capsys.readouterr().out
    assert "waiting for 1 run(s) that other workers train: 10_s0" in out
    assert out.count("waiting for") == 1  # the polls are quiet
    assert "taking over from worker node-7:12345" in out and len(polls) >= 3
    assert [r["status"] for r in results] == ["finished"] and not results[0].get("skipped")
    assert json.loads((tmp_path / "lr_batch" / "10_s0.json").read_text())["status"] == "finished"
    assert [t.state.name for t in _trials(tmp_path)] == ["FAIL", "COMPLETE"]  # the dead one's, then ours


def test_a_worker_that_does_not_wait_skips_the_run_a_live_worker_trains(tiny_cats, tmp_path, capsys):
    from catpose_lib.runs.provenance import data_fingerprint
    from catpose_lib.runs.run import resolve_run
    from catpose_lib.workers.blocks import run_block

    req = _request(tiny_cats, tmp_path)
    fake_worker(tmp_path, grid_study(req), fingerprint=data_fingerprint(tiny_cats), data_root=str(tiny_cats))
    results = run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                        device="cpu", num_workers=0, verbose=True, wait=False, shared_knobs=QUICK)
    assert [r["status"] for r in results] == ["running elsewhere"] and results[0]["claimed_by"]["host"] == "node-7"
    assert "[lr_batch 10_s0] being trained by worker node-7:12345: skipped" in capsys.readouterr().out
    run = resolve_run(req)
    assert not run["out_path"].exists() and not run["work_dir"].exists()


def test_a_failed_run_is_tried_again_by_the_next_worker_not_by_the_waiting_ones(tiny_cats, tmp_path, monkeypatch):
    """A failed run (no kept status) ends its trial; the next worker to start opens a new round
    of the study and trains it again, as a re-run always did; a kept result is never retrained."""
    from catpose_lib.runs import run as run_module
    from catpose_lib.workers.blocks import run_block

    statuses = ["failed: RuntimeError: boom", "finished"]
    monkeypatch.setattr(run_module, "_train", lambda cfg, device: (statuses.pop(0), ""))
    kwargs = dict(experiments=[10], budget="smoke", base="baseline", device="cpu", num_workers=0, verbose=False,
                  shared_knobs=QUICK)
    assert [r["status"] for r in run_block("lr_batch", tiny_cats, tmp_path, **kwargs)] == [
        "failed: RuntimeError: boom"]
    assert [r["status"] for r in run_block("lr_batch", tiny_cats, tmp_path, **kwargs)] == ["finished"]
    assert [r["status"] for r in run_block("lr_batch", tiny_cats, tmp_path, **kwargs)] == ["finished"]
    assert statuses == [] and [t.state.name for t in _trials(tmp_path)] == ["FAIL", "COMPLETE"]
    names = optuna.get_all_study_names(f"sqlite:///{tmp_path / 'studies.db'}")
    assert len(names) == 2 and names[0].endswith("-r0") and names[1].endswith("-r1")
    (tmp_path / "studies.db").unlink()  # a folder of finished results (e.g. a committed study): no study opened
    (again,) = run_block("lr_batch", tiny_cats, tmp_path, **kwargs)
    assert again["status"] == "finished" and again["skipped"] and not (tmp_path / "studies.db").exists()


def test_block_workers_start_one_thread_lanes_beside_this_process(monkeypatch):
    """workers.lanes (the study's and the demo's lanes): ``lanes - 1`` workers of ``run BLOCK
    --no-wait --quiet``, one thread in every lane while inside, the environment given back after."""
    from catpose_lib.workers import lanes

    started = []

    class Worker:
        def __init__(self, cmd, **kwargs):
            started.append((cmd, os.environ.get("OMP_NUM_THREADS")))
            self.waited = False

        def wait(self):
            self.waited = True

    monkeypatch.setattr(lanes.subprocess, "Popen", Worker)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with lanes.block_workers(3, "lr_batch", ["--data", Path("/d")]) as workers:
        assert len(workers) == 2 and os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "1"
    assert all(w.waited for w in workers) and "OMP_NUM_THREADS" not in os.environ
    cmd, threads = started[0]
    assert cmd[1:] == ["-m", "catpose_lib", "run", "lr_batch", "--data", "/d", "--no-wait", "--quiet"]
    assert threads == "1"
    with lanes.block_workers(1, "lr_batch", []) as workers:
        assert workers == [] and "OMP_NUM_THREADS" not in os.environ


def test_an_interrupted_run_goes_back_in_the_queue_of_its_round(tiny_cats, tmp_path, monkeypatch):
    """Ctrl-C fails the trial (Optuna); workers.grid queues its run again in the same round, so a
    worker waiting for the block takes it over instead of ending without it."""
    from catpose_lib.workers import grid
    from catpose_lib.workers.storage import run_of

    def interrupted(req, run):
        raise KeyboardInterrupt

    monkeypatch.setattr(grid, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grid.run_grid([_request(tiny_cats, tmp_path)], verbose=False)
    trials = _trials(tmp_path)
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"] and [run_of(t) for t in trials] == [0, 0]
