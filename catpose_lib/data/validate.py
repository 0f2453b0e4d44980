"""Validate a dataset in the course layout before anything trains on it.

``check_dataset(root)`` reads ``annotations/train.json``, ``val.json`` and (when present)
``test_info.json`` and raises :class:`~catpose_lib.errors.DataError` naming the file and
the record for every problem found (up to ``MAX_LISTED`` of them in one message):

* malformed JSON, or a file without ``images`` / ``annotations`` / ``categories`` lists;
* an image whose ``file_name`` escapes ``ROOT/images`` (``..``, absolute paths), is
  missing, cannot be read as an image, or whose size differs from its ``width``/``height``;
* duplicate image ids or annotation ids (within a file), an annotation pointing at an
  unknown image or category;
* a keypoint count that does not match the keypoint scheme, a visibility flag outside
  {0, 1, 2}, a ``num_keypoints`` that disagrees with the flags;
* a box with zero / negative size or outside its image (``BOX_TOLERANCE`` pixels allowed);
* an empty split (train or val without images or without annotations).

It only reads; it never writes.  ``file_name`` is relative to ``ROOT/images``.
The engine calls it before every training run, so it is header-only for images by
default (PIL ``verify()`` and size); ``decode=True`` decodes every image fully.
"""
import json
import math
from pathlib import Path, PurePosixPath, PureWindowsPath

from catpose_lib.data.layout import annotation_path, dataset_splits
from catpose_lib.errors import DataError
from catpose_lib.schemes import SCHEME_COUNTS, infer_scheme, keypoint_names

BOX_TOLERANCE = 1.0  # pixels a box may stick out of its image (rounding in converted data)
MAX_LISTED = 20
REQUIRED_SPLITS = ("train", "val")


class _Problems:
    """Collects (file, record, message) triples; raises one DataError listing them."""

    def __init__(self):
        self.items = []

    def add(self, file, record, message):
        self.items.append((str(file) if file is not None else None, record, message))

    def add_error(self, exc: DataError):
        prefix = ": ".join(str(x) for x in (exc.file, exc.record) if x is not None)
        text = str(exc)
        message = text[len(prefix) + 2:] if prefix and text.startswith(prefix + ": ") else text
        self.add(exc.file, exc.record, message)

    def __len__(self):
        return len(self.items)

    def raise_if_any(self):
        if not self.items:
            return
        file, record, message = self.items[0]
        if len(self.items) > 1:
            lines = ["  " + ": ".join(str(x) for x in item if x is not None) for item in self.items[1:MAX_LISTED]]
            more = len(self.items) - MAX_LISTED
            if more > 0:
                lines.append(f"  ... and {more} more")
            message = f"{message}\n{len(self.items) - 1} more problem(s):\n" + "\n".join(lines)
        err = DataError(message, file=file, record=record)
        err.problems = list(self.items)
        raise err


def load_json(path):
    """Parse a JSON file; DataError naming the file (and line/column) when it is malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read file: {exc}", file=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"malformed JSON: {exc.msg}", file=path,
                        record=f"line {exc.lineno} column {exc.colno}") from None


def _record_id(problems, path, kind, record, index, seen):
    """Check a record's id (an object, an integer id, not seen before) and register it; returns
    the record's name for messages, or None when it is not even an object or has a bad id."""
    if not isinstance(record, dict):
        problems.add(path, f"{kind} index {index}", f"{kind} record must be an object")
        return None
    rec = f"{kind} id={record.get('id')!r} (index {index})"
    if not is_integer(record.get("id")):
        problems.add(path, rec, f"{kind} id must be an integer")
        return None
    if record["id"] in seen:
        problems.add(path, rec, f"duplicate {kind} id {record['id']} (first at index {seen[record['id']]})")
        return None
    seen[record["id"]] = index
    return rec


def load_coco(path):
    """Load a COCO-style dict and check its top-level shape (images/annotations/categories lists)."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise DataError(f"top level must be a JSON object, got {type(data).__name__}", file=path)
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise DataError(f"missing or non-list '{key}'", file=path)
    if "categories" in data and not isinstance(data["categories"], list):
        raise DataError("'categories' must be a list", file=path)
    return data


def unsafe_file_name(file_name) -> str:
    """Why ``file_name`` may not be used under ROOT/images ('' when it is fine)."""
    if not isinstance(file_name, str) or not file_name.strip():
        return f"file_name must be a non-empty string, got {file_name!r}"
    if "\x00" in file_name:
        return f"file_name {file_name!r} contains a NUL byte"
    posix, win = PurePosixPath(file_name), PureWindowsPath(file_name)
    if posix.is_absolute() or win.is_absolute() or win.drive or file_name.startswith(("/", "\\")):
        return f"file_name {file_name!r} is an absolute path; it must be relative to images/"
    if ".." in posix.parts or ".." in win.parts:
        return f"file_name {file_name!r} escapes the data root ('..')"
    return ""


def is_integer(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_number(x) -> bool:
    """A finite int or float (not a bool): what a JSON coordinate must be."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _fmt_box(box):
    return "[" + ", ".join(f"{v:g}" if is_number(v) else repr(v) for v in box) + "]"


