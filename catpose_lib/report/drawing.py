"""The one drawing module: instances drawn by MMPose's PoseLocalVisualizer (the scheme's
keypoint and link colours), laid out on plain matplotlib Figures (no pyplot: no global
backend switch, so a JupyterLab kernel keeps its inline plots)."""
import itertools
import warnings
from collections import Counter
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


def draw_instances(vis, rgb, keypoints=None, bboxes_xywh=None, as_gt=True, kpt_thr=0.3, name="image",
                   draw_bbox=None):
    """``rgb`` with instances drawn: keypoints (N, K, 3: x, y, visibility or score), boxes
    (drawn for ground truth unless ``draw_bbox`` says otherwise)."""
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
        else:  # MMPose's visualizer compares keypoints_visible (not the scores) with kpt_thr
            inst.keypoint_scores = kp[..., 2]
            inst.keypoints_visible = kp[..., 2]
    sample = PoseDataSample()
    if as_gt:
        sample.gt_instances = inst
    else:
        sample.pred_instances = inst
    with warnings.catch_warnings():  # mmengine warns for every box touching the image border
        warnings.filterwarnings("ignore", message=".*out of bounds.*")
        return vis.add_datasample(name, rgb, sample, draw_gt=as_gt, draw_pred=not as_gt,
                                  draw_bbox=as_gt if draw_bbox is None else draw_bbox,
                                  kpt_thr=kpt_thr, show=False)


SIDES = ("left", "right", "centre")


def keypoint_side(name: str, swap: str) -> str:
    """left / right / centre of a keypoint, from the scheme's name and flip partner."""
    if not swap:
        return "centre"
    low = name.lower()
    return "left" if low.startswith(("l_", "left")) else "right" if low.startswith(("r_", "right")) else "centre"


def side_colours(meta) -> dict:
    """side -> the RGB colour (0-1) that a scheme's parsed metainfo gives that side's keypoints
    (its most common one), for the sides the scheme has: the key of an overlay."""
    names, partners = meta["keypoint_id2name"], meta["flip_indices"]
    colours = {side: Counter() for side in SIDES}
    for k in range(meta["num_keypoints"]):
        side = keypoint_side(names[k], "" if partners[k] == k else names[partners[k]])
        colours[side][tuple(int(c) for c in meta["keypoint_colors"][k])] += 1
    return {side: tuple(c / 255 for c in count.most_common(1)[0][0]) for side, count in colours.items() if count}


def side_handles(meta, label="{side}", **style):
    """Legend lines, one per side (left / right / centre) in the scheme's colour (side_colours)."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=colour, marker="o", label=label.format(side=side), **style)
            for side, colour in side_colours(meta).items()]


def add_side_legend(ax, meta, **kwargs):
    """A key under ``ax``: one line per side (left / right / centre) in the scheme's colour."""
    handles = side_handles(meta, lw=3)
    options = dict(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles), fontsize=9, frameon=False,
                   title="skeleton", title_fontsize=9)
    options.update(kwargs)
    return ax.legend(handles=handles, **options)


def pose_overlay(meta, rgb, keypoints, bboxes_xywh=None, title="", kpt_thr=0.3, max_side=1024):
    """A Figure: ``rgb`` with predicted keypoints (N, K, 3: x, y, score; those above
    ``kpt_thr`` and on the photo) drawn by MMPose's visualizer in the scheme's left / right /
    centre colours, and their key.  Photos larger than ``max_side`` are drawn scaled down."""
    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    kps = np.asarray(keypoints, dtype=np.float32).reshape(len(keypoints), -1, 3) if len(keypoints) else None
    boxes = np.asarray(bboxes_xywh, dtype=np.float32).reshape(-1, 4) if bboxes_xywh is not None else None
    if scale < 1.0:
        from PIL import Image

        rgb = np.asarray(Image.fromarray(rgb).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                     Image.BILINEAR))
        if kps is not None:
            kps = kps * np.array([scale, scale, 1.0], dtype=np.float32)
        boxes = boxes * scale if boxes is not None else None
    if kps is not None:
        kps = hide_off_image(kps, rgb.shape)
    drawn = draw_instances(pose_visualizer(meta), rgb, kps, boxes, as_gt=False, kpt_thr=kpt_thr,
                           draw_bbox=boxes is not None) if kps is not None else rgb
    h, w = drawn.shape[:2]
    image_w, image_h = (6.0, 6.0 * h / w) if w >= h else (6.0 * w / h, 6.0)
    fig_w, fig_h = max(image_w, 4.0), image_h + 0.9  # room for the title above and the key below
    fig = figure(fig_w, fig_h)
    ax = fig.add_axes([0.0, 0.6 / fig_h, 1.0, image_h / fig_h])
    ax.imshow(drawn)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    add_side_legend(ax, meta)
    return fig


def hide_off_image(keypoints, shape):
    """A copy of ``keypoints`` (..., 3) with those off an image of ``shape`` scored -1, under any
    threshold: drawn, matplotlib would widen the canvas to them (MMPose's visualizer skips only
    links off the image)."""
    kp = np.array(keypoints, dtype=float)
    off = (kp[..., 0] < 0) | (kp[..., 1] < 0) | (kp[..., 0] >= shape[1]) | (kp[..., 1] >= shape[0])
    kp[..., 2][off] = -1.0
    return kp


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


def side_legend(fig, meta, note=""):
    """A figure-wide key of the keypoint colours (left, right, centre: side_colours)."""
    handles = side_handles(meta, "{side} keypoints / links", ls="-")
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


def save(fig, out, dpi=100, tight_layout=True):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if tight_layout:  # not for a figure that places its own axes (pose_overlay)
        fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    return out
