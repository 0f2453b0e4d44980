"""Keypoint overlays: ground truth and several models' predictions side by side, every panel
the same square extent around its cats, with the scheme's left / right / centre colour key."""
import json
import tempfile
from pathlib import Path

import numpy as np

from catpose_lib.report.drawing import (
    crop_square,
    draw_instances,
    hide_off_image,
    image_grid,
    load_rgb,
    pose_visualizer,
    save,
    side_legend,
)
from catpose_lib.data.layout import by_image
from catpose_lib.report.keypoint_eval import by_annotation
from catpose_lib.schemes import load_scheme


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
                kps = [hide_off_image(np.reshape(preds[a["id"]]["keypoints"], (-1, 3)), rgb.shape)
                       for a in anns if a["id"] in preds]
                drawn = draw_instances(vis, rgb, kps, boxes, as_gt=False, kpt_thr=kpt_thr) if kps else rgb
            axes[r, c].imshow(crop_square(drawn, boxes))
            axes[r, c].set_title(f"{col_title}\n{row_title}" if row_title else col_title, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    side_legend(fig, meta, "ground truth: labelled keypoints and the box; predictions: "
                           + (f"keypoints scored {kpt_thr:g} or more" if kpt_thr > 0 else "every keypoint, whatever its score"))
    fig.tight_layout(rect=(0, 0.06, 1, 0.97 if title else 1))
    return save(fig, out, tight_layout=False)


def run_overlays(runs, val_file, out, n=4, device="cpu"):
    """Ground truth | each run's predictions (its best checkpoint) on the first ``n`` val images
    with cats; ``runs``: (title, result) pairs.  None when a run's checkpoint is not on disk
    (results copied without their run folders)."""
    from catpose_lib.runs.predict import build_model, predict_boxes  # lazy: torch/mmengine (CLI speed)

    if any(not r.get("checkpoint") or not Path(r["checkpoint"]).is_file() for _, r in runs):
        return None
    val_file = Path(val_file)
    val = json.loads(val_file.read_text())
    anns_by_image = by_image(val["annotations"])
    images = [im for im in val["images"] if im["id"] in anns_by_image][:n]
    subset = dict(val, images=images, annotations=[a for im in images for a in anns_by_image[im["id"]]])
    image_root = val_file.parent.parent / "images"
    with tempfile.TemporaryDirectory() as tmp:  # predict only the images shown
        subset_file = Path(tmp) / "overlay_images.json"
        subset_file.write_text(json.dumps(subset))
        columns = [("ground truth", "gt")] + [
            (title, by_annotation(subset, predict_boxes(build_model(r, device=device), subset_file, image_root)))
            for title, r in runs]
    return comparison_grid(load_scheme(runs[0][1]["scheme"]), image_root,
                           [(im, anns_by_image[im["id"]], im["file_name"]) for im in images], columns, out)
