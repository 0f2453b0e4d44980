"""Per-instance and per-keypoint accuracy of predictions against ground truth: OKS per
instance (failure cases) and normalised error / PCK per keypoint."""
import numpy as np


def match_predictions(gt_coco: dict, records: list) -> list:
    """Pair each GT annotation with the prediction made on its box (same image, same order)."""
    preds_by_image = {}
    for rec in records:
        preds_by_image.setdefault(rec["image_id"], []).append(rec)
    pairs = []
    anns_by_image = {}
    for ann in gt_coco["annotations"]:
        anns_by_image.setdefault(ann["image_id"], []).append(ann)
    for image_id, anns in anns_by_image.items():
        for ann, rec in zip(anns, preds_by_image.get(image_id, [])):
            pairs.append((ann, rec))
    return pairs


def instance_oks(gt_ann: dict, pred_keypoints, sigmas) -> float:
    """COCO OKS of one prediction against one GT instance (labelled keypoints only)."""
    gt = np.asarray(gt_ann["keypoints"], dtype=float).reshape(-1, 3)
    pred = np.asarray(pred_keypoints, dtype=float).reshape(-1, 3)
    vis = gt[:, 2] > 0
    if not vis.any():
        return float("nan")
    area = float(gt_ann.get("area") or gt_ann["bbox"][2] * gt_ann["bbox"][3])
    var = (2 * np.asarray(sigmas)) ** 2
    d2 = ((pred[:, :2] - gt[:, :2]) ** 2).sum(axis=1)
    e = d2 / var / (area + np.spacing(1)) / 2
    return float(np.mean(np.exp(-e[vis])))


def per_instance_oks(gt_coco: dict, records: list, sigmas) -> list:
    return [dict(image_id=ann["image_id"], ann_id=ann["id"], oks=instance_oks(ann, rec["keypoints"], sigmas),
                 score=rec["score"]) for ann, rec in match_predictions(gt_coco, records)]


def per_keypoint_error(gt_coco: dict, records: list, names: list, pck_threshold=0.1):
    """Per keypoint: labelled count, mean error normalised by the box size (sqrt(w*h)),
    and PCK at ``pck_threshold`` of that size."""
    import pandas as pd

    k = len(names)
    errors = [[] for _ in range(k)]
    for ann, rec in match_predictions(gt_coco, records):
        gt = np.asarray(ann["keypoints"], dtype=float).reshape(-1, 3)
        pred = np.asarray(rec["keypoints"], dtype=float).reshape(-1, 3)
        size = max(np.sqrt(ann["bbox"][2] * ann["bbox"][3]), 1.0)
        for j in range(k):
            if gt[j, 2] > 0:
                errors[j].append(float(np.linalg.norm(pred[j, :2] - gt[j, :2]) / size))
    rows = []
    for name, errs in zip(names, errors):
        errs = np.asarray(errs)
        rows.append(dict(keypoint=name, labelled=len(errs),
                         mean_norm_error=float(errs.mean()) if len(errs) else float("nan"),
                         **{f"PCK@{pck_threshold:g}": float((errs < pck_threshold).mean()) if len(errs)
                            else float("nan")}))
    return pd.DataFrame(rows).set_index("keypoint")
