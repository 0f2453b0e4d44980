"""Box arithmetic used across the package (COCO [x, y, w, h] boxes)."""
import math

import numpy as np


def xywh_to_xyxy(boxes):
    """(N, 4) COCO [x, y, w, h] -> [x1, y1, x2, y2] (what MMPose's instances hold)."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def margin_box(bbox, margin, width, height):
    """Integer pixel bounds (x0, y0, x1, y1) of ``bbox`` grown by ``margin`` x its size on
    each side, clipped to a ``width`` x ``height`` image."""
    x, y, w, h = bbox
    return (max(0, int(math.floor(x - margin * w))), max(0, int(math.floor(y - margin * h))),
            min(width, int(math.ceil(x + w * (1 + margin)))), min(height, int(math.ceil(y + h * (1 + margin)))))
