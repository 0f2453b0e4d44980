"""Many workers on one results folder: every run claimed and trained once, a dead worker's
run taken over and resumed, SLURM array tasks, and folders that cannot be shared or written."""
import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catpose_lib.errors import CatposeError
from tests.conftest import fake_claim as _fake_claim

REPO = Path(__file__).resolve().parents[1]
QUICK_SET = ["--set", "resnet_depth=18", "input_size=64", "heatmap_size=16"]


def _cmd(block, data, results, *extra):
    return [sys.executable, "-m", "catpose_lib", "run", block, "--data", str(data), "--results", str(results),
            "--base", "baseline", "--device", "cpu", "--workers", "0", *extra, *QUICK_SET]


def test_claim_is_exclusive_renewed_and_taken_over_when_stale(tmp_path):
    from catpose_lib.workers.claims import RunClaim, is_live, read_claim

    work = tmp_path / "lr_batch" / "runs" / "10_s0-abc"
    first, second = RunClaim(work, lease=2), RunClaim(work, lease=2)
    assert first.acquire() and not second.acquire()
    assert second.holder["pid"] == os.getpid() and second.holder["token"] == first.token
    beat = read_claim(first.path)["heartbeat"]
    time.sleep(0.8)  # the heartbeat (lease / 10, at least 0.5 s) renews the claim
    assert read_claim(first.path)["heartbeat"] > beat and first.still_ours()
    first._stop.set()
    first._thread.join()  # a worker whose heartbeat stopped (hung, or its machine gone)
    time.sleep(2.2)
    assert not is_live(read_claim(first.path), lease=2)
    third = RunClaim(work, lease=2)
    assert third.acquire() and third.taken_over["token"] == first.token
    assert not first.still_ours()  # the old owner sees it lost the run and records nothing
    first.release()  # releasing a claim that is no longer ours leaves the new owner's alone
    assert read_claim(third.path)["token"] == third.token
    third.release()
    assert not third.path.exists()
    # another machine's fresh claim is live; on this machine a dead process's claim is not
    assert is_live(dict(host="node-7", pid=1, heartbeat=time.time()))
    assert not is_live(dict(host=socket.gethostname(), pid=2**22 + 7, heartbeat=time.time()))


def _request(tiny_cats, results, no=10, seed=0):
    from catpose_lib.recipe.experiments import get_experiment
    from catpose_lib.runs.run import RunRequest

    return RunRequest(experiment=get_experiment(no), data_root=str(tiny_cats), results_dir=str(results),
                      seed=seed, budget="smoke", device="cpu", num_workers=0, verbose=False,
                      shared_knobs=dict(resnet_depth=18, input_size=64, heatmap_size=16))


def test_run_held_by_a_live_worker_is_skipped_untrained(tiny_cats, tmp_path):
    from catpose_lib.runs.provenance import data_fingerprint
    from catpose_lib.runs.run import execute, resolve_run

    req = _request(tiny_cats, tmp_path)
    run = resolve_run(req)
    _fake_claim(Path(str(run["work_dir"]) + ".claim"), fingerprint=data_fingerprint(tiny_cats))
    r = execute(req)
    assert r["status"] == "running elsewhere" and r["skipped"] and r["claimed_by"]["host"] == "node-7"
    assert not run["out_path"].exists() and not run["work_dir"].exists()


def test_workers_on_other_data_are_refused_before_training(tiny_cats, tmp_path):
    from catpose_lib.workers.blocks import run_block

    _fake_claim(tmp_path / "optimizer" / "runs" / "32_s0-0123456789ab.claim")
    with pytest.raises(CatposeError) as err:
        run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                  device="cpu", num_workers=0, verbose=False)
    msg = str(err.value)
    assert "/elsewhere/cats" in msg and str(tiny_cats) in msg and "node-7" in msg
    assert not (tmp_path / "lr_batch").exists()


@pytest.mark.parametrize("code, words", [(errno.EROFS, "read-only filesystem"), (errno.ENOSPC, "full disk")])
def test_unwritable_results_folder_is_a_clear_error_and_changes_nothing(tiny_cats, tmp_path, monkeypatch,
                                                                          code, words):
    from catpose_lib.workers import claims
    from catpose_lib.workers.blocks import run_block

    kept = tmp_path / "lr_batch" / "10_s0.json"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"earlier": "result"}')

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(claims, "open", refuse, raising=False)
    with pytest.raises(CatposeError, match=words) as err:
        run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                  device="cpu", num_workers=0, verbose=False)
    assert str(tmp_path) in str(err.value)
    assert kept.read_text() == '{"earlier": "result"}'
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["10_s0.json", "lr_batch"]


