"""Top-down prediction with MMPose's inference API (``init_model``, ``inference_topdown``):
COCO keypoint results (image_id, category_id, keypoints, score) for the boxes of an annotation
file such as a test set's ``test_info.json`` (``predict_boxes``), and for a user's own photos,
each whole photo the cat's box or the boxes of a box file, with one overlay per photo
(``predict_photos``).  The model: a zoo model (name or folder) or a run's result JSON."""
import json
import time
from pathlib import Path

import numpy as np

from catpose_lib import zoo
from catpose_lib.console import say
from catpose_lib.data.animalpose import scheme_order
from catpose_lib.data.boxes import load_boxes
from catpose_lib.data.layout import atomic_write_json, by_image
from catpose_lib.data.photos import Photo, collect_photos, photo_problem, read_photo
from catpose_lib.errors import CatposeError, DataError, ParameterError
from catpose_lib.runs.results import result_path
from catpose_lib.runs.run import resolve_device
from catpose_lib.zoo.model_config import load_model_config

RESULTS_FILE = "result_keypoints.json"   # COCO keypoint results (+ file_name)
INFO_FILE = "result_info.json"           # the model, keypoint names in output order, image files, skipped files
OVERLAY_DIR = "overlays"


def load_run(run_dir_or_result):
    """Result dict of a run, given its result JSON or its work dir."""
    p = Path(run_dir_or_result)
    if p.is_file() and p.suffix == ".json":
        return json.loads(p.read_text())
    if p.is_dir() and not zoo.is_model(p):
        # a work dir (results/<block>/runs/<name>-<key>): find the result that points at it
        block_dir = p.parent.parent
        for candidate in block_dir.glob("*.json"):
            result = json.loads(candidate.read_text())
            if Path(result.get("work_dir", "")).resolve() == p.resolve():
                return result
    raise CatposeError(f"{run_dir_or_result}: not a run result JSON or run folder")


def is_run(path) -> bool:
    """A run's result JSON or work folder (what ``load_run`` reads)?"""
    p = Path(str(path))
    if p.is_dir():
        return (p / ".catpose-run").is_file()
    if p.is_file() and p.suffix == ".json":
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and "checkpoint" in data and "block" in data
    return False


def run_config(result) -> Path:
    """The portable config a run left beside its result (``NN_sS.py``), found from its work dir
    (RESULTS/BLOCK/runs/...)."""
    results_dir = Path(result["work_dir"]).parents[2]
    return result_path(results_dir, result["block"], result["no"], result["seed"]).with_suffix(".py")


def has_checkpoint(result) -> bool:
    """Whether the run's best checkpoint is on this machine."""
    return bool(result.get("checkpoint")) and Path(result["checkpoint"]).exists()


def build_model(result, device="cpu", config=None):
    """The run's model from the portable config it left beside its result (:func:`run_config`,
    unless given), its best checkpoint loaded."""
    if not has_checkpoint(result):
        raise CatposeError(f"run {result['name']} of block {result['block']} has no best checkpoint")
    return init_from_config(config or run_config(result), result["checkpoint"], device)


def instance_score(keypoint_scores, bbox_score=1.0, keypoint_score_thr=0.2) -> float:
    """The instance score as MMPose's CocoMetric computes it (score_mode 'bbox_keypoint'):
    box score x mean of the keypoint scores above the threshold (0 when none is)."""
    valid = keypoint_scores > keypoint_score_thr
    return float(bbox_score * (keypoint_scores[valid].mean() if valid.any() else 0.0))


def output_order(file_names, model_names, ann_file, record="categories[0]"):
    """For each keypoint name of an annotation file's category, its index in the model's
    output, by name (the scheme's own names, or Animal-Pose's raw ones through the importer's
    map): results are written in the file's order, which a scorer's ground truth shares.
    Why: a blind test set in the raw Animal-Pose order (left_eye, right_eye, nose, ...) would
    otherwise get its keypoints in MMPose's order (L_Eye, R_Eye, L_EarBase, ...)."""

    order = scheme_order(file_names, model_names)
    unknown = [n for n, k in zip(file_names, order) if k is None]
    if unknown or sorted(order) != list(range(len(model_names))):
        raise DataError(f"the category's keypoint names {list(file_names)} do not name the model's "
                        f"{len(model_names)} keypoints {list(model_names)} once each"
                        + (f" (unknown: {unknown})" if unknown else ""), file=ann_file, record=record)
    return order


