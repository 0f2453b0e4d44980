"""Check on the real cats that predictions follow a test file's keypoint order: the val split written
in the blind test set's keypoint order (the raw Animal-Pose order of its test_info.json) scores the
same OKS AP as in MMPose's order, and MMPose-order predictions scored against it (the behaviour
before the fix) score ~0.

    .venv/bin/python scripts/check_keypoint_order.py ~/.cache/catpose/study/results/baseline/00_s0.json
"""
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from catpose_lib.runs.predict import build_model, output_order, predict_boxes
from catpose_lib.report.keypoint_eval import oks_ap as ap

REPO = Path(__file__).resolve().parents[1]
BLIND = REPO.parent / "shared" / "datasets" / "animalpose_cats_test" / "annotations" / "test_info.json"


def main(run_json) -> None:
    result = json.loads(Path(run_json).read_text())
    root = Path(result["data_root"])
    val = json.loads((root / "annotations" / "val.json").read_text())
    blind_names = json.loads(BLIND.read_text())["categories"][0]["keypoints"]
    idx = output_order(blind_names, val["categories"][0]["keypoints"], BLIND)  # val's index of each name
    reordered = dict(val, categories=[dict(val["categories"][0], keypoints=blind_names, skeleton=[])])
    reordered["annotations"] = [dict(a, keypoints=np.array(a["keypoints"]).reshape(-1, 3)[idx].reshape(-1).tolist())
                                for a in val["annotations"]]
    out = Path(tempfile.mkdtemp(prefix="catpose-order-"))
    (out / "annotations").mkdir()
    (out / "annotations" / "val_blind_order.json").write_text(json.dumps(reordered))
    (out / "images").symlink_to(root / "images")

    model = build_model(result)
    sigmas = np.array(model.dataset_meta["sigmas"])
    own = predict_boxes(model, root / "annotations" / "val.json")
    blind_order = predict_boxes(model, out / "annotations" / "val_blind_order.json")
    print("AP mmpose-order file", ap(root / "annotations" / "val.json", own, sigmas))
    print("AP blind-order file, reordered", ap(out / "annotations" / "val_blind_order.json", blind_order, sigmas[idx]))
    print("AP blind-order file, mmpose-order preds (the old behaviour)",
          ap(out / "annotations" / "val_blind_order.json", own, sigmas[idx]))
    print("recorded best AP", result["best"]["AP"])


if __name__ == "__main__":
    main(sys.argv[1])
