"""Check on the real cats that predictions follow a test file's keypoint order: the val split written
in the raw Animal-Pose order (as the blind test set is) scores the same OKS AP as in MMPose's order,
and MMPose-order predictions scored against it (the behaviour before the fix) score ~0.

    .venv/bin/python scripts/check_keypoint_order.py ~/.cache/catpose/study/results/baseline/00_s0.json
"""
import json
import sys
import tempfile
from pathlib import Path
import numpy as np
from catpose_lib.data.animalpose import RAW_TO_MMPOSE
from catpose_lib.engine.predict import build_model, predict_boxes
from xtcocotools.coco import COCO
from xtcocotools.cocoeval import COCOeval

root = Path.home() / ".cache/catpose/data/animalpose_cats"
val = json.loads((root / "annotations/val.json").read_text())
mm = val["categories"][0]["keypoints"]
raw = ["left_eye", "right_eye", "nose", "left_ear", "right_ear", "left_front_elbow", "right_front_elbow",
       "left_back_elbow", "right_back_elbow", "left_front_knee", "right_front_knee", "left_back_knee",
       "right_back_knee", "left_front_paw", "right_front_paw", "left_back_paw", "right_back_paw",
       "throat", "withers", "tailbase"]
idx = [mm.index(RAW_TO_MMPOSE[n]) for n in raw]
rawval = json.loads(json.dumps(val))
rawval["categories"][0]["keypoints"] = raw
rawval["categories"][0].pop("skeleton", None)
for a in rawval["annotations"]:
    k = np.array(a["keypoints"]).reshape(-1, 3)[idx]
    a["keypoints"] = k.reshape(-1).tolist()
out = Path(tempfile.mkdtemp(prefix="catpose-order-"))
(out / "annotations").mkdir()
(out / "annotations/val_raw.json").write_text(json.dumps(rawval))
if not (out / "images").exists():
    (out / "images").symlink_to(root / "images")
r = json.loads(Path(sys.argv[1]).read_text())
model = build_model(r)
sig_mm = np.array(model.dataset_meta["sigmas"])
sig_raw = sig_mm[idx]

def ap(gt_file, preds, sigmas):
    gt = COCO(str(gt_file)); dt = gt.loadRes(preds)
    e = COCOeval(gt, dt, "keypoints", sigmas=sigmas, use_area=True); e.params.useSegm = None
    e.evaluate(); e.accumulate(); e.summarize(); return e.stats[0]

p_raw = predict_boxes(model, out / "annotations/val_raw.json")
p_mm = predict_boxes(model, root / "annotations/val.json")
print("AP mmpose-order file", ap(root / "annotations/val.json", p_mm, sig_mm))
print("AP raw-order file, reordered", ap(out / "annotations/val_raw.json", p_raw, sig_raw))
print("AP raw-order file, mmpose-order preds (the old behaviour)", ap(out / "annotations/val_raw.json", p_mm, sig_raw))
print("recorded best AP", r["best"]["AP"])