def test_slurm_array_task_runs_its_job_only(tiny_cats, tmp_path):
    """The array script's body, run locally with the variables SLURM sets in a task."""
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
    assert sorted(p.name for p in (tmp_path / "baseline").glob("*.json")) == ["00_s1.json", "00_s1.val.json"]
    r = json.loads((tmp_path / "baseline" / "00_s1.json").read_text())
    assert r["status"] == "finished" and r["seed"] == 1 and [h["epoch"] for h in r["history"]] == [1, 2]
    bad = subprocess.run(["bash", str(REPO / "scripts" / "slurm" / "array.sh"), *args], cwd=tmp_path,
                         env=dict(env, SLURM_ARRAY_TASK_ID="2"), capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "task 2 is out of range" in bad.stderr and "0..1" in bad.stderr


def test_three_workers_train_each_run_once_and_a_killed_one_is_resumed(tiny_cats, tmp_path, monkeypatch):
    """3 workers on one block (3 runs, 3 epochs each); the first run to finish an epoch has its
    worker SIGKILLed; the run is taken over (by a survivor waiting for the block's runs, or by a
    4th worker started after them) and resumed from its checkpoint; no run is trained twice."""
    from catpose_lib.workers.claims import read_claim

    monkeypatch.setenv("CATPOSE_WAIT_POLL_S", "1")  # the workers' poll for runs the others hold

    cmd = _cmd("optimizer", tiny_cats, tmp_path, "--budget", "0.15")  # 20 epochs x 0.15 = 3
    logs = [tmp_path.parent / f"{tmp_path.name}-worker{i}.log" for i in range(4)]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=open(logs[i], "w"), stderr=subprocess.STDOUT,
                              start_new_session=True) for i in range(3)]
    runs = tmp_path / "optimizer" / "runs"
    victim, deadline = None, time.time() + 600
    while victim is None and time.time() < deadline:
        for done in runs.glob("*/last_checkpoint") if runs.exists() else []:
            claim = read_claim(str(done.parent) + ".claim")
            if claim:
                victim = (done.parent.name.split("-")[0], claim["pid"])
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
        assert r["status"] == "finished" and [h["epoch"] for h in r["history"]] == [1, 2, 3], r["history"]
        assert r["resumed"] is (f"{no:02d}_s0" == victim[0])
        assert not list(runs.glob(f"{no}_s0-*.claim"))  # released
    assert "taking over from worker" in out
    csv = (tmp_path / "optimizer.csv").read_text().splitlines()
    assert len(csv) == 4 and all(",finished," in line for line in csv[1:])


def test_search_on_a_read_only_results_folder_fails_before_its_database(tiny_cats, tmp_path, monkeypatch):
    from catpose_lib.workers import claims
    from catpose_lib.workers.search import run_search

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(claims, "open", refuse, raising=False)
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
    from catpose_lib.runs.run import resolve_run
    from catpose_lib.workers.blocks import run_block

    from catpose_lib.workers import blocks as sweep

    claim = Path(str(resolve_run(_request(tiny_cats, tmp_path))["work_dir"]) + ".claim")
    _fake_claim(claim, fingerprint=data_fingerprint(tiny_cats), data_root=str(tiny_cats))
    polls = []  # the waiting block's polls: the other worker dies only after three of them
    monkeypatch.setattr(sweep, "wait_poll_seconds", lambda: polls.append(time.time()) or 0.2)

    def heartbeat_stops():  # the other worker renews its claim while the block waits, then dies
        deadline = time.time() + 300  # however slow the block is to reach its wait (a loaded CI machine)
        while len(polls) < 3 and time.time() < deadline:
            _fake_claim(claim, fingerprint=data_fingerprint(tiny_cats), data_root=str(tiny_cats))
            time.sleep(0.1)
        _fake_claim(claim, fingerprint=data_fingerprint(tiny_cats), data_root=str(tiny_cats), age=10_000)

    other = threading.Thread(target=heartbeat_stops)
    other.start()
    results = run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                        device="cpu", num_workers=0, verbose=True,
                        shared_knobs=dict(resnet_depth=18, input_size=64, heatmap_size=16))
    other.join()
    out = capsys.readouterr().out
    assert "waiting for 1 run(s) that other workers train: 10_s0" in out
    assert out.count("being trained by") == 1  # the polls are quiet
    assert "taking over from worker" in out and len(polls) >= 3
    assert [r["status"] for r in results] == ["finished"] and not results[0].get("skipped")
    assert json.loads((tmp_path / "lr_batch" / "10_s0.json").read_text())["status"] == "finished"
    assert not claim.exists()


def test_a_job_array_task_does_not_wait(tiny_cats, tmp_path, monkeypatch):
    from catpose_lib.runs.provenance import data_fingerprint
    from catpose_lib.runs.run import resolve_run
    from catpose_lib.workers.blocks import run_block

    monkeypatch.setenv("CATPOSE_WAIT_POLL_S", "0.05")
    claim = Path(str(resolve_run(_request(tiny_cats, tmp_path))["work_dir"]) + ".claim")
    _fake_claim(claim, fingerprint=data_fingerprint(tiny_cats), data_root=str(tiny_cats))
    results = run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                        device="cpu", num_workers=0, verbose=False, task=0,
                        shared_knobs=dict(resnet_depth=18, input_size=64, heatmap_size=16))
    assert [r["status"] for r in results] == ["running elsewhere"]


def test_a_killed_worker_not_yet_reaped_is_dead(tmp_path):
    """A worker SIGKILLed on this host stays a zombie until its parent waits for it: its claim
    must not be live (the survivors waited out the whole lease for it)."""
    from catpose_lib.workers.claims import is_live, process_state, read_claim

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.time() + 30
    while process_state(child.pid) != "Z":
        assert time.time() < deadline
        time.sleep(0.05)
    claim = tmp_path / "run.claim"
    _fake_claim(claim, host=socket.gethostname(), pid=child.pid)
    assert read_claim(claim)["pid"] == child.pid
    assert not is_live(read_claim(claim))
    child.wait()


