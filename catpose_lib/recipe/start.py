"""A run's start checkpoint (``--init PATH``): checked against the run's model before any
training, and recorded by sha256.

Why this exists: mmengine's ``load_from`` loads non-strictly and only logs what it could not
load, so a ResNet checkpoint handed to an HRNet run would silently train from scratch.  Here
every backbone tensor of the run's model must be in the file with the same shape; head
tensors of another shape (another keypoint count) are skipped and listed, and so are the
tensors the file lacks (a start whose output layer was left out on purpose).
"""
import hashlib
from pathlib import Path

from catpose_lib.compat.checkpoint_loading import load_local_checkpoint
from catpose_lib.data.layout import atomic_replace
from catpose_lib.errors import CatposeError


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_state_dict(path) -> dict:
    """The tensors of a checkpoint (an mmengine checkpoint or a plain state dict).  Files from
    outside catpose run folders load with ``weights_only=True`` (compat.checkpoint_loading)."""
    try:
        ckpt = load_local_checkpoint(path, map_location="cpu")
    except RuntimeError as exc:
        raise CatposeError(f"start: {exc}") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state:
        raise CatposeError(f"start: {path} holds no state dict of tensors")
    return state


def _model_state(cfg) -> dict:
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    return MODELS.build(cfg.model).state_dict()


def check_start_checkpoint(cfg, path) -> dict:
    """Raise :class:`CatposeError` unless ``path`` can start the model of ``cfg``; returns the
    record kept in the run's result (path, sha256, tensors loaded, head tensors skipped)."""
    path = Path(str(path)).expanduser()
    if not path.is_file():
        raise CatposeError(f"start: start checkpoint {path} does not exist")
    state = read_state_dict(path)
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    own = _model_state(cfg)
    backbone = [k for k in own if k.startswith("backbone.") and not k.endswith("num_batches_tracked")]
    bad = [k for k in backbone if k not in state or tuple(state[k].shape) != tuple(own[k].shape)]
    if bad:
        kind = cfg.model.backbone.get("type")
        depth = cfg.model.backbone.get("depth")
        raise CatposeError(
            f"start: {path} does not match this run's backbone ({kind}{depth or ''}): "
            f"{len(bad)} of its {len(backbone)} backbone tensors are missing or of another shape "
            f"in the file (e.g. {bad[0]}); use a start checkpoint made for this backbone")
    skipped = sorted(k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape))
    loaded = sum(1 for k in own if k in state and k not in skipped)
    return dict(path=str(path.resolve()), sha256=sha256_file(path), tensors_loaded=loaded,
                tensors_in_model=len(own), skipped_shape_mismatch=skipped,
                not_in_file=sorted(k for k in own if k not in state))  # these start as the model initialises them


def checkpoint_without(src, out, prefixes) -> dict:
    """A whole-model start without the tensors whose names start with one of ``prefixes`` (e.g.
    ``head.final_layer.``: the output layer starts fresh, as MMPose initialises it; the backbone
    must stay, check_start_checkpoint needs it).  Written as a plain ``{'state_dict', 'meta'}``
    file; returns its path, sha256 and the tensors dropped."""
    import torch

    prefixes = tuple(prefixes)
    state = read_state_dict(src)
    dropped = sorted(k for k in state if k.startswith(prefixes))
    if not dropped or any(k.startswith("backbone.") for k in dropped):
        raise CatposeError(f"init: {src}: no tensor starts with {prefixes}, or a backbone tensor does")
    out = Path(out)
    with atomic_replace(out) as tmp:
        torch.save(dict(state_dict={k: v for k, v in state.items() if k not in dropped},
                        meta=dict(derived_from=str(src), derived_from_sha256=sha256_file(src), dropped=dropped)), tmp)
    return dict(path=str(out.resolve()), sha256=sha256_file(out), dropped=dropped)
