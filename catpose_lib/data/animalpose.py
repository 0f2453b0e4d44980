"""Import an Animal-Pose ``keypoints.json`` (the dataset's own format) into the course layout.

Raw format (see ``../shared/datasets/animalpose_cats/README.md``)::

    {"images": {"<image_id>": "<file name in images/>", ...},
     "annotations": [{"image_id", "bbox": [x1, y1, x2, y2], "keypoints": [[x, y, v], ...],
                      "num_keypoints", "category_id"}, ...],
     "categories": [{"id", "name", "keypoints": [raw names...], "skeleton"}, ...]}

Output (course layout, COCO keypoint JSON, ``file_name`` relative to ``ROOT/images``)::

    ROOT/images/<raw file names>          hard links to the source images (copies across
                                          file systems, or with link=False)
    ROOT/annotations/train.json, val.json
    ROOT/annotations/test_info.json

Conversion:

* keypoints are reordered *by name* into the ``animalpose20`` scheme, which is MMPose's own
  Animal-Pose metainfo (``configs/_base_/datasets/animalpose.py``: L_Eye, R_Eye, L_EarBase,
  R_EarBase, Nose, Throat, TailBase, Withers, L_F_Elbow, ...); its order differs from the
  raw order (left_eye, right_eye, nose, left_ear, ...).  ``RAW_TO_MMPOSE`` is the name map;
  an unknown raw name is an error;
* ``v``: 1 -> 2 (labelled), 0 -> ``x = y = v = 0``; ``num_keypoints`` is recomputed (the raw
  one is unreliable); boxes ``[x1, y1, x2, y2]`` -> COCO ``[x, y, w, h]``, clipped to the
  image (the downscaled "others" set has boxes up to a pixel outside); ``area = w * h``;
* image ids are the raw ones; annotation ids are 1..N in raw order (``raw_index`` keeps
  each instance's index in the raw ``annotations`` list);
* categories: each raw category kept becomes one COCO category with the raw *name*, the
  ``animalpose20`` keypoint names and skeleton (1-based pairs, COCO convention), and a new
  id 1..C in raw-id order (``raw_id`` keeps the old one).  So cats are category 1, the id
  MMPose assumes for single-class data.  ``categories`` selects which raw categories to keep;
* only images with at least one kept instance are written.  The train/val split is at the
  image level (all instances of a picture land in the same split), by a ``seed``-controlled
  shuffle of the sorted image ids: deterministic for a given file, seed and ``n_val``.
  Default ``n_val = round(0.11 * n_images)`` (at least 1): 1,000 train / 124 val on the
  1,124 shared cat images, about a tenth of a small file.

There is no test split in the raw data, so ``test_info.json`` holds the *val* images and
their boxes (no keypoints): the detector-free "test" protocol then runs on the val images.
Do not report numbers on it as held-out test results.

Everything is written through :func:`~catpose_lib.data.layout.staged_output_dir`: on any
error (malformed JSON, missing image, bad record -> :class:`DataError` naming file and
record) nothing is left at ``root``.
"""
import os
import random
import shutil
from pathlib import Path

from catpose_lib.data.layout import annotation_path, atomic_write_json, staged_output_dir
from catpose_lib.data.validate import is_number, load_json, unsafe_file_name
from catpose_lib.errors import DataError
from catpose_lib.schemes import keypoint_names, load_scheme

SCHEME = "animalpose20"
VAL_FRACTION = 0.11

# Animal-Pose keypoints.json names -> MMPose animalpose metainfo names.
RAW_TO_MMPOSE = {
    "left_eye": "L_Eye", "right_eye": "R_Eye", "nose": "Nose",
    "left_ear": "L_EarBase", "right_ear": "R_EarBase",
    "throat": "Throat", "withers": "Withers", "tailbase": "TailBase",
    "left_front_elbow": "L_F_Elbow", "right_front_elbow": "R_F_Elbow",
    "left_back_elbow": "L_B_Elbow", "right_back_elbow": "R_B_Elbow",
    "left_front_knee": "L_F_Knee", "right_front_knee": "R_F_Knee",
    "left_back_knee": "L_B_Knee", "right_back_knee": "R_B_Knee",
    "left_front_paw": "L_F_Paw", "right_front_paw": "R_F_Paw",
    "left_back_paw": "L_B_Paw", "right_back_paw": "R_B_Paw",
}


