"""Where workers meet: Optuna's RDB storage (SQLite beside the results, or a database URL for
many machines) with heartbeats, and the check that a results folder takes files at all."""
import errno
import os
import random
import time
import uuid
import warnings
from pathlib import Path

import optuna
import sqlalchemy

from catpose_lib.errors import CatposeError, ParameterError

# heartbeats and their retry callback are 'experimental' in Optuna since 2.8; we rely on them
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_storage(url: str):
    """Optuna's RDB storage with heartbeats: the trial of a worker silent for the grace period is
    failed and comes back WAITING with the same run (RetryHeartbeatStaleTrialCallback)."""
    kwargs = {}
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        kwargs["engine_kwargs"] = dict(connect_args=dict(timeout=60))  # several local workers wait their turn
    grace = int(os.environ.get("CATPOSE_GRACE_S", "300"))  # seconds without a heartbeat: the worker is dead
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=max(1, grace // 5), grace_period=grace,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(), **kwargs)
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError) as exc:
            # workers that open a new database at once race on its tables (Optuna does not retry)
            if attempt == 4:
                raise ParameterError("storage", url, f"not usable: {str(exc).splitlines()[0]}") from None
            time.sleep(1 + random.random())
        except (ImportError, ValueError, RuntimeError, sqlalchemy.exc.ArgumentError) as exc:
            raise ParameterError("storage", url, f"not usable: {str(exc).splitlines()[0]}") from None


def run_of(trial) -> int:
    """The run a trial trains: its number, or a retried trial's first (RetryHeartbeatStaleTrialCallback)."""
    return trial.system_attrs.get("failed_trial", trial.number)


class TrialFailed(CatposeError):
    """A trial's run failed (its status says why): Optuna marks the trial FAIL, the study goes on."""


def writable_error(path, exc: OSError) -> CatposeError:
    reason = {errno.EROFS: "is on a read-only filesystem", errno.ENOSPC: "is on a full disk",
              errno.EDQUOT: "is over its disk quota", errno.EACCES: "is not writable (permission denied)"}
    return CatposeError(f"results folder {path} {reason.get(exc.errno, 'cannot be written')}: {exc}; "
                        f"nothing was trained and no result was changed")


def check_writable(results_dir) -> None:
    """Fail early, before any training or database, when the results folder cannot take a file
    (SQLite would fail later, mid-study)."""
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
