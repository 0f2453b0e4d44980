"""A compact copy of a dataset: one image per instance, cropped with a margin around its box,
downscaled and re-encoded, with boxes and keypoints moved along.

For moving a dataset where size matters (a remote machine, a size-limited upload): the
top-down model only ever sees the box plus padding, so the crops keep what training and
GT-box evaluation use.
"""
import json
from pathlib import Path

from catpose_lib.data.boxes import margin_box
from catpose_lib.data.layout import ANNOTATION_FILES, atomic_write_json, staged_output_dir
from catpose_lib.errors import DataError


def _crop_instance(img, ann, margin, max_side):
    import cv2
    import numpy as np

    x, y, bw, bh = ann["bbox"]
    x0, y0, x1, y1 = margin_box(ann["bbox"], margin, img.shape[1], img.shape[0])
    crop = img[y0:y1, x0:x1]
    scale = min(1.0, max_side / max(crop.shape[:2]))
    if scale < 1.0:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    new = dict(ann)
    new["bbox"] = [round((x - x0) * scale, 2), round((y - y0) * scale, 2), round(bw * scale, 2), round(bh * scale, 2)]
    new["area"] = round(float(ann.get("area", bw * bh)) * scale * scale, 2)
    if "keypoints" in ann:
        kp = np.asarray(ann["keypoints"], dtype=float).reshape(-1, 3)
        labelled = kp[:, 2] > 0
        kp[labelled, 0] = (kp[labelled, 0] - x0) * scale
        kp[labelled, 1] = (kp[labelled, 1] - y0) * scale
        new["keypoints"] = [round(float(v), 2) if i % 3 != 2 else int(v) for i, v in enumerate(kp.reshape(-1))]
    return crop, new


def compact_dataset(src, out, margin=0.25, max_side=256, quality=85) -> dict:
    """Write ``out`` in the course layout with one cropped image per instance."""
    import cv2

    src = Path(src)
    summary = {}
    with staged_output_dir(out) as stage:
        (stage / "images").mkdir()
        for split, rel in ANNOTATION_FILES.items():
            path = src / rel
            if not path.exists():
                continue
            coco = json.loads(path.read_text())
            images = {im["id"]: im for im in coco["images"]}
            new_images, new_anns, cache = [], [], {}
            for i, ann in enumerate(coco["annotations"]):
                im = images.get(ann["image_id"])
                if im is None:
                    raise DataError("annotation points at an unknown image", file=path, record=f"annotations[{i}]")
                if im["id"] not in cache:
                    cache.clear()
                    cache[im["id"]] = cv2.imread(str(src / "images" / im["file_name"]))
                    if cache[im["id"]] is None:
                        raise DataError("unreadable image", file=src / "images" / im["file_name"], record=f"image id={im['id']}")
                crop, new_ann = _crop_instance(cache[im["id"]], ann, margin, max_side)
                name = f"{split}_{ann['id']:07d}.jpg"
                cv2.imwrite(str(stage / "images" / name), crop, [cv2.IMWRITE_JPEG_QUALITY, quality])
                new_id = len(new_images) + 1 + 10_000_000 * list(ANNOTATION_FILES).index(split)
                new_images.append(dict(id=new_id, file_name=name, width=crop.shape[1], height=crop.shape[0],
                                       source_image_id=im["id"]))
                new_ann["image_id"] = new_id
                new_anns.append(new_ann)
            atomic_write_json(stage / rel, dict(coco, images=new_images, annotations=new_anns))
            summary[split] = len(new_anns)
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return dict(out=str(out), instances=summary, megabytes=round(size / 2**20, 1))
