"""Keypoint schemes as MMPose metainfo files.

``cats17`` lives in this folder; ``animalpose20`` is MMPose's own Animal-Pose metainfo
(``configs/_base_/datasets/animalpose.py`` shipped inside the mmpose package), reused as is.
"""
from pathlib import Path

from catpose_lib.errors import DataError

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
    count = keypoint_count(data)
    if count not in SCHEME_BY_COUNT:
        known = ", ".join(f"{k} -> {v}" for k, v in SCHEME_BY_COUNT.items())
        raise DataError(f"cannot infer the keypoint scheme from {count} keypoints ({known}); "
                        "pass scheme=... / --scheme", file=path)
    return SCHEME_BY_COUNT[count]


def scheme_file(name: str) -> str:
    """The MMPose metainfo file of a scheme, for ``metainfo=dict(from_file=...)``: animalpose20 is
    MMPose's own, named as MMPose resolves it (relative to its installed configs, no absolute
    path); cats17 is this folder's (a diff over MMPose's AP-10K)."""
    if name == "cats17":
        return str(_HERE / "cats17.py")
    if name == "animalpose20":
        return "configs/_base_/datasets/animalpose.py"
    raise ValueError(f"unknown keypoint scheme {name!r}; choose one of {', '.join(SCHEME_NAMES)}")


def scheme_info(name: str) -> dict:
    """The scheme's ``dataset_info`` as written (keypoint_info, skeleton_info, sigmas, ...)."""
    from mmengine.config import Config  # lazy: mmengine only when a scheme is read

    path = scheme_file(name)
    if not Path(path).is_absolute():
        path = f"mmpose::{path[len('configs/'):]}"
    return Config.fromfile(path).dataset_info.to_dict()


def load_scheme(name: str) -> dict:
    """Parsed metainfo (keypoint names, flip indices, sigmas, ...) as MMPose builds it."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo  # lazy: mmpose is heavy

    return parse_pose_metainfo(dict(from_file=scheme_file(name)))


def keypoint_names(name: str) -> list:
    meta = load_scheme(name)
    return [meta["keypoint_id2name"][i] for i in range(meta["num_keypoints"])]
