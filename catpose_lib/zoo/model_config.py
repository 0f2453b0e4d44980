"""A model's config, as a run left it (its portable ``NN_sS.py``, recipe.config.portable) and as
the zoo ships it (the same file, copied): loaded with catpose's registrations and its keypoint
metainfo found by scheme name, so it builds on any machine."""
from pathlib import Path

from mmengine.config import Config

import catpose_lib.runs.registered  # noqa: F401  (the transforms and backbones the config names)
from catpose_lib.data.layout import atomic_write_text
from catpose_lib.recipe.config import LOADERS
from catpose_lib.schemes import scheme_file


def load_model_config(path):
    """The config at ``path`` with each loader's metainfo pointed at its scheme's file here."""
    cfg = Config.fromfile(str(path))
    for key in LOADERS:
        if cfg.get(key):
            cfg[key].dataset.metainfo = dict(from_file=scheme_file(cfg.catpose.scheme))
    return cfg


def write_portable_config(resolved_path, out, header: str) -> Path:
    """The run's portable config copied to ``out`` under ``header`` (comment lines)."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    atomic_write_text(out, comment + Path(resolved_path).read_text())
    return Path(out)