def init_from_config(config, checkpoint, device="cpu"):
    """A model from a zoo model's config file and a checkpoint (mmpose's init_model); ``checkpoint``
    None: the architecture alone, as the config initialises it."""
    from mmpose.apis import init_model

    from catpose_lib.compat import checkpoint_loading  # lazy: torch/mmengine (CLI speed)

    checkpoint_loading.install()
    return init_model(load_model_config(config), str(checkpoint) if checkpoint else None, device=device)


def load_model(ref=None, device="cpu"):
    """(model, label) for a zoo model's name or folder, or a run's result JSON or work folder;
    ``None``: the zoo's default model."""
    ref = ref or zoo.default_name()
    if zoo.is_model(ref):
        entry = zoo.find(ref)
        return init_from_config(entry.config, entry.checkpoint(), device), f"zoo model {entry.name}"
    if is_run(ref):
        result = load_run(ref)
        config = Path(ref).with_suffix(".py") if Path(ref).is_file() else None
        return build_model(result, device, config), f"run {result['name']} of block {result['block']}"
    raise ParameterError("model", str(ref), "a zoo model's name or folder (known: "
                         f"{', '.join(zoo.names()) or 'none yet'}), or a run's result JSON or work folder")


def model_keypoint_names(model) -> list:
    meta = model.dataset_meta
    return [meta["keypoint_id2name"][k] for k in range(meta["num_keypoints"])]


def category_orders(categories, model, ann_file) -> dict:
    """category id -> output_order, for the categories that list keypoint names."""
    names = model_keypoint_names(model)
    return {c.get("id"): output_order(c["keypoints"], names, ann_file, f"categories[{i}]")
            for i, c in enumerate(categories or []) if isinstance(c, dict) and c.get("keypoints")}


def set_flip_test(model, flip_test: bool) -> None:
    model.cfg.model.test_cfg.flip_test = flip_test
    model.test_cfg["flip_test"] = flip_test


def predict_instances(model, image, boxes, image_id, orders=None) -> list:
    """Top-down inference on ``boxes`` (dicts with ``bbox`` [x, y, w, h], optional
    ``category_id`` and ``score``) of one image (a path, or a BGR array as LoadImage makes);
    returns (COCO result record, keypoints (K, 3) in the model's order) per box.  Each record's
    keypoints follow its category's order in ``orders`` (``output_order``), else the model's."""
    from mmpose.apis import inference_topdown

    xywh = np.array([b["bbox"] for b in boxes], dtype=np.float32)
    samples = inference_topdown(model, str(image) if isinstance(image, Path) else image, xywh, bbox_format="xywh")
    out = []
    for box, sample in zip(boxes, samples):
        kpts, scores = sample.pred_instances.keypoints[0], sample.pred_instances.keypoint_scores[0]
        own = np.concatenate([kpts, scores[:, None]], axis=1)
        order = (orders or {}).get(box.get("category_id", 1), slice(None))
        flat = own[order].reshape(-1)
        record = dict(image_id=image_id, category_id=box.get("category_id", 1),
                      keypoints=[round(float(v), 4) for v in flat],
                      score=instance_score(scores[order], box.get("score", 1.0)))
        out.append((record, own))
    return out


def predict_boxes(model, ann_file, image_root=None, flip_test=True):
    """Top-down inference on every box of ``ann_file``; returns COCO result records, the
    keypoints in the order of the file's category (``output_order``)."""
    ann_file = Path(ann_file)
    try:
        coco = json.loads(ann_file.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"malformed JSON ({exc})", file=ann_file) from None
    orders = category_orders(coco.get("categories"), model, ann_file)  # checked before any inference
    image_root = Path(image_root) if image_root else ann_file.parent.parent / "images"
    set_flip_test(model, flip_test)
    for i, ann in enumerate(coco.get("annotations", [])):
        if "bbox" not in ann:
            raise DataError("annotation has no bbox", file=ann_file, record=f"annotations[{i}]")
    grouped = by_image(coco.get("annotations", []))
    records = []
    for img in coco["images"]:
        anns = grouped.get(img["id"], [])
        if anns:
            records += [r for r, _ in predict_instances(model, image_root / img["file_name"], anns, img["id"], orders)]
    return records


