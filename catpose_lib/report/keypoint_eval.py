"""Per-instance and per-keypoint accuracy of predictions against ground truth: OKS per
instance (failure cases) and normalised error / PCK per keypoint."""
import contextlib
import io

import numpy as np
import pandas as pd

from catpose_lib.data.layout import by_image
from catpose_lib.report.bootstrap import coco_eval


def by_annotation(gt_coco: dict, records: list, sigmas=None) -> dict:
    """Predictions keyed by the GT annotation id whose box they were made on (:func:`match_predictions`)."""
    return {ann["id"]: rec for ann, rec in match_predictions(gt_coco, records, sigmas)}


def match_predictions(gt_coco: dict, records: list, sigmas=None) -> list:
    """Pair each GT annotation with the prediction made on its box: in each image, in order
    when the image has as many predictions as cats and no ``sigmas`` are given (predict_boxes'
    output), else greedily by OKS (a validation's kept predictions may be reordered or fewer
    after CocoMetric's OKS NMS); cats with no labelled keypoint take what is left in order."""
    preds_by_image = by_image(records)
    pairs = []
    for image_id, anns in by_image(gt_coco["annotations"]).items():
        preds = preds_by_image.get(image_id, [])
        if sigmas is None or len(anns) == 1 == len(preds):
            pairs.extend(zip(anns, preds))
            continue
        oks = np.array([[instance_oks(a, p["keypoints"], sigmas) for p in preds] for a in anns]).reshape(len(anns), -1)
        oks = np.nan_to_num(oks, nan=-1.0)
        taken_a, taken_p = set(), set()
        for flat in np.argsort(-oks, axis=None, kind="stable"):
            i, j = divmod(int(flat), oks.shape[1])
            if i in taken_a or j in taken_p or oks[i, j] < 0:
                continue
            pairs.append((anns[i], preds[j]))
            taken_a.add(i)
            taken_p.add(j)
        rest = [j for j in range(len(preds)) if j not in taken_p]
        pairs.extend(zip([a for i, a in enumerate(anns) if i not in taken_a], [preds[j] for j in rest]))
    return pairs


def instance_oks(gt_ann: dict, pred_keypoints, sigmas) -> float:
    """COCO OKS of one prediction against one GT instance over its labelled keypoints
    (MMPose's ``oks_iou`` with the GT area on both sides); NaN when none is labelled."""
    from mmpose.evaluation.functional.nms import oks_iou

    gt = np.asarray(gt_ann["keypoints"], dtype=float).reshape(-1, 3)
    if not (gt[:, 2] > 0).any():
        return float("nan")
    pred = np.asarray(pred_keypoints, dtype=float).reshape(-1, 3).copy()
    pred[:, 2] = 1.0  # every predicted point counts; GT visibility selects the keypoints
    area = float(gt_ann.get("area") or gt_ann["bbox"][2] * gt_ann["bbox"][3])
    return float(oks_iou(gt.reshape(-1), pred.reshape(1, -1), area, np.array([area]), np.asarray(sigmas),
                         vis_thr=0)[0])


def per_instance_oks(gt_coco: dict, records: list, sigmas) -> list:
    return [dict(image_id=ann["image_id"], ann_id=ann["id"], oks=instance_oks(ann, rec["keypoints"], sigmas),
                 score=rec["score"]) for ann, rec in match_predictions(gt_coco, records, sigmas)]


def per_keypoint_error(gt_coco: dict, records: list, names: list, pck_threshold=0.1, sigmas=None):
    """Per keypoint: labelled count, mean error normalised by the box size (sqrt(w*h)), and
    PCK at ``pck_threshold`` of that size (MMPose's ``keypoint_epe`` / ``keypoint_pck_accuracy``),
    with its 95% Wilson interval over the labelled cats (PCK_low, PCK_high)."""
    from mmpose.evaluation.functional import keypoint_epe, keypoint_pck_accuracy

    pairs = match_predictions(gt_coco, records, sigmas)
    k = len(names)
    gt = np.array([np.reshape(a["keypoints"], (-1, 3)) for a, _ in pairs], dtype=float).reshape(-1, k, 3)
    pred = np.array([np.reshape(r["keypoints"], (-1, 3))[:, :2] for _, r in pairs], dtype=float).reshape(-1, k, 2)
    size = np.array([max(np.sqrt(a["bbox"][2] * a["bbox"][3]), 1.0) for a, _ in pairs]).reshape(-1, 1, 1)
    mask = gt[..., 2] > 0
    pck = keypoint_pck_accuracy(pred, gt[..., :2], mask, pck_threshold, np.repeat(size[:, 0], 2, axis=1))[0] \
        if len(pairs) else np.full(k, -1.0)
    rows = []
    for j, name in enumerate(names):
        n = int(mask[:, j].sum())
        err = keypoint_epe(pred[:, j:j + 1] / size, gt[:, j:j + 1, :2] / size, mask[:, j:j + 1]) if n else float("nan")
        low, high = wilson_interval(round(float(pck[j]) * n), n) if n else (float("nan"), float("nan"))
        rows.append({"keypoint": name, "labelled": n, "mean_norm_error": float(err),
                     f"PCK@{pck_threshold:g}": float(pck[j]) if n else float("nan"), "PCK_low": low, "PCK_high": high})
    return pd.DataFrame(rows).set_index("keypoint")


def wilson_interval(successes, n, z=1.959964) -> tuple:
    """The 95% Wilson score interval of a proportion ``successes`` / ``n`` (None, None for n 0)."""
    if n == 0:
        return None, None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def swap_rate(gt_coco: dict, records: list, flip_indices, names, sigmas=None) -> dict:
    """How often a left / right keypoint is predicted closer to its mirrored keypoint's true
    position than to its own: over every (cat, keypoint) with both the keypoint and its mirror
    labelled.  Returns the overall rate with its 95% Wilson interval and one row per pair."""
    counts = {}
    for ann, rec in match_predictions(gt_coco, records, sigmas):
        gt = np.asarray(ann["keypoints"], dtype=float).reshape(-1, 3)
        pred = np.asarray(rec["keypoints"], dtype=float).reshape(-1, 3)[:, :2]
        for j, m in enumerate(flip_indices):
            if m == j or gt[j, 2] <= 0 or gt[m, 2] <= 0:
                continue
            pair = names[min(j, m)] + " / " + names[max(j, m)]
            swapped = np.linalg.norm(pred[j] - gt[m, :2]) < np.linalg.norm(pred[j] - gt[j, :2])
            c = counts.setdefault(pair, [0, 0])
            c[0] += int(swapped)
            c[1] += 1
    swapped, eligible = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    low, high = wilson_interval(swapped, eligible)
    pairs = pd.DataFrame([dict(pair=k, swapped=v[0], eligible=v[1], rate=v[0] / v[1]) for k, v in counts.items()])
    return dict(rate=swapped / eligible if eligible else None, low=low, high=high, swapped=swapped,
                eligible=eligible, pairs=pairs)


def oks_ap(ann_file, predictions, sigmas) -> float:
    """COCO OKS AP of ``predictions`` (COCO keypoint results) on ``ann_file``: xtcocotools'
    COCOeval with its printout silenced."""
    ev = coco_eval(ann_file, predictions, sigmas)
    with contextlib.redirect_stdout(io.StringIO()):
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])
