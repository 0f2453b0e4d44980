"""Keypoint schemes as MMPose metainfo files.

``cats17`` lives in this folder; ``animalpose20`` is MMPose's own Animal-Pose metainfo
(``configs/_base_/datasets/animalpose.py`` shipped inside the mmpose package), reused as is.
"""
from pathlib import Path

# the one registry of keypoint schemes: name <-> keypoint count
SCHEME_BY_COUNT = {17: "cats17", 20: "animalpose20"}
SCHEME_COUNTS = {name: count for count, name in SCHEME_BY_COUNT.items()}
SCHEME_NAMES = tuple(SCHEME_COUNTS)
_HERE = Path(__file__).resolve().parent


def keypoint_count(data):
    """Keypoints per instance of a COCO dict: its first category's names, else its first
    annotation's keypoints; None when neither says."""
    for cat in data.get("categories") or []:
        if isinstance(cat, dict) and isinstance(cat.get("keypoints"), list):
            return len(cat["keypoints"])
    for ann in data.get("annotations") or []:
        if isinstance(ann, dict) and isinstance(ann.get("keypoints"), list):
            return len(ann["keypoints"]) // 3
    return None


def infer_scheme(data, path=None) -> str:
    """cats17 / animalpose20 of a COCO dict (``path`` names it in the error)."""
    from catpose_lib.errors import DataError

    count = keypoint_count(data)
    if count not in SCHEME_BY_COUNT:
        known = ", ".join(f"{k} -> {v}" for k, v in SCHEME_BY_COUNT.items())
        raise DataError(f"cannot infer the keypoint scheme from {count} keypoints ({known}); "
                        "pass scheme=... / --scheme", file=path)
    return SCHEME_BY_COUNT[count]


def root_scheme(root) -> str:
    """The scheme of a course-layout dataset, from its annotations/train.json."""
    from catpose_lib.data.layout import annotation_path
    from catpose_lib.data.validate import load_coco

    path = annotation_path(root, "train")
    return infer_scheme(load_coco(path), path)


def scheme_file(name: str) -> str:
    """Path of the MMPose metainfo file for a scheme name (usable as ``dict(from_file=...)``)."""
    if name == "cats17":
        return str(_HERE / "cats17.py")
    if name == "animalpose20":
        import mmpose

        path = Path(mmpose.__file__).parent / ".mim" / "configs" / "_base_" / "datasets" / "animalpose.py"
        if not path.exists():
            raise FileNotFoundError(f"mmpose's animalpose metainfo not found at {path}")
        return str(path)
    raise ValueError(f"unknown keypoint scheme {name!r}; choose one of {', '.join(SCHEME_NAMES)}")


def load_scheme(name: str) -> dict:
    """Parsed metainfo (keypoint names, flip indices, sigmas, ...) as MMPose builds it."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo

    return parse_pose_metainfo(dict(from_file=scheme_file(name)))


def keypoint_names(name: str) -> list:
    meta = load_scheme(name)
    return [meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"])]


def num_keypoints(name: str) -> int:
    return SCHEME_COUNTS[name] if name in SCHEME_COUNTS else load_scheme(name)["num_keypoints"]
