"""The one drawing module: instances drawn by MMPose's PoseLocalVisualizer (the scheme's
keypoint and link colours), laid out on plain matplotlib Figures (no pyplot: no global
backend switch, so a JupyterLab kernel keeps its inline plots)."""
import itertools
import warnings
from pathlib import Path

import numpy as np

from catpose_lib.data.boxes import xywh_to_xyxy

_counter = itertools.count()


def pose_visualizer(meta):
    """A PoseLocalVisualizer for a dataset's metainfo.  Backend matplotlib: MMPose 1.3.2's opencv
    backend calls ``int(np.array([r]))`` when drawing keypoints, a TypeError with NumPy >= 2.4."""
    from mmpose.visualization import PoseLocalVisualizer

    vis = PoseLocalVisualizer(name=f"catpose_vis_{next(_counter)}", line_width=2, radius=3, backend="matplotlib")
    vis.set_dataset_meta(meta)
    return vis


def draw_instances(vis, rgb, keypoints=None, bboxes_xywh=None, as_gt=True, kpt_thr=0.3, name="image"):
    """``rgb`` with instances drawn: keypoints (N, K, 3: x, y, visibility or score), boxes."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample

    inst = InstanceData()
    if bboxes_xywh is not None and len(bboxes_xywh):
        inst.bboxes = xywh_to_xyxy(bboxes_xywh)
    if keypoints is not None and len(keypoints):
        kp = np.asarray(keypoints, dtype=np.float32).reshape(len(keypoints), -1, 3)
        inst.keypoints = kp[..., :2]
        if as_gt:
            inst.keypoints_visible = (kp[..., 2] > 0).astype(np.float32)
        else:  # MMPose 1.3.2's visualizer thresholds keypoints_visible (kpt_thr), not keypoint_scores
            inst.keypoint_scores = kp[..., 2]
            inst.keypoints_visible = kp[..., 2]
    sample = PoseDataSample()
    if as_gt:
        sample.gt_instances = inst
    else:
        sample.pred_instances = inst
    with warnings.catch_warnings():  # mmengine warns for every box touching the image border
        warnings.filterwarnings("ignore", message=".*out of bounds.*")
        return vis.add_datasample(name, rgb, sample, draw_gt=as_gt, draw_pred=not as_gt, draw_bbox=as_gt,
                                  kpt_thr=kpt_thr, show=False)


def load_rgb(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def crop_square(rgb, bboxes, margin=0.15, size=320):
    """The square around ``bboxes`` (COCO [x, y, w, h], their union) grown by ``margin`` x its
    side, padded with black where it leaves the image, resized to ``size`` x ``size`` px: every
    panel of a grid then shows its cat on the same extent."""
    from PIL import Image

    b = np.asarray(bboxes, dtype=float).reshape(-1, 4)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
    side = max(x1 - x0, y1 - y0, 1.0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    n = int(round(side))
    canvas = np.zeros((n, n, 3), dtype=np.uint8)
    h, w = rgb.shape[:2]
    sx0, sy0, sx1, sy1 = max(0, left), max(0, top), min(w, left + n), min(h, top + n)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = rgb[sy0:sy1, sx0:sx1]
    return np.asarray(Image.fromarray(canvas).resize((size, size), Image.BILINEAR))


def keypoint_sides(meta) -> dict:
    """{'left' / 'right' / 'centre': RGB colour (0-1)} of a scheme's keypoints as MMPose draws
    them: a keypoint its flip maps to itself is centre, else left or right by its name."""
    sides = {}
    for k in range(meta["num_keypoints"]):
        name = meta["keypoint_id2name"][k]
        side = "centre" if meta["flip_indices"][k] == k else (
            "left" if name.lower().startswith(("l_", "left")) else "right")
        sides.setdefault(side, tuple(float(c) / 255 for c in meta["keypoint_colors"][k]))
    return {s: sides[s] for s in ("left", "right", "centre") if s in sides}


def side_legend(fig, meta, note=""):
    """A figure legend of the keypoint colours: the cat's left, right and centre line."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="-", color=c, label=f"{side} keypoints / links")
               for side, c in keypoint_sides(meta).items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False,
               title=note or None, title_fontsize=7)


def figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def image_grid(n, cols, cell=(4.0, 3.3)):
    """A Figure with ``n`` cells on ``cols`` columns (axes off); returns (fig, flat axes)."""
    cols = max(1, min(cols, n or 1))
    rows = max(1, -(-n // cols))
    fig = figure(cell[0] * cols, cell[1] * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


def save(fig, out, dpi=100, tight=True):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    return out
