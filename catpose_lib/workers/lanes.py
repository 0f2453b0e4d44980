"""Lanes on one machine: a block's notebook plus ``run BLOCK --no-wait`` workers on the same
results folder (workers.grid gives each run to one of them), every lane on one thread."""
import contextlib
import os
import subprocess
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def one_thread_per_lane(lanes: int):
    """With more than one lane, this process and what it starts inside (workers, a notebook
    kernel) run on one thread each (OMP/MKL); the environment is given back on leaving."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    if lanes > 1:
        os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def block_workers(lanes: int, block: str, run_args, out=subprocess.DEVNULL, cwd=None):
    """Start ``lanes - 1`` workers of ``python -m catpose_lib run BLOCK RUN_ARGS --no-wait --quiet``
    (their output to ``out``), one thread in every lane (:func:`one_thread_per_lane`); yields the
    workers, waited for on leaving."""
    cmd = [sys.executable, "-m", "catpose_lib", "run", block, *map(str, run_args), "--no-wait", "--quiet"]
    workers = []
    with one_thread_per_lane(lanes):
        try:
            workers = [subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=out) for _ in range(lanes - 1)]
            yield workers
        finally:
            for w in workers:
                w.wait()
