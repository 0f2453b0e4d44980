"""Box arithmetic used across the package (COCO [x, y, w, h] boxes)."""
import math

import numpy as np

from catpose_lib.data.validate import load_json
from catpose_lib.errors import DataError


def xywh_to_xyxy(boxes):
    """(N, 4) COCO [x, y, w, h] -> [x1, y1, x2, y2] (what MMPose's instances hold)."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def load_boxes(path) -> dict:
    """The cat boxes of a ``--boxes`` file: a COCO file with ``images`` + ``annotations`` (such
    as a test set's ``annotations/test_info.json``) or a COCO detections list (``image_id``,
    ``bbox``, optional ``score`` / ``category_id`` / ``file_name``).  Returns
    ``dict(images=[...] or None, boxes=[...], categories=[...])``; every box is checked (4
    numbers, positive width and height) with a one-line error naming the file and record."""
    data = load_json(path)
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        images, boxes, where = data.get("images"), data["annotations"], "annotations"
        if not isinstance(images, list):
            raise DataError("a COCO file needs an 'images' list beside its 'annotations'", file=path)
        for i, im in enumerate(images):
            if not isinstance(im, dict) or "id" not in im or not isinstance(im.get("file_name"), str):
                raise DataError("an image needs an 'id' and a 'file_name'", file=path, record=f"images[{i}]")
    elif isinstance(data, list):
        images, boxes, where = None, data, ""
    else:
        raise DataError("neither a COCO detections list nor a COCO file with 'images' and 'annotations'", file=path)
    for i, box in enumerate(boxes):
        record = f"{where}[{i}]"
        bbox = box.get("bbox") if isinstance(box, dict) else None
        if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4
                and all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)):
            raise DataError(f"bbox must be [x, y, width, height] (4 numbers), got {bbox!r}", file=path, record=record)
        if bbox[2] <= 0 or bbox[3] <= 0:
            raise DataError(f"bbox {list(bbox)} has no area (width and height must be > 0)", file=path, record=record)
        if images is None and "image_id" not in box and not isinstance(box.get("file_name"), str):
            raise DataError("a detection needs an 'image_id' (or a 'file_name')", file=path, record=record)
    categories = data.get("categories") if isinstance(data, dict) else None
    return dict(images=images, boxes=boxes, categories=categories or [])