# ---------------------------------------------------------------- a user's own photos
def plan_photos(paths, boxes_file=None, images_root=None) -> tuple:
    """(jobs, problems, categories): one job per photo to predict (photo, image_id, its boxes or
    None for the whole photo), (file, reason) for each one that cannot be, and the box file's
    categories (their keypoint names order the output).  Without photos, a COCO
    box file's own images are the photos (under ``images_root``, default ``../images``
    beside its ``annotations/`` folder)."""
    boxes = load_boxes(boxes_file) if boxes_file else None
    categories = boxes["categories"] if boxes else []
    coco = boxes is not None and boxes["images"] is not None  # else a detections list, or no box file
    grouped = by_image(boxes["boxes"]) if coco else {}
    if not paths:
        if not coco:
            raise ParameterError("PHOTOS", [], "one or more photos or folders (or --boxes with a COCO file "
                                               "that lists its images)")
        root = Path(images_root) if images_root else Path(boxes_file).parent.parent / "images"
        if not root.is_dir():
            raise ParameterError("images", str(root), "the folder of the box file's images (pass --images DIR)")
        jobs = [dict(photo=Photo(root / im["file_name"], im["file_name"], im["file_name"]), image_id=im["id"],
                     boxes=grouped[im["id"]]) for im in boxes["images"] if grouped.get(im["id"])]
        return jobs, [], categories
    photos, problems = collect_photos(paths)
    if boxes is None:
        return [dict(photo=p, image_id=i, boxes=None) for i, p in enumerate(photos, 1)], problems, categories
    jobs = []
    if coco:  # photos are the file's images, by file name
        by_name = {}
        for im in boxes["images"]:
            by_name.setdefault(im["file_name"], im)
            by_name.setdefault(Path(im["file_name"]).name, im)
        for p in photos:
            im = by_name.get(p.name) or by_name.get(p.path.name)
            if im is None or not grouped.get(im["id"]):
                problems.append((p.name, f"no box for it in {boxes_file}"))
            else:
                jobs.append(dict(photo=p, image_id=im["id"], boxes=grouped[im["id"]]))
        return jobs, problems, categories
    # a detections list: each box names its photo by file_name, else by image_id = the
    # photo's position (1, 2, ... in the order the photos are listed)
    for i, p in enumerate(photos, 1):
        mine = [b for b in boxes["boxes"] if (b.get("file_name") in (p.name, p.path.name)
                                              if isinstance(b.get("file_name"), str) else b.get("image_id") == i)]
        if mine:
            jobs.append(dict(photo=p, image_id=i, boxes=mine))
        else:
            problems.append((p.name, f"no box for it in {boxes_file}"))
    return jobs, problems, categories


def overlay_names(jobs) -> list:
    """A distinct PNG name per photo, from its key (subfolders joined by '__')."""
    names, seen = [], set()
    for job in jobs:
        stem = str(Path(job["photo"].key).with_suffix("")).replace("\\", "/").strip("/").replace("/", "__")
        stem = stem.replace("..", "_") or "photo"
        name, n = f"{stem}.png", 1
        while name in seen:
            n += 1
            name = f"{stem}-{n}.png"
        seen.add(name)
        names.append(name)
    return names


def output_files(out) -> tuple:
    """(results, info) paths: OUT/result_keypoints.json and OUT/result_info.json for a folder;
    for OUT ending in .json, that file and OUT's stem + '.info.json' beside it."""
    out = Path(out)
    if out.suffix.lower() == ".json":
        return out, out.with_name(out.stem + ".info.json")
    return out / RESULTS_FILE, out / INFO_FILE


def report_problem(path, reason) -> None:
    """One line naming a file that is not predicted, and why."""
    say(f"error: {path}: {reason} (skipped)", err=True)


