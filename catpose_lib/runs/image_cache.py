"""A decoded-image cache for small datasets (the course set is ~1,300 images).

``CachedLoadImage`` is MMPose's ``LoadImage`` that keeps each decoded image in a per-process
dict, so a persistent dataloader worker decodes every file once and reuses it across
epochs.  It is used instead of ``LoadImage`` when the dataset's decoded size fits the
budget (:data:`DEFAULT_BUDGET_MB` per process, i.e. per worker).
"""
import json
from pathlib import Path

from mmpose.datasets.transforms import LoadImage
from mmpose.registry import TRANSFORMS

from catpose_lib.data.layout import ANNOTATION_FILES

DEFAULT_BUDGET_MB = 2048
_CACHE = {}
_CACHE_BYTES = [0]


@TRANSFORMS.register_module(force=True)
class CachedLoadImage(LoadImage):
    """``LoadImage`` with a per-process cache of decoded images, bounded by ``budget_mb``."""

    def __init__(self, budget_mb: float = DEFAULT_BUDGET_MB, **kwargs):
        super().__init__(**kwargs)
        self.budget_bytes = int(budget_mb * 2**20)

    def transform(self, results):
        path = results.get("img_path")
        if "img" in results or path is None:
            return super().transform(results)
        key = (path, self.to_float32, self.color_type, self.imdecode_backend)
        img = _CACHE.get(key)
        if img is None:
            results = super().transform(results)
            img = results["img"]
            if _CACHE_BYTES[0] + img.nbytes <= self.budget_bytes:
                _CACHE[key] = img.copy()
                _CACHE_BYTES[0] += img.nbytes
            return results
        results["img"] = img.copy()  # transforms write into it: never hand out the cached array
        results["img_shape"] = img.shape[:2]
        results["ori_shape"] = img.shape[:2]
        return results


def clear_cache():
    _CACHE.clear()
    _CACHE_BYTES[0] = 0


def decoded_size_mb(data_root, ann_files=(ANNOTATION_FILES["train"], ANNOTATION_FILES["val"])) -> float:
    """Decoded (uint8 BGR) size of the images referenced by the annotation files."""
    total, seen = 0, set()
    for ann in ann_files:
        path = Path(data_root) / ann
        if not path.exists():
            continue
        for img in json.loads(path.read_text())["images"]:
            if img["file_name"] not in seen:
                seen.add(img["file_name"])
                total += int(img["width"]) * int(img["height"]) * 3
    return total / 2**20


def use_image_cache(cfg, data_root, cache="auto", budget_mb=DEFAULT_BUDGET_MB) -> bool:
    """Swap LoadImage for CachedLoadImage in the train and val pipelines when enabled
    (``cache`` True) or when the data fits the budget (``'auto'``)."""
    enabled = cache is True or (cache == "auto" and decoded_size_mb(data_root) <= budget_mb)
    if enabled:
        for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
            if not loader:
                continue
            for t in loader.dataset.pipeline:
                if t["type"] == "LoadImage":
                    t["type"] = "CachedLoadImage"
                    t["budget_mb"] = budget_mb
    return enabled
