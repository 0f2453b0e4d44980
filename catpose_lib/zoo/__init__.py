"""The model zoo: trained models shipped inside the package, loaded by name.

Each model is a folder ``catpose_lib/zoo/<name>/`` holding

* ``weights.part0``, ``weights.part1``, ...: the packed weights (``packing``: int8 per output
  channel or fp16, every file at most 25 MB so that git hosts take it);
* ``config.py``: the run's resolved MMPose config, made portable (``model_config``): the
  model is built from this file, not from the study's knobs;
* ``PROVENANCE.json``: the recipe, val AP before and after packing, the blind-test
  predictions, the sha256 of every packed file and of the unpacked weights, how to rebuild.

``resolve(name_or_path)`` turns a name (or a zoo folder, or a checkpoint path, returned as is)
into a local checkpoint path: the weights are unpacked into ``~/.cache/catpose/zoo/`` once,
their sha256 checked, so a name works wherever a checkpoint path does.  ``python -m
catpose_lib pack`` adds a finished run to the zoo.
"""
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from catpose_lib.data.layout import atomic_replace, atomic_write_text
from catpose_lib.errors import CatposeError
from catpose_lib.recipe.start import sha256_file
from catpose_lib.zoo.packing import read_packed, state_sha256

ZOO_ROOT = Path(__file__).resolve().parent
# the model `predict` uses when none is named (the best model catpose made: run 41 of block
# `best`, docs/zoo.md); where the zoo lacks it, the zoo's first model by name
DEFAULT_MODEL = "best"
PROVENANCE = "PROVENANCE.json"
CONFIG = "config.py"
WEIGHTS = "weights"          # the parts are weights.part0, weights.part1, ...
MAX_FILE_BYTES = 25_000_000  # every file of a zoo model (git hosts refuse or warn above this)
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def cache_dir() -> Path:
    """Where zoo weights are unpacked (``$CATPOSE_CACHE/zoo``, default ``~/.cache/catpose/zoo``)."""
    return Path(os.environ.get("CATPOSE_CACHE", Path.home() / ".cache" / "catpose")) / "zoo"


@dataclass(frozen=True)
class ZooModel:
    name: str
    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / CONFIG

    @property
    def provenance(self) -> dict:
        return json.loads((self.folder / PROVENANCE).read_text())

    def checkpoint(self, cache=None) -> str:
        """The unpacked checkpoint's local path (unpacked once, sha256 checked)."""
        return unpack_cached(self, cache)


def names(zoo_root=None) -> list:
    """The names of the models in the zoo, sorted."""
    root = Path(zoo_root or ZOO_ROOT)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / PROVENANCE).is_file())


def default_name(zoo_root=None) -> str:
    """``DEFAULT_MODEL`` where the zoo holds it, else the zoo's first model; a clear error when
    the zoo is empty."""
    known = names(zoo_root)
    if not known:
        raise CatposeError(f"the model zoo ({Path(zoo_root or ZOO_ROOT)}) holds no model yet: pass --model "
                           "NAME|PATH (a zoo model folder, or a run's result JSON), or add one with "
                           "`python -m catpose_lib pack RESULT_JSON --name NAME`")
    return DEFAULT_MODEL if DEFAULT_MODEL in known else known[0]


def find(name_or_path, zoo_root=None) -> ZooModel:
    """The zoo model a name or a zoo folder names; a one-line error otherwise."""
    p = Path(str(name_or_path)).expanduser()
    if (p / PROVENANCE).is_file():
        return ZooModel(p.resolve().name, p.resolve())
    root = Path(zoo_root or ZOO_ROOT)
    if NAME_PATTERN.match(str(name_or_path)) and (root / str(name_or_path) / PROVENANCE).is_file():
        return ZooModel(str(name_or_path), root / str(name_or_path))
    known = ", ".join(names(zoo_root)) or "none yet"
    raise CatposeError(f"{name_or_path}: not a checkpoint file, a zoo model folder or a model of the zoo "
                       f"(known: {known})")


def is_model(name_or_path, zoo_root=None) -> bool:
    try:
        find(name_or_path, zoo_root)
        return True
    except CatposeError:
        return False


def resolve(name_or_path, zoo_root=None, cache=None) -> str:
    """A local checkpoint path for a checkpoint path (returned as is), a zoo model's folder or
    its name (unpacked into ``cache_dir()`` once, sha256 checked)."""
    p = Path(str(name_or_path)).expanduser()
    if p.is_file():
        return str(p)
    return find(name_or_path, zoo_root).checkpoint(cache)


def unpack_cached(model: ZooModel, cache=None) -> str:
    """Unpack ``model``'s weights into the cache unless an intact copy is there.  The parts'
    sha256 are checked against PROVENANCE.json before unpacking and the unpacked weights'
    content hash after; a cached copy is checked against the sha256 recorded when it was written."""
    record = model.provenance
    packed = record["weights"]
    key = parts_key(packed["parts"])
    out = Path(cache or cache_dir()) / f"{model.name}-{key[:12]}.pth"
    stamp = Path(f"{out}.sha256")
    if out.is_file() and stamp.is_file() and sha256_file(out) == stamp.read_text().strip():
        return str(out)
    for part, info in packed["parts"].items():
        path = model.folder / part
        if not path.is_file() or sha256_file(path) != info["sha256"]:
            raise CatposeError(f"zoo model {model.name}: {path} is missing or not the file its {PROVENANCE} "
                               "names (a Git LFS pointer, or an interrupted checkout?)")
    import torch  # lazy: listing the zoo needs no torch

    data = read_packed(model.folder / WEIGHTS)
    if state_sha256(data["state_dict"]) != packed["unpacked_state_sha256"]:
        raise CatposeError(f"zoo model {model.name}: the unpacked weights do not match the sha256 in its "
                           f"{PROVENANCE} (unpacked_state_sha256)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_replace(out) as tmp:
        torch.save(data, tmp)
    atomic_write_text(stamp, sha256_file(out) + "\n")
    return str(out)


def parts_key(parts: dict) -> str:
    """One sha256 over the parts' own (their names and hashes, in order)."""
    return hashlib.sha256(json.dumps(sorted((k, v["sha256"]) for k, v in parts.items())).encode()).hexdigest()
