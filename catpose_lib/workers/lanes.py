"""Lanes on one machine: a block's notebook plus ``run BLOCK --no-wait`` workers on the same
results folder (workers.grid gives each run to one of them), every lane on one thread."""
import contextlib
import os
import subprocess
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def block_workers(lanes: int, block: str, run_args, out=subprocess.DEVNULL, cwd=None):
    """Start ``lanes - 1`` workers of ``python -m catpose_lib run BLOCK RUN_ARGS --no-wait --quiet``
    (their output to ``out``) and, with more than one lane, give this process one thread too (a
    notebook kernel started inside inherits it); yields the workers, waited for on leaving."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    if lanes > 1:
        os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    cmd = [sys.executable, "-m", "catpose_lib", "run", block, *map(str, run_args), "--no-wait", "--quiet"]
    workers = []
    try:
        workers = [subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=out) for _ in range(lanes - 1)]
        yield workers
    finally:
        for w in workers:
            w.wait()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
