"""scripts/gpu_check.sh --dry runs the GPU check's steps on the CPU at a tiny size; the
compact (cropped) dataset it carries keeps boxes and keypoints on the same pixels."""
import json
import os
import subprocess

import numpy as np

from tests.conftest import REPO


def test_gpu_check_dry(tmp_path):
    out = tmp_path / "gpu"
    env = dict(os.environ, OUT=str(out), CATPOSE_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run(["bash", "scripts/gpu_check.sh", "--dry"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["dry"] is True and report["device"] == "cpu"
    rows = {r["what"].split(" ")[0]: r for r in report["rows"]}
    assert rows["baseline"]["status"] == "finished" and 0 <= rows["baseline"]["AP"] <= 1
    assert rows["baseline"]["s_per_epoch"] > 0
    assert rows["HRNet-W32"]["status"] == "finished" and rows["HRNet-W32"]["extrapolated_210_epochs_min"] > 0
    amp = [r for r in report["rows"] if "ratio" in r]
    assert len(amp) == 1 and amp[0]["ratio"] > 0
    assert "baseline ResNet-50" in proc.stdout  # the printed table


def test_compact_crops_keep_keypoints_on_their_pixels(tiny_cats, tmp_path):
    import cv2

    from catpose_lib.data.compact import compact_dataset
    from catpose_lib.data.validate import check_dataset

    s = compact_dataset(tiny_cats, tmp_path / "compact", max_side=64, quality=95)
    src = json.loads((tiny_cats / "annotations" / "val.json").read_text())
    dst = json.loads((tmp_path / "compact" / "annotations" / "val.json").read_text())
    assert s["instances"]["val"] == len(src["annotations"]) == len(dst["annotations"]) == len(dst["images"])
    check_dataset(tmp_path / "compact")
    for a, b in zip(src["annotations"], dst["annotations"]):
        img = next(i for i in dst["images"] if i["id"] == b["image_id"])
        assert max(img["width"], img["height"]) <= 64
        ka, kb = np.reshape(a["keypoints"], (-1, 3)), np.reshape(b["keypoints"], (-1, 3))
        assert (ka[:, 2] == kb[:, 2]).all()
        # keypoints move with the box: same position relative to it
        lab = ka[:, 2] > 0
        rel_a = (ka[lab, :2] - a["bbox"][:2]) / a["bbox"][2:]
        rel_b = (kb[lab, :2] - b["bbox"][:2]) / b["bbox"][2:]
        assert np.allclose(rel_a, rel_b, atol=0.03)
        crop = cv2.imread(str(tmp_path / "compact" / "images" / img["file_name"]))
        assert crop.shape[:2] == (img["height"], img["width"])
