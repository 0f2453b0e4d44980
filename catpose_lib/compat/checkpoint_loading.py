"""Load mmengine checkpoints under torch >= 2.6, where ``torch.load`` defaults to ``weights_only=True``.

mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` for local files.  Its own
checkpoints hold the message hub (``HistoryBuffer`` objects), numpy arrays of the dataset
metainfo and other pickled Python objects, so under torch >= 2.6 resuming or loading them
fails with ``UnpicklingError: Weights only load failed``.

The fix replaces mmengine's loader for local paths (its ``''`` scheme) with one that:

* loads checkpoints written by catpose runs (any file under a folder that holds a
  ``.catpose-run`` marker, see :func:`mark_run_dir`) with ``weights_only=False``: we wrote
  them, so we trust them;
* loads everything else -- weights a user hands in from outside -- with
  ``weights_only=True``, and says how to proceed if that refuses the file.

``install()`` is idempotent and is called by the engine before it builds a Runner.
"""
from pathlib import Path

import torch

RUN_MARKER = ".catpose-run"
_installed = False
_original_loader = None


def mark_run_dir(run_dir) -> None:
    """Declare ``run_dir`` a catpose run folder: checkpoints below it are trusted."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    marker = run_dir / RUN_MARKER
    if not marker.exists():
        marker.write_text("checkpoints below this folder were written by catpose\n")


def is_catpose_checkpoint(filename) -> bool:
    path = Path(filename).resolve()
    return any((parent / RUN_MARKER).is_file() for parent in path.parents)


def load_local_checkpoint(filename, map_location=None):
    """mmengine's local loader, with ``weights_only`` chosen by where the file comes from."""
    filename = str(Path(filename).expanduser())
    if not Path(filename).is_file():
        raise FileNotFoundError(f"checkpoint {filename} does not exist")
    if is_catpose_checkpoint(filename):
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle.UnpicklingError and friends
        raise RuntimeError(
            f"{filename}: refused to load with weights_only=True ({type(exc).__name__}). "
            "External checkpoints must be plain tensors/state dicts. If this file is an "
            "earlier catpose run's checkpoint, load it from inside its run folder (which "
            f"holds a {RUN_MARKER} marker).") from exc


def install() -> None:
    """Route mmengine's local checkpoint loading through :func:`load_local_checkpoint`."""
    global _installed, _original_loader
    if _installed:
        return
    from mmengine.runner.checkpoint import CheckpointLoader

    _original_loader = CheckpointLoader._schemes.get("")
    CheckpointLoader.register_scheme(prefixes="", loader=load_local_checkpoint, force=True)
    _installed = True


def uninstall() -> None:
    """Restore mmengine's own loader (used by the test that shows why the fix is needed)."""
    global _installed
    if not _installed:
        return
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes="", loader=_original_loader, force=True)
    _installed = False