def predict_photos(model, jobs, out_dir, orders=None, overlays=True, kpt_thr=0.3, progress_every=25,
                   label="", skipped=()) -> dict:
    """Predict every job of ``plan_photos``; a photo that cannot be read or predicted is
    reported in one line and skipped.  Writes the results (COCO keypoint results, each record
    with its photo's ``file_name``) and their info (``output_files``) and, with ``overlays``,
    one PNG per photo in ``overlays/`` beside them.  Returns a summary (counts, files, problems)."""
    from catpose_lib.report.drawing import pose_overlay, save  # lazy: torch/mmengine (CLI speed)

    results, info = output_files(out_dir)
    overlay_dir = results.parent / OVERLAY_DIR
    records, problems, written, predicted = [], list(skipped), [], []
    start = time.perf_counter()
    for n, (job, png) in enumerate(zip(jobs, overlay_names(jobs)), 1):
        photo = job["photo"]
        reason = photo_problem(photo.path)
        if reason is None:
            try:
                bgr = read_photo(photo.path)
            except (OSError, ValueError) as exc:
                reason = str(exc)
        if reason is None:
            boxes = job["boxes"] or [dict(bbox=[0.0, 0.0, float(bgr.shape[1]), float(bgr.shape[0])])]
            try:
                found = predict_instances(model, bgr, boxes, job["image_id"], orders)
            except Exception as exc:  # one photo that MMPose's pipeline cannot take must not stop the others
                reason = f"prediction failed ({type(exc).__name__}: {exc})"
        if reason is not None:
            report_problem(photo.name, reason)
            problems.append(dict(file=photo.name, reason=reason))
            continue
        predicted.append(job)
        records += [dict(r, file_name=photo.name) for r, _ in found]
        if overlays:
            best = max(r["score"] for r, _ in found)
            fig = pose_overlay(model.dataset_meta, np.ascontiguousarray(bgr[..., ::-1]), [own for _, own in found],
                               [b["bbox"] for b in job["boxes"]] if job["boxes"] else None,
                               title=f"{photo.name}: {len(found)} cat(s), best score {best:.2f}", kpt_thr=kpt_thr)
            written.append(str(save(fig, overlay_dir / png, tight_layout=False)))
        if progress_every and n % progress_every == 0 and n < len(jobs):
            rate = n / (time.perf_counter() - start)
            say(f"[predict] {n}/{len(jobs)} photos ({rate:.1f} photos/s)")
    atomic_write_json(results, records)
    names = model_keypoint_names(model)
    atomic_write_json(info, dict(
        model=label, results=results.name, keypoints_in_model_order=names,
        keypoint_order="each record's keypoints are (x, y, score) per keypoint, in the order of its box "
                       "file's category where it lists keypoint names, else in keypoints_in_model_order",
        images={str(j["image_id"]): j["photo"].name for j in predicted}, skipped=problems), indent=1)
    return dict(results=str(results), records=len(records), photos=len(predicted), skipped=problems,
                overlays=written, seconds=round(time.perf_counter() - start, 2))


def run_predict(paths, out, model=None, boxes_file=None, images_root=None, device="auto", flip_test=True,
                overlays=True, kpt_thr=0.3, progress_every=25) -> dict:
    """``predict``: plan the photos (bad files reported, nothing loaded yet), load the model,
    predict, write.  ``summary['photos']`` is 0 when nothing could be predicted."""
    jobs, problems, categories = plan_photos(paths, boxes_file, images_root)
    checked = [(job, photo_problem(job["photo"].path)) for job in jobs]  # size and header: before the model loads
    jobs = [job for job, reason in checked if reason is None]
    problems += [(job["photo"].name, reason) for job, reason in checked if reason is not None]
    for path, reason in problems:
        report_problem(path, reason)
    skipped = [dict(file=path, reason=reason) for path, reason in problems]
    if not jobs:
        return dict(results=None, records=0, photos=0, skipped=skipped, overlays=[], seconds=0.0)
    net, label = load_model(model, resolve_device(device))
    orders = category_orders(categories, net, boxes_file)
    set_flip_test(net, flip_test)
    say(f"[predict] {label}: {len(jobs)} photo(s) -> {out}")
    return predict_photos(net, jobs, out, orders, overlays=overlays, kpt_thr=kpt_thr,
                          progress_every=progress_every, label=label, skipped=skipped)
