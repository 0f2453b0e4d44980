"""Describe a course-layout dataset: split sizes, instances per image, box sizes, labelled keypoints.

``dataset_stats(root)`` returns pandas DataFrames (``python -m catpose_lib stats ROOT`` prints
them); ``plot_samples(root)`` draws sample images with their skeletons using MMPose's
``PoseLocalVisualizer`` and the scheme's metainfo.  Reading only; run ``check`` first for
validation (this module assumes well-formed files and raises DataError only for
missing / malformed JSON).
"""
from pathlib import Path

from catpose_lib.data.layout import annotation_path, by_image, dataset_splits
from catpose_lib.data.validate import load_coco
from catpose_lib.report.drawing import draw_instances, image_grid, load_rgb, pose_visualizer, save
from catpose_lib.schemes import SCHEME_BY_COUNT, keypoint_count, keypoint_names, load_scheme

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _keypoint_names(data, k):
    """Names from the file's category (when its length fits), else the scheme's, else kp<i>."""
    for cat in data.get("categories") or []:
        names = cat.get("keypoints")
        if isinstance(names, list) and len(names) == k:
            return [str(n) for n in names]
    if k in SCHEME_BY_COUNT:
        try:
            return keypoint_names(SCHEME_BY_COUNT[k])
        except ImportError:
            pass
    return [f"kp{i}" for i in range(k)]


def dataset_stats(root) -> dict:
    """DataFrames describing the dataset at ``root``:

    * ``splits``: per split (rows train, val[, test]) ``images``, ``instances``,
      ``images_without_instances``, ``labelled_keypoints`` (v > 0) and
      ``labelled_per_instance`` (mean; NaN for test, which has no keypoints);
    * ``instances_per_image``: rows = instances in an image (0, 1, 2, ...), columns = splits,
      values = number of images;
    * ``box_size``: rows (split, measure) with measure width / height / sqrt_area (of the
      ``[x, y, w, h]`` box), columns count, mean, min, q05, q25, q50, q75, q95, max (pixels);
    * ``keypoint_labelled``: rows = keypoint names (scheme order), columns = splits with
      keypoints (train, val), values = fraction of that split's instances with the keypoint
      labelled;
    * ``keypoint_labelled_count``: the same as counts.
    """
    import numpy as np
    import pandas as pd

    splits = {split: load_coco(annotation_path(root, split)) for split in dataset_splits(root)}
    k = keypoint_count(splits["train"]) or 0
    names = _keypoint_names(splits["train"], k)

    rows, ipi, boxes, rates, counts = {}, {}, [], {}, {}
    for split, data in splits.items():
        anns = data["annotations"]
        per_img = {img["id"]: 0 for img in data["images"]}
        for ann in anns:
            per_img[ann["image_id"]] = per_img.get(ann["image_id"], 0) + 1
        has_kpts = bool(anns) and all("keypoints" in a for a in anns)
        labelled = np.zeros(k, dtype=np.int64)
        if has_kpts:
            for ann in anns:
                v = np.asarray(ann["keypoints"], dtype=float).reshape(-1, 3)[:, 2]
                labelled += (v[:k] > 0)
            counts[split] = labelled
            rates[split] = labelled / len(anns)
        rows[split] = {
            "images": len(data["images"]),
            "instances": len(anns),
            "images_without_instances": sum(1 for c in per_img.values() if c == 0),
            "labelled_keypoints": int(labelled.sum()) if has_kpts else 0,
            "labelled_per_instance": float(labelled.sum()) / len(anns) if has_kpts else float("nan"),
        }
        ipi[split] = pd.Series(list(per_img.values()), dtype="int64").value_counts()
        if anns:
            wh = np.array([a["bbox"][2:4] for a in anns], dtype=float)
            for measure, values in (("width", wh[:, 0]), ("height", wh[:, 1]),
                                    ("sqrt_area", np.sqrt(wh[:, 0] * wh[:, 1]))):
                q = np.quantile(values, QUANTILES)
                boxes.append({"split": split, "measure": measure, "count": len(values),
                              "mean": values.mean(), "min": values.min(),
                              **{f"q{int(round(p * 100)):02d}": v for p, v in zip(QUANTILES, q)},
                              "max": values.max()})

    keypoints = pd.Index(names, name="keypoint")
    ipi_df = pd.DataFrame(ipi).fillna(0).astype("int64").sort_index().rename_axis("instances_per_image")
    return {"splits": pd.DataFrame.from_dict(rows, orient="index").rename_axis("split"), "instances_per_image": ipi_df,
            "box_size": pd.DataFrame(boxes).set_index(["split", "measure"]) if boxes else pd.DataFrame(),
            "keypoint_labelled": pd.DataFrame(rates, index=keypoints),
            "keypoint_labelled_count": pd.DataFrame(counts, index=keypoints)}


def format_stats(tables) -> str:
    """The tables as printable text."""
    import pandas as pd

    titles = {"splits": "Images and instances per split",
              "instances_per_image": "Images by number of instances",
              "box_size": "Box size (pixels)",
              "keypoint_labelled": "Fraction of instances with the keypoint labelled"}
    parts = []
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.max_rows", 200):
        for key, title in titles.items():
            df = tables[key]
            fmt = "{:.3f}".format if key == "keypoint_labelled" else "{:.1f}".format
            parts.append(f"== {title} ==\n{df.to_string(float_format=fmt)}")
    return "\n\n".join(parts)


def _dataset_meta(data, k):
    """MMPose metainfo for drawing: the scheme's when the keypoint count names one."""
    if k in SCHEME_BY_COUNT:
        return load_scheme(SCHEME_BY_COUNT[k])
    first = (data.get("categories") or [{}])[0]
    return {"num_keypoints": k, "skeleton_links": [(a - 1, b - 1) for a, b in first.get("skeleton") or []]}


def plot_samples(root, split="train", n=8, seed=0, out=None, *, cols=4):
    """Draw ``n`` random images of ``split`` (seeded) with boxes and skeletons; a matplotlib Figure.

    Drawing is MMPose's ``PoseLocalVisualizer`` with the scheme's metainfo (report.drawing);
    matplotlib only lays the drawn images out in a grid.  Saves a PNG to ``out`` when given.
    Unlabelled keypoints (v = 0) are not drawn.
    """
    import random

    root = Path(root)
    data = load_coco(annotation_path(root, split))
    k = keypoint_count(data) or 0
    images = sorted(data["images"], key=lambda im: im["id"])
    chosen = random.Random(seed).sample(images, min(n, len(images))) if images else []
    by_img = by_image(data["annotations"])
    vis = pose_visualizer(_dataset_meta(data, k))
    fig, axes = image_grid(len(chosen), cols)
    for ax, img in zip(axes.flat, chosen):
        anns = by_img.get(img["id"], [])
        kps = [a["keypoints"] for a in anns] if anns and all("keypoints" in a for a in anns) else None
        drawn = draw_instances(vis, load_rgb(root / "images" / img["file_name"]), kps,
                               [a["bbox"] for a in anns], as_gt=True, name=img["file_name"])
        ax.imshow(drawn)
        ax.set_title(f"{img['file_name']} ({len(anns)} inst.)", fontsize=8)
    fig.suptitle(f"{root.name}: {split}, {len(chosen)} of {len(images)} images", fontsize=10)
    if out is not None:
        save(fig, out)
    return fig