def default_n_val(n_images: int) -> int:
    """Validation images for a file of ``n_images`` (at least 1, at most n_images - 1)."""
    return min(max(1, int(round(VAL_FRACTION * n_images))), max(1, n_images - 1))


def _locate(src):
    src = Path(src)
    if src.is_dir():
        return src / "keypoints.json", src / "images"
    return src, src.parent / "images"


def scheme_order(names, scheme_names) -> list:
    """For each keypoint name (the scheme's own, or an Animal-Pose raw one through
    ``RAW_TO_MMPOSE``), its index in ``scheme_names``; None where it names none."""
    pos = {n: k for k, n in enumerate(scheme_names)}
    return [pos.get(n, pos.get(RAW_TO_MMPOSE.get(n))) for n in names]


def _select_categories(raw_cats, wanted, json_path):
    """Raw category dicts to keep, in raw-id order.  ``wanted``: None/'all', names or ids."""
    wanted = [str(w) for w in (["all"] if wanted is None else [wanted] if isinstance(wanted, str) else wanted)]
    if "all" in wanted:
        return sorted(raw_cats, key=lambda c: c["id"])
    keep, unknown = [], []
    for w in wanted:
        match = [c for c in raw_cats if str(c["id"]) == w or str(c.get("name", "")).lower() == w.lower()]
        if not match:
            unknown.append(w)
        keep += [c for c in match if c not in keep]
    if unknown:
        have = ", ".join(f"{c['id']} {c.get('name')}" for c in raw_cats)
        raise DataError(f"unknown category {', '.join(unknown)} (file has: {have})", file=json_path)
    return sorted(keep, key=lambda c: c["id"])


def _permutation(cat, names, json_path, index):
    """perm[k_raw] = k_scheme, by name."""
    rec = f"category id={cat.get('id')!r} (index {index})"
    raw_names = cat.get("keypoints")
    if not isinstance(raw_names, list) or not raw_names:
        raise DataError("category has no keypoint name list", file=json_path, record=rec)
    perm = scheme_order(raw_names, names)
    if None in perm:
        raise DataError(f"unknown keypoint name {raw_names[perm.index(None)]!r}: not an Animal-Pose name "
                        f"({', '.join(RAW_TO_MMPOSE)}) nor an {SCHEME} one", file=json_path, record=rec)
    if sorted(perm) != list(range(len(names))):
        missing = [names[k] for k in range(len(names)) if k not in perm]
        raise DataError(f"keypoint names do not cover the {SCHEME} scheme exactly once "
                        f"({len(raw_names)} names; missing {missing})", file=json_path, record=rec)
    return perm


def convert_annotation(ann, perm, image_size, json_path, index):
    """Raw annotation -> (bbox xywh, flat keypoints in scheme order, num_keypoints)."""
    rec = f"annotation index {index} (image_id={ann.get('image_id')!r})"
    box = ann.get("bbox")
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and all(is_number(v) for v in box)):
        raise DataError(f"bbox must be 4 numbers [x1, y1, x2, y2], got {box!r}", file=json_path, record=rec)
    W, H = image_size
    x1, y1, x2, y2 = max(0, box[0]), max(0, box[1]), min(W, box[2]), min(H, box[3])
    if x2 <= x1 or y2 <= y1:
        raise DataError(f"bbox {list(box)} is empty (x2 <= x1 or y2 <= y1) within the {W}x{H} image",
                        file=json_path, record=rec)
    kpts = ann.get("keypoints")
    k = len(perm)
    if not isinstance(kpts, list) or len(kpts) != k:
        n = len(kpts) if isinstance(kpts, list) else kpts
        raise DataError(f"keypoints must be a list of {k} [x, y, v] triples, got {n!r} entries",
                        file=json_path, record=rec)
    flat = [0] * (3 * k)
    labelled = 0
    for r, point in enumerate(kpts):
        if not (isinstance(point, (list, tuple)) and len(point) == 3 and all(is_number(v) for v in point)):
            raise DataError(f"keypoint {r} must be [x, y, v] numbers, got {point!r}", file=json_path, record=rec)
        x, y, v = point
        if v not in (0, 1, 2):
            raise DataError(f"keypoint {r} has visibility {v!r} (expected 0 or 1)", file=json_path, record=rec)
        if v:
            s = perm[r]
            flat[3 * s:3 * s + 3] = [x, y, 2]
            labelled += 1
    rnd = (lambda v: round(v, 2)) if any(isinstance(v, float) for v in box) else (lambda v: v)
    xywh = [rnd(x1), rnd(y1), rnd(x2 - x1), rnd(y2 - y1)]
    return xywh, flat, labelled


