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
                 score=rec["score"]) for ann, rec in match_predictions(gt_coco, records)]


def per_keypoint_error(gt_coco: dict, records: list, names: list, pck_threshold=0.1):
    """Per keypoint: labelled count, mean error normalised by the box size (sqrt(w*h)), and
    PCK at ``pck_threshold`` of that size (MMPose's ``keypoint_epe`` / ``keypoint_pck_accuracy``)."""
    import pandas as pd
    from mmpose.evaluation.functional import keypoint_epe, keypoint_pck_accuracy

    pairs = match_predictions(gt_coco, records)
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
        rows.append({"keypoint": name, "labelled": n, "mean_norm_error": float(err),
                     f"PCK@{pck_threshold:g}": float(pck[j]) if n else float("nan")})
    return pd.DataFrame(rows).set_index("keypoint")


def oks_ap(ann_file, predictions, sigmas) -> float:
    """COCO OKS AP of ``predictions`` (COCO keypoint results) on ``ann_file``: xtcocotools'
    COCOeval with its printout silenced."""
    import contextlib
    import io

    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        ev = COCOeval(gt, gt.loadRes(predictions), "keypoints", sigmas=np.asarray(sigmas), use_area=True)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])
