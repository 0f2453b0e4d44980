"""The AP of perfect heatmaps: each val keypoint encoded by the heatmap codec, decoded again and
scored with the COCO keypoint metric (GT boxes, the top-down crop's 1.25 padding).  It is the
ceiling that the codec alone puts on a model's AP, before anything is learned.

  .venv/bin/python benchmarks/codec_ceiling.py [--data ROOT]   (default: the demo's val cats)

Measured on the demo's 48 val cats (easy, 160 px, seed 0), 2026-11-30:

  input / heatmap  sigma  codec                 AP of perfect heatmaps
  64 / 16          1.0    MSRA (integer peaks)  0.643
  64 / 16          1.5    MSRA                  0.440  (a non-integer sigma puts the peak off-centre)
  64 / 16          2.0    MSRA                  0.643
  64 / 16          2.0    DARK (unbiased, blur 3)  0.963
  80 / 20          2.0    MSRA                  0.759
  96 / 24          2.0    MSRA                  0.831
  128 / 32         2.0    MSRA                  0.918
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def ceiling(root, input_size, heatmap_size, sigma, unbiased=False, blur=3) -> float:
    from mmpose.codecs import MSRAHeatmap

    from catpose_lib.report.keypoint_eval import oks_ap
    from catpose_lib.schemes.cats17 import dataset_info

    extra = dict(unbiased=True, blur_kernel_size=blur) if unbiased else {}
    codec = MSRAHeatmap(input_size=(input_size,) * 2, heatmap_size=(heatmap_size,) * 2, sigma=sigma, **extra)
    ann_file = Path(root) / "annotations" / "val.json"
    dets = []
    for a in json.loads(ann_file.read_text())["annotations"]:
        x, y, w, h = a["bbox"]
        centre, scale = np.array([x + w / 2, y + h / 2]), max(w, h) * 1.25
        kp = np.array(a["keypoints"], float).reshape(-1, 3)
        crop = (kp[:, :2] - centre) / scale * input_size + input_size / 2
        heatmaps = codec.encode(crop[None], (kp[:, 2] > 0).astype(float)[None])["heatmaps"]
        decoded = (codec.decode(heatmaps)[0][0] - input_size / 2) / input_size * scale + centre
        dets.append(dict(image_id=a["image_id"], category_id=1, score=1.0,
                         keypoints=np.concatenate([decoded, np.ones((len(kp), 1))], 1).ravel().tolist()))
    return oks_ap(ann_file, dets, dataset_info["sigmas"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="course-layout root (default: the demo's synthetic cats)")
    args = p.parse_args(argv)
    if args.data:
        root = Path(args.data)
    else:
        from catpose_lib.data.default_data import synthetic_cats

        sys.path.insert(0, str(REPO / "scripts"))
        from demo import DEMO_DATA

        root = synthetic_cats(**DEMO_DATA)
    for size, hm, sigma, unbiased in [(64, 16, 1, False), (64, 16, 1.5, False), (64, 16, 2, False), (64, 16, 2, True),
                                      (80, 20, 2, False), (96, 24, 2, False), (128, 32, 2, False)]:
        print(f"{size:>3} / {hm:<3} sigma {sigma:<4} {'DARK' if unbiased else 'MSRA'}  "
              f"AP of perfect heatmaps {ceiling(root, size, hm, sigma, unbiased):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
