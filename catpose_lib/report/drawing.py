"""The one drawing module: instances drawn by MMPose's PoseLocalVisualizer (the scheme's
keypoint and link colours), laid out on plain matplotlib Figures (no pyplot: no global
backend switch, so a JupyterLab kernel keeps its inline plots)."""
import itertools
import warnings
from pathlib import Path

import numpy as np

from catpose_lib.data.boxes import margin_box, xywh_to_xyxy

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
        else:
            inst.keypoint_scores = kp[..., 2]
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


def crop(rgb, bbox, margin=0.25):
    x0, y0, x1, y1 = margin_box(bbox, margin, rgb.shape[1], rgb.shape[0])
    return rgb[y0:y1, x0:x1]


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


def save(fig, out, dpi=100):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    return out