def _place_image(src, dst, link):
    dst.parent.mkdir(parents=True, exist_ok=True)
    if link:
        try:
            os.link(src, dst)
            return "linked"
        except OSError:
            pass
    shutil.copyfile(src, dst)
    return "copied"


def import_animalpose(src, root, n_val=None, seed=0, categories=None, *, link=True, one_category=None) -> dict:
    """Convert Animal-Pose ``src`` (folder with keypoints.json and images/, or the json) to ``root``.

    ``categories``: None or ``"all"`` (every category), or a list of raw names / ids to keep.
    ``n_val``: validation images (default ``default_n_val(n)``).
    ``link``: hard-link images when possible (else copy).  ``root`` must not exist or be empty.
    ``one_category``: a name, to merge every kept category into one (id 1; each annotation
    keeps its ``raw_category_id``): MMPose's CocoMetric scores its predictions as category 1,
    so a several-species set (the pretraining's other animals) must be one category.

    Returns a summary: ``{"root", "images": {"train", "val"}, "instances": {"train", "val"},
    "categories": [...], "linked", "copied", "dropped_images"}``.
    """
    from PIL import Image, UnidentifiedImageError

    json_path, images_dir = _locate(src)
    root_path = Path(root)
    if root_path.exists() and (not root_path.is_dir() or any(root_path.iterdir())):
        raise DataError("output folder already exists and is not empty; refusing to overwrite it",
                        file=root_path)
    if not json_path.is_file():
        raise DataError("Animal-Pose keypoints.json not found", file=json_path)
    raw = load_json(json_path)
    if not isinstance(raw, dict):
        raise DataError("top level must be a JSON object", file=json_path)
    raw_images, raw_anns, raw_cats = raw.get("images"), raw.get("annotations"), raw.get("categories")
    if not isinstance(raw_images, dict):
        raise DataError("'images' must be an object {image_id: file name} (Animal-Pose format)", file=json_path)
    if not isinstance(raw_anns, list):
        raise DataError("'annotations' must be a list", file=json_path)
    if not isinstance(raw_cats, list) or not raw_cats:
        raise DataError("'categories' must be a non-empty list", file=json_path)
    for i, c in enumerate(raw_cats):
        if not isinstance(c, dict) or not isinstance(c.get("id"), int):
            raise DataError("category must be an object with an integer id", file=json_path,
                            record=f"category index {i}")

    names = keypoint_names(SCHEME)
    skeleton = [[int(a) + 1, int(b) + 1] for a, b in load_scheme(SCHEME)["skeleton_links"]]
    kept_cats = _select_categories(raw_cats, categories, json_path)
    perms = {c["id"]: _permutation(c, names, json_path, raw_cats.index(c)) for c in kept_cats}
    new_cat_id = {c["id"]: i + 1 for i, c in enumerate(kept_cats)}
    out_cats = [{"id": new_cat_id[c["id"]], "name": str(c.get("name", c["id"])),
                 "supercategory": c.get("supercategory", "animal"), "raw_id": c["id"],
                 "keypoints": list(names), "skeleton": skeleton} for c in kept_cats]
    if one_category:
        new_cat_id = {c["id"]: 1 for c in kept_cats}
        out_cats = [{"id": 1, "name": str(one_category), "supercategory": "animal",
                     "raw_id": [c["id"] for c in kept_cats],
                     "raw_names": [str(c.get("name", c["id"])) for c in kept_cats],
                     "keypoints": list(names), "skeleton": skeleton}]
    known_cat_ids = {c["id"] for c in raw_cats}

    # image records
    images = {}
    for key, fname in raw_images.items():
        rec = f"image id={key!r}"
        try:
            img_id = int(key)
        except (TypeError, ValueError):
            raise DataError("image id must be an integer", file=json_path, record=rec) from None
        why = unsafe_file_name(fname)
        if why:
            raise DataError(why, file=json_path, record=rec)
        if img_id in images:
            raise DataError(f"duplicate image id {img_id}", file=json_path, record=rec)
        images[img_id] = fname
    dup = {}
    for img_id, fname in images.items():
        if fname in dup:
            raise DataError(f"file {fname} is listed under image ids {dup[fname]} and {img_id}",
                            file=json_path, record=f"image id={img_id}")
        dup[fname] = img_id

    # annotations of the kept categories, grouped by image
    by_image = {}
    for i, ann in enumerate(raw_anns):
        rec = f"annotation index {i}"
        if not isinstance(ann, dict):
            raise DataError("annotation must be an object", file=json_path, record=rec)
        cid = ann.get("category_id")
        if cid not in known_cat_ids:
            raise DataError(f"category_id {cid!r} is not in 'categories'", file=json_path, record=rec)
        if cid not in perms:
            continue
        try:
            img_id = int(ann.get("image_id"))
        except (TypeError, ValueError):
            img_id = None
        if img_id not in images:
            raise DataError(f"image_id {ann.get('image_id')!r} is not in 'images'", file=json_path, record=rec)
        by_image.setdefault(img_id, []).append(i)

    ids = sorted(by_image)
    n = len(ids)
    if n < 2:
        raise DataError(f"only {n} image(s) with instances of the selected categories; "
                        "need at least 2 to split into train and val", file=json_path)
    if n_val is None:
        n_val = default_n_val(n)
    if not 1 <= int(n_val) <= n - 1:
        raise DataError(f"n_val={n_val} must be between 1 and {n - 1} ({n} images)", file=json_path)
    order = list(ids)
    random.Random(seed).shuffle(order)
    val_ids = set(order[:int(n_val)])

    # image sizes (header only) and converted annotations
    sizes = {}
    for img_id in ids:
        file = images_dir / images[img_id]
        if not file.is_file():
            raise DataError(f"image file not found: {file}", file=json_path, record=f"image id={img_id}")
        try:
            with Image.open(file) as im:
                sizes[img_id] = im.size
                im.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise DataError(f"unreadable image {file}: {exc}", file=json_path,
                            record=f"image id={img_id}") from None

    splits = {"train": {"images": [], "annotations": []}, "val": {"images": [], "annotations": []}}
    next_ann = 1
    for img_id in ids:
        split = "val" if img_id in val_ids else "train"
        W, H = sizes[img_id]
        splits[split]["images"].append({"id": img_id, "file_name": images[img_id], "width": W, "height": H})
        for i in by_image[img_id]:
            ann = raw_anns[i]
            xywh, flat, nk = convert_annotation(ann, perms[ann["category_id"]], (W, H), json_path, i)
            area = round(xywh[2] * xywh[3], 2)
            out = {"id": next_ann, "image_id": img_id, "category_id": new_cat_id[ann["category_id"]],
                   "bbox": xywh, "area": area, "iscrowd": 0, "keypoints": flat, "num_keypoints": nk,
                   "raw_index": i, "raw_category_id": ann["category_id"]}
            splits[split]["annotations"].append(out)
            next_ann += 1
    test = {"images": splits["val"]["images"],
            "annotations": [{k: a[k] for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd", "raw_index")}
                            for a in splits["val"]["annotations"]]}

    info = {"description": f"Animal-Pose import of {json_path}", "scheme": SCHEME, "seed": seed,
            "n_val": int(n_val), "source": str(json_path)}
    counts = {"linked": 0, "copied": 0}
    with staged_output_dir(root) as stage:
        for img_id in ids:
            how = _place_image(images_dir / images[img_id], stage / "images" / images[img_id], link)
            counts[how] += 1
        for split, data in splits.items():
            atomic_write_json(annotation_path(stage, split),
                              {"info": dict(info, split=split), **data, "categories": out_cats})
        atomic_write_json(annotation_path(stage, "test"),
                          {"info": dict(info, split="test", note="no test split in the raw data: "
                                        "these are the val images and boxes, without keypoints"),
                           **test, "categories": out_cats})
    return {"root": str(Path(root).resolve()),
            "images": {s: len(d["images"]) for s, d in splits.items()},
            "instances": {s: len(d["annotations"]) for s, d in splits.items()},
            "categories": [(c["id"], c["name"], c["raw_id"]) for c in out_cats],
            "dropped_images": len(images) - n, **counts}
