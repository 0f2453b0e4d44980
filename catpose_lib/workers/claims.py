"""Run claims: any number of workers (processes, machines, tasks of a SLURM array) on one
results folder train every run exactly once.

A claim is a small JSON file beside the run's work dir (``<block>/runs/<run>-<key>.claim``),
one per run key.  It is created, renewed and taken over only inside a short ``filelock``
section (``<block>/.locks/``), and kept alive by a heartbeat thread: a lease.  A claim whose
heartbeat is older than the lease, or whose process is gone on this host, belongs to a dead
worker; the next worker takes it over and resumes the run from its last checkpoint.

Why a lease rather than holding one OS lock for the whole run: a lock held for hours by a
node that dies is not reliably released on every shared filesystem; the filelock section is
held for milliseconds only.  Clocks of the machines must agree within the lease (NTP).
"""
import errno
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.errors import CatposeError

CLAIM_SUFFIX = ".claim"
# seconds without a heartbeat after which a claim is a dead worker's (env: CATPOSE_LEASE_S)
DEFAULT_LEASE_S = 600.0
GUARD_TIMEOUT_S = 120.0


def lease_seconds() -> float:
    return float(os.environ.get("CATPOSE_LEASE_S", DEFAULT_LEASE_S))


def claim_path(work_dir) -> Path:
    work_dir = Path(work_dir)
    return work_dir.with_name(work_dir.name + CLAIM_SUFFIX)


def _guard(path: Path):
    """The filelock of a claim's check-and-take section, in the block's ``.locks/`` (filelock
    leaves its file behind: kept out of the runs folder)."""
    from filelock import FileLock

    locks = path.parent.parent / ".locks"
    locks.mkdir(exist_ok=True)
    return FileLock(str(locks / (path.name + ".lock")), timeout=GUARD_TIMEOUT_S)


def read_claim(path):
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return process_state(pid) != "Z"  # a killed worker that its parent has not reaped yet (a zombie) is dead too


def process_state(pid: int):
    """A process's state letter from /proc (R, S, T, Z...), None where /proc cannot tell."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def is_live(claim, now=None, lease=None) -> bool:
    """A claim is live while its heartbeat is within the lease and, on this host, its
    process exists (a killed worker on this machine is known dead at once)."""
    if not claim:
        return False
    now = time.time() if now is None else now
    lease = lease_seconds() if lease is None else lease
    if now - float(claim.get("heartbeat", 0)) > lease:
        return False
    if claim.get("host") == socket.gethostname() and not _pid_alive(int(claim.get("pid", -1))):
        return False
    return True


def describe(claim) -> str:
    age = time.time() - float(claim.get("heartbeat", 0))
    job = f", SLURM job {claim['slurm']}" if claim.get("slurm") else ""
    return f"worker {claim.get('host')}:{claim.get('pid')}{job}, heartbeat {age:.0f} s ago"


def live_claims(results_dir):
    """Every live claim in a results folder (all blocks), as (path, claim)."""
    out = []
    for path in Path(results_dir).glob(f"*/runs/*{CLAIM_SUFFIX}"):
        claim = read_claim(path)
        if is_live(claim):
            out.append((path, claim))
    return out


def check_same_data(results_dir, data_root, fingerprint) -> None:
    """Refuse to share a results folder with a live worker that trains on other data."""
    for path, claim in live_claims(results_dir):
        if claim.get("data_fingerprint") not in (None, fingerprint):
            raise CatposeError(
                f"results folder {results_dir} is in use by {describe(claim)} training on data "
                f"{claim.get('data_root')} (fingerprint {claim.get('data_fingerprint')}), but this "
                f"worker was given {data_root} (fingerprint {fingerprint}): give each dataset its "
                f"own results folder")


def writable_error(path, exc: OSError) -> CatposeError:
    reason = {errno.EROFS: "is on a read-only filesystem", errno.ENOSPC: "is on a full disk",
              errno.EDQUOT: "is over its disk quota", errno.EACCES: "is not writable (permission denied)"}
    return CatposeError(f"results folder {path} {reason.get(exc.errno, 'cannot be written')}: {exc}; "
                        f"nothing was trained and no result was changed")


def check_writable(results_dir) -> None:
    """Fail early, before any training, when the results folder cannot take a file."""
    results_dir = Path(results_dir)
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
        probe = results_dir / f".write-probe-{uuid.uuid4().hex}"
        with open(probe, "w") as f:
            f.write("catpose write probe\n")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as exc:
        raise writable_error(results_dir, exc) from exc


class RunClaim:
    """One worker's claim on one run; ``acquire`` is atomic across workers."""

    def __init__(self, work_dir, data_root="", fingerprint="", lease=None):
        self.path = claim_path(work_dir)
        self.data_root, self.fingerprint = str(data_root), fingerprint
        self.lease = lease_seconds() if lease is None else float(lease)
        self.token = uuid.uuid4().hex
        self.holder = None       # the live claim that kept us out (acquire returned False)
        self.taken_over = None   # the dead worker's claim that we replaced
        self.lost = False        # another worker took the run over (our heartbeat stalled)
        self._stop = threading.Event()
        self._thread = None

    def _record(self) -> dict:
        slurm = os.environ.get("SLURM_JOB_ID")
        if slurm and os.environ.get("SLURM_ARRAY_TASK_ID"):
            slurm = f"{os.environ.get('SLURM_ARRAY_JOB_ID', slurm)}_{os.environ['SLURM_ARRAY_TASK_ID']}"
        return dict(token=self.token, host=socket.gethostname(), pid=os.getpid(), slurm=slurm,
                    heartbeat=time.time(), data_root=self.data_root, data_fingerprint=self.fingerprint)

    def acquire(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _guard(self.path):
                current = read_claim(self.path)
                if current and current.get("token") != self.token and is_live(current, lease=self.lease):
                    self.holder = current
                    return False
                self.taken_over = current
                atomic_write_text(self.path, json.dumps(self._record()))
        except OSError as exc:
            raise writable_error(self.path.parent.parent.parent, exc) from exc
        self._thread = threading.Thread(target=self._beat, name=f"claim-{self.path.name}", daemon=True)
        self._thread.start()
        return True

    def _beat(self):
        interval = max(0.5, self.lease / 10)
        while not self._stop.wait(interval):
            try:
                with _guard(self.path):
                    current = read_claim(self.path)
                    if not current or current.get("token") != self.token:
                        self.lost = True
                        return
                    atomic_write_text(self.path, json.dumps(self._record()))
            except OSError:
                continue  # a missed beat; the lease allows several

    def still_ours(self) -> bool:
        current = read_claim(self.path)
        return not self.lost and bool(current) and current.get("token") == self.token

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            with _guard(self.path):
                current = read_claim(self.path)
                if current and current.get("token") == self.token:
                    self.path.unlink()
        except OSError:
            pass  # a stale claim of ours is taken over by the next worker after the lease

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
