"""The course dataset layout and safe (all-or-nothing) writing of it.

    ROOT/images/*.jpg
    ROOT/annotations/train.json  val.json   (COCO keypoint JSON)
    ROOT/annotations/test_info.json         (images and boxes, no keypoints)
"""
import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from catpose_lib.errors import ParameterError

ANNOTATION_FILES = {"train": "annotations/train.json", "val": "annotations/val.json",
                    "test": "annotations/test_info.json"}


def annotation_path(root, split: str) -> Path:
    """``ROOT/annotations/<split>.json``; split is train, val or test (test_info.json)."""
    return Path(root) / ANNOTATION_FILES[split]


def dataset_splits(root) -> list:
    """The splits a course-layout root holds: train, val and, when its file exists, test."""
    return [split for split in ANNOTATION_FILES if split != "test" or annotation_path(root, split).exists()]


def by_image(items) -> dict:
    """image_id -> its items (COCO annotations, boxes or keypoint results), in their order."""
    grouped = {}
    for item in items:
        grouped.setdefault(item["image_id"], []).append(item)
    return grouped


def blind_test_file(test_root, parameter="test_root") -> Path:
    """``annotations/test_info.json`` of a blind test set folder (boxes only, with ``images/``);
    a one-line error naming ``parameter`` when either is missing."""
    ann = Path(str(test_root)).expanduser() / "annotations" / "test_info.json"
    if not ann.is_file() or not (ann.parent.parent / "images").is_dir():
        raise ParameterError(parameter, test_root, "a test set folder with annotations/test_info.json and "
                                                   f"images/ (boxes only); {ann} or its images/ is missing")
    return ann


@contextlib.contextmanager
def atomic_replace(path):
    """Yield a temp path beside ``path`` to write (any format); it replaces ``path`` only when
    the block succeeds, so an interrupted write never leaves a partial file.  Results are meant
    to be shared: the file gets mode 0644 (mkstemp makes 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write a file so that readers see either the old or the whole new content, never a part."""
    with atomic_replace(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_json(path, obj, indent=None) -> None:
    atomic_write_text(path, json.dumps(obj, indent=indent))


@contextlib.contextmanager
def staged_output_dir(root):
    """Build a dataset in a sibling temp folder and move it to ``root`` only on success.

    ``root`` must not exist or be empty; on any error nothing is left at ``root``.
    Yields the staging folder to write into.
    """
    root = Path(root).resolve()
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} already exists and is not empty; refusing to overwrite it")
    root.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{root.name}.staging.", dir=root.parent))
    try:
        yield stage
        if root.exists():
            root.rmdir()
        os.replace(stage, root)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def same_boxes(a, b) -> bool:
    """Two annotation files hold the same images and boxes (test_info.json made of val)."""
    try:
        x, y = (json.loads(Path(p).read_text()) for p in (a, b))
    except (OSError, ValueError):
        return False

    def boxes(d):
        return sorted((ann["image_id"], tuple(round(v, 2) for v in ann["bbox"])) for ann in d["annotations"])

    return boxes(x) == boxes(y)
