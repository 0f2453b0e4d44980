"""Keypoint overlays: ground truth and several models' predictions side by side, every panel
the same square extent around its cats, with the scheme's left / right / centre colour key."""
from pathlib import Path

import numpy as np

from catpose_lib.report.drawing import (
    crop_square,
    draw_instances,
    image_grid,
    load_rgb,
    pose_visualizer,
    save,
    side_legend,
)


def inside(keypoints, shape):
    """Predicted keypoints with those outside the image scored -1 (never drawn): drawn, they would
    stretch the visualizer's canvas beyond the image."""
    kp = np.asarray(keypoints, dtype=float).reshape(-1, 3).copy()
    out = (kp[:, 0] < 0) | (kp[:, 1] < 0) | (kp[:, 0] >= shape[1]) | (kp[:, 1] >= shape[0])
    kp[out, 2] = -1.0  # below any threshold
    return kp.reshape(-1).tolist()


def comparison_grid(meta, image_root, rows, columns, out, title=None, kpt_thr=0.3):
    """A grid: one row per (image, [annotations], row title), one column per (title,
    records-by-ann-id or 'gt'); each panel the square around the row's boxes, 320 px;
    predicted keypoints drawn where their score is at least ``kpt_thr``."""
    vis = pose_visualizer(meta)
    fig, axes = image_grid(max(1, len(rows)) * len(columns), len(columns), cell=(3.0, 3.25))
    axes = axes.reshape(-1, len(columns))
    for r, (img, anns, row_title) in enumerate(rows):
        rgb = load_rgb(Path(image_root) / img["file_name"])
        boxes = [a["bbox"] for a in anns]
        for c, (col_title, preds) in enumerate(columns):
            if preds == "gt":
                drawn = draw_instances(vis, rgb, [a["keypoints"] for a in anns], boxes, as_gt=True)
            else:
                kps = [inside(preds[a["id"]]["keypoints"], rgb.shape) for a in anns if a["id"] in preds]
                drawn = draw_instances(vis, rgb, kps, boxes, as_gt=False, kpt_thr=kpt_thr) if kps else rgb
            axes[r, c].imshow(crop_square(drawn, boxes))
            axes[r, c].set_title(f"{col_title}\n{row_title}" if row_title else col_title, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    side_legend(fig, meta, "ground truth: labelled keypoints and the box; predictions: "
                           + (f"keypoints scored {kpt_thr:g} or more" if kpt_thr > 0 else "every keypoint, whatever its score"))
    fig.tight_layout(rect=(0, 0.06, 1, 0.97 if title else 1))
    return save(fig, out, tight_layout=False)
