"""The compact (cropped) dataset that the GPU check carries keeps boxes and keypoints on the
same pixels (the check itself, --dry: tests/test_pretrain.py)."""
import json
import numpy as np



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
