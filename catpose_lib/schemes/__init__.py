"""Keypoint schemes as MMPose metainfo files.

``cats17`` lives in this folder; ``animalpose20`` is MMPose's own Animal-Pose metainfo
(``configs/_base_/datasets/animalpose.py`` shipped inside the mmpose package), reused as is.
"""
from pathlib import Path

SCHEME_NAMES = ("cats17", "animalpose20")
_HERE = Path(__file__).resolve().parent


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
    return {"cats17": 17, "animalpose20": 20}[name] if name in SCHEME_NAMES else load_scheme(name)["num_keypoints"]
