"""A run's resolved MMPose config made portable for the zoo: the same model, codec, pipelines
and test settings, without what ties it to the machine and the training that made it.

Edits (everything else is the run's file as written):

* the keypoint metainfo file (a path inside the installed mmpose or catpose of the machine
  that trained it) is copied beside the config under its own name and named relatively
  (``load_model_config`` resolves it; MMPose itself finds ``animalpose.py`` in its own
  configs).  Not written inline: mmengine writes dicts with sorted keys, and the keypoint
  order of ``keypoint_info`` is the model's output order;
* ``custom_imports`` goes (it names the module path of the catpose that trained it;
  ``load_model_config`` imports today's registrations instead);
* training-time hooks, the start checkpoint, the work dir and the run's experiment name go;
* the decoded-image cache (``CachedLoadImage``) becomes MMPose's ``LoadImage``: a cache
  only costs memory when predicting on many photos once.
"""
import shutil
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.schemes import scheme_file

CACHED_LOADER = "CachedLoadImage"
DROPPED_KEYS = ("custom_imports", "load_from", "work_dir", "experiment_name", "resume")


def _metainfo_file(metainfo, scheme) -> Path:
    """The metainfo file a resolved config names, or the scheme's own here."""
    path = Path(str((metainfo or {}).get("from_file", "")))
    return path if path.is_file() else Path(scheme_file(scheme))


def _loader(step: dict) -> dict:
    if step.get("type") == CACHED_LOADER:
        step = {k: v for k, v in step.items() if k != "budget_mb"}
        step["type"] = "LoadImage"
    return step


LOADER_KEYS = ("train_dataloader", "val_dataloader", "test_dataloader")


def portable_config(resolved_path, scheme=None) -> tuple:
    """(the portable mmengine Config of the resolved config at ``resolved_path``, the keypoint
    metainfo file to copy beside it)."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(resolved_path), import_custom_modules=False)
    scheme = scheme or cfg.get("catpose", {}).get("scheme")
    source = None
    for key in LOADER_KEYS:
        dataset = cfg.get(key, {}).get("dataset")
        if dataset is None:
            continue
        source = source or _metainfo_file(dataset.get("metainfo"), scheme)
        dataset.metainfo = dict(from_file=source.name)
        dataset.pipeline = [_loader(dict(s)) for s in dataset.pipeline]
    for key in ("train_pipeline", "val_pipeline", "test_pipeline"):
        if key in cfg:
            cfg[key] = [_loader(dict(s)) for s in cfg[key]]
    for key in DROPPED_KEYS:
        cfg.pop(key, None)
    cfg.custom_hooks = []
    if "visualizer" in cfg:
        cfg.visualizer.pop("name", None)
    return cfg, source


def write_portable_config(resolved_path, out, header: str, scheme=None) -> tuple:
    """Write the portable config of ``resolved_path`` to ``out`` (Python, mmengine's format)
    and its keypoint metainfo file beside it; returns both paths."""
    cfg, metainfo = portable_config(resolved_path, scheme)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    atomic_write_text(out, comment + cfg.pretty_text)
    copied = Path(out).parent / metainfo.name
    shutil.copyfile(metainfo, copied)
    return Path(out), copied


def load_model_config(path):
    """A zoo model's config, its metainfo file found beside it and catpose's registrations
    imported (backbones, transforms)."""
    from mmengine.config import Config

    import catpose_lib.runs.registered  # noqa: F401  (what the dropped custom_imports did)

    cfg = Config.fromfile(str(path))
    for key in LOADER_KEYS:
        metainfo = cfg.get(key, {}).get("dataset", {}).get("metainfo") or {}
        beside = Path(path).parent / str(metainfo.get("from_file", ""))
        if metainfo.get("from_file") and not Path(metainfo["from_file"]).is_absolute() and beside.is_file():
            metainfo["from_file"] = str(beside.resolve())
    return cfg
