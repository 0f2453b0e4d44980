"""Keypoint overlays: ground truth and several models' predictions side by side."""
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