def _image_problem(path: Path, decode: bool):
    """(size, problem) for an image file; size is (width, height) or None."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        return None, f"image file not found: {path}"
    try:
        with Image.open(path) as im:
            size = im.size
            im.verify()
        if decode:
            with Image.open(path) as im:
                im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return None, f"unreadable image file {path.name}: {exc}"
    return size, ""


def _scheme_names(scheme):
    """Keypoint names of the scheme, or None when mmpose is not importable."""
    try:
        return keypoint_names(scheme)
    except ImportError:
        return None


def _check_split(root: Path, split, scheme_k, problems, image_cache, decode):
    """Check one annotation file (keypoints optional in test's); add problems; return its summary
    (or None when unusable).  ``image_cache``: file -> (size, problem), shared by the splits."""
    path = annotation_path(root, split)
    images_dir = root / "images"
    require_keypoints = split != "test"
    try:
        data = load_coco(path)
    except DataError as exc:
        problems.add_error(exc)
        return None
    n_before = len(problems)

    # categories
    cats = {}
    for i, cat in enumerate(data.get("categories") or []):
        if not isinstance(cat, dict) or not is_integer(cat.get("id")):
            problems.add(path, f"category index {i}", "category must be an object with an integer id")
            continue
        rec = f"category id={cat['id']} (index {i})"
        if cat["id"] in cats:
            problems.add(path, rec, "duplicate category id")
        names = cat.get("keypoints")
        if require_keypoints or names is not None:
            if not isinstance(names, list):
                problems.add(path, rec, "category has no 'keypoints' name list")
            elif len(names) != scheme_k:
                problems.add(path, rec, f"category lists {len(names)} keypoints, the scheme has {scheme_k}")
        cats[cat["id"]] = cat
    if require_keypoints and not cats:
        problems.add(path, None, "no categories")

    # images
    images, image_index = {}, {}
    for i, img in enumerate(data["images"]):
        rec = _record_id(problems, path, "image", img, i, image_index)
        if rec is None:
            continue
        images[img["id"]] = img
        why = unsafe_file_name(img.get("file_name"))
        if why:
            problems.add(path, rec, why)
            continue
        w, h = img.get("width"), img.get("height")
        if not (is_number(w) and is_number(h) and w > 0 and h > 0):
            problems.add(path, rec, f"width/height must be positive numbers, got {w!r}/{h!r}")
            continue
        file = images_dir / img["file_name"]
        if file not in image_cache:
            image_cache[file] = _image_problem(file, decode)
        size, why = image_cache[file]
        if why:
            problems.add(path, rec, why)
        elif tuple(size) != (w, h):
            problems.add(path, rec, f"image {img['file_name']} is {size[0]}x{size[1]} but the record "
                                    f"says {w}x{h}")

    # annotations
    ann_ids = {}
    n_inst, n_labelled, kp_outside = 0, 0, 0
    for i, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            problems.add(path, f"annotation index {i}", "annotation record must be an object")
            continue
        rec = f"annotation id={ann.get('id')!r} (index {i})"
        _record_id(problems, path, "annotation", ann, i, ann_ids)  # a bad id is reported; checks go on
        img = images.get(ann.get("image_id"))
        if img is None:
            problems.add(path, rec, f"image_id {ann.get('image_id')!r} is not in 'images'")
            continue
        W, H = img.get("width"), img.get("height")
        sized = is_number(W) and is_number(H)
        if cats and ann.get("category_id") not in cats:
            problems.add(path, rec, f"category_id {ann.get('category_id')!r} is not in 'categories'")
        n_inst += 1
        box = ann.get("bbox")
        if not (isinstance(box, list) and len(box) == 4 and all(is_number(v) for v in box)):
            problems.add(path, rec, f"bbox must be 4 finite numbers [x, y, w, h], got {box!r}")
        else:
            x, y, bw, bh = box
            if bw <= 0:
                problems.add(path, rec, f"box {_fmt_box(box)} has {'zero' if bw == 0 else 'negative'} width")
            elif bh <= 0:
                problems.add(path, rec, f"box {_fmt_box(box)} has {'zero' if bh == 0 else 'negative'} height")
            else:
                t = BOX_TOLERANCE
                if sized and (x < -t or y < -t or x + bw > W + t or y + bh > H + t):
                    problems.add(path, rec, f"box {_fmt_box(box)} lies outside its {W:g}x{H:g} image "
                                            f"(image id={img['id']}, {img.get('file_name')})")
        kpts = ann.get("keypoints")
        if kpts is None and not require_keypoints:
            continue
        if not isinstance(kpts, list) or len(kpts) % 3 or not all(is_number(v) for v in kpts):
            problems.add(path, rec, "keypoints must be a flat list of numbers [x1, y1, v1, ...]")
            continue
        if len(kpts) != 3 * scheme_k:
            problems.add(path, rec, f"has {len(kpts) // 3} keypoints ({len(kpts)} numbers), "
                                    f"the scheme has {scheme_k}")
            continue
        flags = kpts[2::3]
        bad = [k for k, v in enumerate(flags) if v not in (0, 1, 2)]
        if bad:
            problems.add(path, rec, f"keypoint {bad[0]} has visibility {flags[bad[0]]!r} (must be 0, 1 or 2)")
            continue
        nk = sum(1 for v in flags if v > 0)
        n_labelled += nk
        if "num_keypoints" in ann and ann["num_keypoints"] != nk:
            problems.add(path, rec, f"num_keypoints is {ann['num_keypoints']!r} but {nk} keypoints are labelled")
        if sized:
            kp_outside += sum(1 for k in range(scheme_k) if flags[k] > 0 and not (
                -BOX_TOLERANCE <= kpts[3 * k] <= W + BOX_TOLERANCE
                and -BOX_TOLERANCE <= kpts[3 * k + 1] <= H + BOX_TOLERANCE))

    if split in REQUIRED_SPLITS:
        if not data["images"]:
            problems.add(path, None, f"empty split: {split} has no images")
        elif not data["annotations"]:
            problems.add(path, None, f"empty split: {split} has no annotations")
    elif not data["images"]:
        problems.add(path, None, f"{split} file has no images")

    if len(problems) > n_before:
        return None
    return {"file": str(path), "images": len(images), "instances": n_inst,
            "labelled_keypoints": n_labelled, "keypoints_outside_image": kp_outside,
            "file_names": {img["file_name"] for img in images.values()},
            "categories": data.get("categories") or []}


def check_dataset(root, scheme=None, *, decode=False) -> dict:
    """Check ``root`` (course layout); return a report or raise DataError listing the problems.

    ``scheme`` (cats17 / animalpose20) defaults to the one matching the keypoint count of
    train.json's category (17 -> cats17, 20 -> animalpose20).

    Report: ``{"root", "scheme", "num_keypoints", "splits": {split: {"images",
    "instances", "labelled_keypoints", "keypoints_outside_image", "file"}}, "warnings": [...]}``
    (``test`` only when test_info.json exists).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError("data root is not a folder", file=root)
    if not (root / "images").is_dir():
        raise DataError("missing images/ folder", file=root)
    if scheme is None:
        scheme = root_scheme(root)
    if scheme not in SCHEME_COUNTS:
        raise DataError(f"unknown keypoint scheme {scheme!r}; choose one of {', '.join(SCHEME_COUNTS)}")
    k = SCHEME_COUNTS[scheme]

    problems, cache = _Problems(), {}
    summaries = {split: _check_split(root, split, k, problems, cache, decode) for split in dataset_splits(root)}
    problems.raise_if_any()

    warnings = []
    leak = summaries["train"]["file_names"] & summaries["val"]["file_names"]
    if leak:
        warnings.append(f"{len(leak)} image file(s) appear in both train and val, e.g. {sorted(leak)[0]}")
    if "test" in summaries:
        leak = summaries["test"]["file_names"] & summaries["train"]["file_names"]
        if leak:
            warnings.append(f"{len(leak)} test image file(s) also appear in train, e.g. {sorted(leak)[0]}")
    for split, s in summaries.items():
        if s["keypoints_outside_image"]:
            warnings.append(f"{split}: {s['keypoints_outside_image']} labelled keypoint(s) lie outside their image")
    names = _scheme_names(scheme)
    if names is not None:
        for split in REQUIRED_SPLITS:
            for cat in summaries[split]["categories"]:
                if cat.get("keypoints") != names:
                    warnings.append(f"{split}: category {cat.get('name')!r} keypoint names differ from "
                                    f"the {scheme} scheme's (order or spelling)")
    splits = {s: {key: v[key] for key in ("images", "instances", "labelled_keypoints",
                                          "keypoints_outside_image", "file")}
              for s, v in summaries.items()}
    return {"root": str(root), "scheme": scheme, "num_keypoints": k, "splits": splits,
            "warnings": warnings}


def format_report(report) -> str:
    lines = [f"{report['root']}: OK ({report['scheme']}, {report['num_keypoints']} keypoints)"]
    for split, s in report["splits"].items():
        lines.append(f"  {split:<5} {s['images']:>6} images {s['instances']:>6} instances")
    for w in report["warnings"]:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def root_scheme(root) -> str:
    """The scheme of a course-layout dataset, from its annotations/train.json."""
    path = annotation_path(root, "train")
    return infer_scheme(load_coco(path), path)
