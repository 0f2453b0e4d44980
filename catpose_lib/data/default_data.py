"""The embedded default dataset: synthetic cats generated once into a cache folder."""
import os
from pathlib import Path

from catpose_lib.data.animalpose import import_animalpose
from catpose_lib.data.layout import annotation_path
from catpose_lib.errors import DataError

CACHE = Path(os.environ.get("CATPOSE_CACHE", Path.home() / ".cache" / "catpose"))


def synthetic_cats(n_train=1000, n_val=128, n_test=200, size=256, seed=0, difficulty="hard",
                   cache_dir=None) -> Path:
    """Root of a synthetic cat dataset with these parameters, generating it if needed.

    The folder name encodes the parameters (the difficulty where it is not the default
    'hard'), and generation is deterministic, so every caller with the same parameters
    shares one copy.
    """
    # lazy: cv2 and mmengine, only when synthetic data is asked for (the CLI imports this module)
    from catpose_lib.data.synthetic import DEFAULT_DIFFICULTY, difficulty_level, generate_dataset

    difficulty_level(difficulty)
    cache = Path(cache_dir) if cache_dir else CACHE / "data"
    level = "" if difficulty == DEFAULT_DIFFICULTY else f"-{difficulty}"
    root = cache / f"synth_cats-{n_train}-{n_val}-{n_test}-{size}px-seed{seed}{level}"
    if not annotation_path(root, "val").exists():
        generate_dataset(root, n_train=n_train, n_val=n_val, n_test=n_test, size=size, seed=seed,
                         difficulty=difficulty)
    return root


def resolve_data_root(data_root=None, **synthetic_kwargs) -> Path:
    """``data_root`` if given, else the synthetic default."""
    if data_root:
        root = Path(data_root).expanduser()
        if not root.exists():
            raise DataError("data root does not exist", file=root)
        return root
    return synthetic_cats(**synthetic_kwargs)


def course_layout_root(path, one_category=None) -> Path:
    """A course-layout data root for ``path``: the folder itself, or, for a raw Animal-Pose
    folder (``keypoints.json`` + ``images/``), its import into the cache, made once with the
    importer's defaults (so the cats' val split is the study's)."""
    path = Path(path).expanduser()
    if not (path / "keypoints.json").is_file():
        return resolve_data_root(path)

    root = CACHE / "data" / (path.resolve().name + (f"-{one_category}" if one_category else ""))
    if not annotation_path(root, "val").exists():
        import_animalpose(path, root, one_category=one_category)
    return root
