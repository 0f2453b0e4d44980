"""Keypoint overlays drawn with MMPose's PoseLocalVisualizer, laid out with matplotlib."""
import itertools
from pathlib import Path

import numpy as np

_counter = itertools.count()


def _visualizer(meta):
    from mmpose.visualization import PoseLocalVisualizer

    # backend matplotlib: the opencv backend of mmpose 1.3.2 breaks on numpy 2 (int() of a 1-d array)
    vis = PoseLocalVisualizer(name=f"catpose_overlay_{next(_counter)}", line_width=2, radius=3,
                              backend="matplotlib")
    vis.set_dataset_meta(meta)
    return vis


def draw(meta, rgb, keypoints, bboxes_xywh=None, as_gt=False, kpt_thr=0.3):
    """``rgb`` with instances (N, K, 3: x, y, v-or-score) drawn; returns an RGB array."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample

    kp = np.asarray(keypoints, dtype=np.float32).reshape(len(keypoints), -1, 3)
    inst = InstanceData()
    inst.keypoints = kp[..., :2]
    if bboxes_xywh is not None and len(bboxes_xywh):
        b = np.asarray(bboxes_xywh, dtype=np.float32)
        inst.bboxes = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    sample = PoseDataSample()
    if as_gt:
        inst.keypoints_visible = (kp[..., 2] > 0).astype(np.float32)
        sample.gt_instances = inst
    else:
        inst.keypoint_scores = kp[..., 2]
        sample.pred_instances = inst
    return _visualizer(meta).add_datasample(
        "overlay", rgb, sample, draw_gt=as_gt, draw_pred=not as_gt, draw_bbox=as_gt,
        kpt_thr=kpt_thr, show=False)


def load_rgb(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def crop(rgb, bbox, margin=0.25):
    x, y, w, h = bbox
    x0, y0 = int(max(0, x - margin * w)), int(max(0, y - margin * h))
    x1, y1 = int(min(rgb.shape[1], x + w * (1 + margin))), int(min(rgb.shape[0], y + h * (1 + margin)))
    return rgb[y0:y1, x0:x1]


def comparison_grid(meta, image_root, rows, columns, out):
    """A grid: one row per (image, [annotations]), one column per (title, records-by-ann-id or 'gt')."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(columns), 3.0 * max(1, len(rows))))
    axes = fig.subplots(max(1, len(rows)), len(columns), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r, (img, anns, row_title) in enumerate(rows):
        rgb = load_rgb(Path(image_root) / img["file_name"])
        for c, (title, preds) in enumerate(columns):
            if preds == "gt":
                drawn = draw(meta, rgb, [a["keypoints"] for a in anns], [a["bbox"] for a in anns], as_gt=True)
            else:
                kps = [preds[a["id"]]["keypoints"] for a in anns if a["id"] in preds]
                drawn = draw(meta, rgb, kps, [a["bbox"] for a in anns]) if kps else rgb
            if len(anns) == 1:
                drawn = crop(drawn, anns[0]["bbox"])
            axes[r, c].imshow(drawn)
            axes[r, c].set_title(f"{title}\n{row_title}" if row_title else title, fontsize=8)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return out
