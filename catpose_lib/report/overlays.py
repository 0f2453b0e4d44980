"""Keypoint overlays: ground truth and several models' predictions side by side."""
import json
import tempfile
from pathlib import Path

from catpose_lib.report.drawing import crop, draw_instances, image_grid, load_rgb, pose_visualizer, save


def comparison_grid(meta, image_root, rows, columns, out):
    """A grid: one row per (image, [annotations]), one column per (title, records-by-ann-id or 'gt')."""
    vis = pose_visualizer(meta)
    fig, axes = image_grid(max(1, len(rows)) * len(columns), len(columns), cell=(3.2, 3.0))
    axes = axes.reshape(-1, len(columns))
    for r, (img, anns, row_title) in enumerate(rows):
        rgb = load_rgb(Path(image_root) / img["file_name"])
        for c, (title, preds) in enumerate(columns):
            boxes = [a["bbox"] for a in anns]
            if preds == "gt":
                drawn = draw_instances(vis, rgb, [a["keypoints"] for a in anns], boxes, as_gt=True)
            else:
                kps = [preds[a["id"]]["keypoints"] for a in anns if a["id"] in preds]
                drawn = draw_instances(vis, rgb, kps, boxes, as_gt=False) if kps else rgb
            if len(anns) == 1:
                drawn = crop(drawn, anns[0]["bbox"])
            axes[r, c].imshow(drawn)
            axes[r, c].set_title(f"{title}\n{row_title}" if row_title else title, fontsize=8)
    return save(fig, out)


def by_annotation(coco, records):
    """Predictions keyed by the GT annotation id whose box they were made on."""
    from catpose_lib.report.keypoint_eval import match_predictions

    return {ann["id"]: rec for ann, rec in match_predictions(coco, records)}


def run_overlays(runs, val_file, out, n=4, device="cpu"):
    """Ground truth | each run's predictions (its best checkpoint) on the first ``n`` val images
    with cats; ``runs``: (title, result) pairs.  None when a run's checkpoint is not on disk
    (results copied without their run folders)."""
    from catpose_lib.runs.predict import build_model, predict_boxes
    from catpose_lib.schemes import load_scheme

    if any(not r.get("checkpoint") or not Path(r["checkpoint"]).is_file() for _, r in runs):
        return None
    val_file = Path(val_file)
    val = json.loads(val_file.read_text())
    anns_by_image = {}
    for a in val["annotations"]:
        anns_by_image.setdefault(a["image_id"], []).append(a)
    images = [im for im in val["images"] if im["id"] in anns_by_image][:n]
    subset = dict(val, images=images, annotations=[a for im in images for a in anns_by_image[im["id"]]])
    image_root = val_file.parent.parent / "images"
    with tempfile.TemporaryDirectory() as tmp:  # predict only the images shown
        subset_file = Path(tmp) / "overlay_images.json"
        subset_file.write_text(json.dumps(subset))
        columns = [("ground truth", "gt")] + [
            (title, by_annotation(subset, predict_boxes(build_model(r, device=device), subset_file, image_root)))
            for title, r in runs]
    meta = load_scheme(runs[0][1]["scheme"])
    return comparison_grid(meta, image_root, [(im, anns_by_image[im["id"]], im["file_name"]) for im in images],
                           columns, out)
