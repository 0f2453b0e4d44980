"""Shared test helper: write a tiny, valid COCO keypoint dataset in the course layout.

    ROOT/images/<split>_<i>.jpg           random-noise JPEGs
    ROOT/annotations/train.json val.json  COCO keypoint JSON
    ROOT/annotations/test_info.json       images + boxes, no keypoints (when n_test > 0)

Everything is deterministic, so tests can state exact expected numbers:

* image ``i`` of a split (0-based, in order) holds ``instances[i]`` instances, where
  ``instances`` is ``instances_per_image`` when it is a list (one entry per image, cycled),
  or that int for every image;
* keypoint ``k`` of an instance is labelled (v=2) unless ``(j + k) % unlabelled_every == 0``,
  where ``j`` is the instance's 0-based index within its split file (0 disables this:
  every keypoint labelled);
* image ids and annotation ids are unique across the whole dataset (train first, then
  val, then test);
* boxes are ``[x, y, w, h]`` inside the image, keypoints inside their box.

Usage::

    from tiny_coco import write_tiny_coco
    info = write_tiny_coco(tmp_path / "data", n_train=4, n_val=2, num_keypoints=17)
    info["root"], info["counts"]["train"]  # -> Path, {"images": 4, "instances": 4}
"""
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image


def labelled(j: int, k: int, unlabelled_every: int) -> bool:
    """Whether keypoint ``k`` of the ``j``-th instance of a split is labelled (the helper's rule)."""
    return not (unlabelled_every and (j + k) % unlabelled_every == 0)


def write_tiny_coco(root, n_train=4, n_val=2, n_test=0, num_keypoints=17, *,
                    instances_per_image=1, image_size=(64, 48), keypoint_names=None,
                    unlabelled_every=4, category_id=1, category_name="cat", seed=0,
                    n_images=None) -> dict:
    """Write the dataset under ``root`` (created; must not hold files of the same names).

    ``n_images`` (optional) is a shortcut: that many images split as train = n - n // 3,
    val = n // 3 (at least 1 each).  ``image_size`` is ``(width, height)``.
    ``keypoint_names`` defaults to ``kp0 .. kp{K-1}``.

    Returns ``{"root", "num_keypoints", "files": {split: path}, "counts": {split:
    {"images", "instances"}}, "data": {split: the COCO dict written}}``.
    """
    if n_images is not None:
        n_val = max(1, n_images // 3)
        n_train = max(1, n_images - n_val)
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    w_img, h_img = image_size
    names = list(keypoint_names) if keypoint_names else [f"kp{k}" for k in range(num_keypoints)]
    if len(names) != num_keypoints:
        raise ValueError("keypoint_names must have num_keypoints entries")
    category = {"id": category_id, "name": category_name, "supercategory": "animal",
                "keypoints": names,
                "skeleton": [[k + 1, k + 2] for k in range(num_keypoints - 1)]}  # 1-based, COCO style
    per_image = (list(instances_per_image) if isinstance(instances_per_image, (list, tuple))
                 else [int(instances_per_image)])

    next_img, next_ann = 1, 1
    files, counts, datas = {}, {}, {}
    for split, n in (("train", n_train), ("val", n_val), ("test", n_test)):
        if split == "test" and n <= 0:
            continue
        images, anns = [], []
        j = 0  # instance index within this split
        for i in range(n):
            fname = f"{split}_{i:03d}.jpg"
            pixels = rng.integers(0, 256, size=(h_img, w_img, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "images" / fname, quality=90)
            img_id = next_img
            next_img += 1
            images.append({"id": img_id, "file_name": fname, "width": w_img, "height": h_img})
            for _ in range(per_image[i % len(per_image)]):
                bw = prng.randint(max(2, w_img // 4), w_img // 2)
                bh = prng.randint(max(2, h_img // 4), h_img // 2)
                bx = prng.randint(0, w_img - bw)
                by = prng.randint(0, h_img - bh)
                kpts = []
                nk = 0
                for k in range(num_keypoints):
                    if labelled(j, k, unlabelled_every if split != "test" else 0):
                        kpts += [round(bx + prng.random() * bw, 2), round(by + prng.random() * bh, 2), 2]
                        nk += 1
                    else:
                        kpts += [0, 0, 0]
                ann = {"id": next_ann, "image_id": img_id, "category_id": category_id,
                       "bbox": [bx, by, bw, bh], "area": bw * bh, "iscrowd": 0}
                if split != "test":
                    ann["keypoints"] = kpts
                    ann["num_keypoints"] = nk
                anns.append(ann)
                next_ann += 1
                j += 1
        data = {"info": {"description": "tiny_coco test data"}, "images": images,
                "annotations": anns, "categories": [category]}
        path = root / "annotations" / ("test_info.json" if split == "test" else f"{split}.json")
        path.write_text(json.dumps(data), encoding="utf-8")
        files[split], counts[split], datas[split] = path, {"images": n, "instances": j}, data
    return {"root": root, "num_keypoints": num_keypoints, "files": files, "counts": counts,
            "data": datas}
