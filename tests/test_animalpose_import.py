"""Animal-Pose keypoints.json -> course layout (import_animalpose / import-animalpose)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from catpose_lib.data import animalpose
from catpose_lib.data.animalpose import RAW_TO_MMPOSE, default_n_val, import_animalpose
from catpose_lib.data.validate import check_dataset
from catpose_lib.errors import DataError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"

RAW_NAMES = ["left_eye", "right_eye", "nose", "left_ear", "right_ear", "left_front_elbow",
             "right_front_elbow", "left_back_elbow", "right_back_elbow", "left_front_knee",
             "right_front_knee", "left_back_knee", "right_back_knee", "left_front_paw",
             "right_front_paw", "left_back_paw", "right_back_paw", "throat", "withers", "tailbase"]
# MMPose 1.3.2 configs/_base_/datasets/animalpose.py, keypoint_info order
MMPOSE_NAMES = ["L_Eye", "R_Eye", "L_EarBase", "R_EarBase", "Nose", "Throat", "TailBase", "Withers",
                "L_F_Elbow", "R_F_Elbow", "L_B_Elbow", "R_B_Elbow", "L_F_Knee", "R_F_Knee",
                "L_B_Knee", "R_B_Knee", "L_F_Paw", "R_F_Paw", "L_B_Paw", "R_B_Paw"]
W, H = 60, 40


def raw_keypoints(seed, unlabelled=()):
    """Raw point r at (r + seed/10, 2r + 1): unique per raw index, inside a 60x40 image.
    Unlabelled points keep junk coordinates (the importer must zero them)."""
    return [[r + seed / 10, 2 * r + 1, 0 if r in unlabelled else 1] for r in range(20)]


def make_raw(folder, n_images=10, dog=False):
    """A raw Animal-Pose folder: images 100..100+n-1 (every third holds two cats), optional dog."""
    folder = Path(folder)
    (folder / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    images, anns = {}, []
    for i in range(n_images):
        img_id = 100 + i
        name = f"2011_{img_id:06d}.jpg"
        Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)).save(folder / "images" / name)
        images[str(img_id)] = name
        for j in range(2 if i % 3 == 0 else 1):
            anns.append({"image_id": img_id, "bbox": [2 + j, 3, 50 + j, 38],
                         "keypoints": raw_keypoints(i, unlabelled={2 * j + i % 5, 19 - j}),
                         "num_keypoints": 20, "category_id": 2})
    cats = [{"supercategory": "animal", "id": 2, "name": "cat", "keypoints": list(RAW_NAMES),
             "skeleton": [[0, 1], [0, 2]]}]
    if dog:
        cats.insert(0, dict(cats[0], id=1, name="dog"))
        anns.append({"image_id": 100, "bbox": [0, 0, 10, 10], "keypoints": raw_keypoints(0),
                     "num_keypoints": 20, "category_id": 1})
        anns.append({"image_id": 101, "bbox": [0, 0, 12, 10], "keypoints": raw_keypoints(1),
                     "num_keypoints": 20, "category_id": 1})
    (folder / "keypoints.json").write_text(json.dumps({"images": images, "annotations": anns,
                                                       "categories": cats}))
    return folder


def load(root, split):
    name = {"train": "train.json", "val": "val.json", "test": "test_info.json"}[split]
    return json.loads((Path(root) / "annotations" / name).read_text())


def leftovers(parent, name):
    """Anything left at the output path or as a staging folder next to it."""
    return [p.name for p in Path(parent).iterdir() if p.name == name or p.name.startswith(f".{name}.")]


@pytest.fixture
def raw(tmp_path):
    return make_raw(tmp_path / "raw")


def test_scheme_is_mmpose_animalpose_in_mmpose_order():
    from catpose_lib.schemes import keypoint_names

    assert keypoint_names("animalpose20") == MMPOSE_NAMES
    assert sorted(RAW_TO_MMPOSE) == sorted(RAW_NAMES)
    assert sorted(RAW_TO_MMPOSE.values()) == sorted(MMPOSE_NAMES)


def test_default_val_size():
    assert default_n_val(1124) == 124  # 1,000 train on the shared cats
    assert default_n_val(10) == 1
    assert default_n_val(20) == 2
    assert default_n_val(2) == 1


def test_conversion(raw, tmp_path):
    out = tmp_path / "out"
    summary = import_animalpose(raw, out, n_val=3, seed=0)
    assert summary["images"] == {"train": 7, "val": 3}
    assert summary["instances"]["train"] + summary["instances"]["val"] == 14  # 10 images, 4 with two cats
    train, val, test = load(out, "train"), load(out, "val"), load(out, "test")
    src = json.loads((raw / "keypoints.json").read_text())

    # categories: raw name, new id 1, MMPose names and skeleton
    (cat,) = train["categories"]
    assert (cat["id"], cat["name"], cat["raw_id"]) == (1, "cat", 2)
    assert cat["keypoints"] == MMPOSE_NAMES
    assert [6, 8] in cat["skeleton"]  # ('TailBase', 'Withers') in MMPose, 1-based
    assert val["categories"] == train["categories"] == test["categories"]

    anns = train["annotations"] + val["annotations"]
    assert sorted(a["id"] for a in anns) == list(range(1, 15))  # unique ids
    assert len({img["id"] for img in train["images"] + val["images"]}) == 10
    for ann in anns:
        r = src["annotations"][ann["raw_index"]]
        x1, y1, x2, y2 = r["bbox"]
        assert ann["bbox"] == [x1, y1, x2 - x1, y2 - y1]
        assert ann["area"] == (x2 - x1) * (y2 - y1)
        assert ann["category_id"] == 1 and ann["iscrowd"] == 0
        kp = np.array(ann["keypoints"]).reshape(20, 3)
        rk = np.array(r["keypoints"], dtype=float)
        # reordering by name: raw nose (2) -> MMPose Nose (4); left_ear (3) -> L_EarBase (2);
        # tailbase (19) -> TailBase (6); throat (17) -> Throat (5); withers (18) -> Withers (7)
        for raw_i, mm_i in [(2, 4), (3, 2), (19, 6), (17, 5), (18, 7), (13, 16), (5, 8), (0, 0)]:
            if rk[raw_i, 2]:
                assert kp[mm_i].tolist() == [rk[raw_i, 0], rk[raw_i, 1], 2]
            else:
                assert kp[mm_i].tolist() == [0, 0, 0]
        for raw_i, name in enumerate(RAW_NAMES):
            mm_i = MMPOSE_NAMES.index(RAW_TO_MMPOSE[name])
            expect = [rk[raw_i, 0], rk[raw_i, 1], 2] if rk[raw_i, 2] else [0, 0, 0]
            assert kp[mm_i].tolist() == expect
        # v mapping and recomputed num_keypoints (raw says 20, two points are unlabelled)
        assert set(kp[:, 2].tolist()) <= {0, 2}
        assert ann["num_keypoints"] == int((rk[:, 2] > 0).sum()) == 18

    # image level split: every instance of an image in the image's split
    train_ids, val_ids = {i["id"] for i in train["images"]}, {i["id"] for i in val["images"]}
    assert not train_ids & val_ids
    assert all(a["image_id"] in train_ids for a in train["annotations"])
    assert all(a["image_id"] in val_ids for a in val["annotations"])
    assert {(img["width"], img["height"]) for img in train["images"] + val["images"]} == {(W, H)}
    assert sorted(train_ids | val_ids) == list(range(100, 110))  # raw image ids kept

    # test_info.json = the val images and boxes, no keypoints
    assert test["images"] == val["images"]
    assert [a["bbox"] for a in test["annotations"]] == [a["bbox"] for a in val["annotations"]]
    assert all("keypoints" not in a for a in test["annotations"])

    # images hard-linked (same file system) with the same bytes; nothing else in images/
    names = sorted(img["file_name"] for img in train["images"] + val["images"])
    assert sorted(p.name for p in (out / "images").iterdir()) == names
    for name in names:
        assert (out / "images" / name).read_bytes() == (raw / "images" / name).read_bytes()
        assert os.path.samefile(out / "images" / name, raw / "images" / name)
    assert summary["linked"] == 10 and summary["copied"] == 0

    report = check_dataset(out)
    assert report["scheme"] == "animalpose20"
    assert report["splits"]["val"]["instances"] == summary["instances"]["val"]
    assert report["warnings"] == []


def test_copy_instead_of_link(raw, tmp_path):
    summary = import_animalpose(raw, tmp_path / "out", n_val=2, link=False)
    assert summary["copied"] == 10 and summary["linked"] == 0
    f = tmp_path / "out" / "images" / "2011_000100.jpg"
    assert not os.path.samefile(f, raw / "images" / "2011_000100.jpg")
    assert f.read_bytes() == (raw / "images" / "2011_000100.jpg").read_bytes()


def test_split_is_deterministic_and_seeded(raw, tmp_path):
    val_sets = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1), ("d", 2)):
        import_animalpose(raw / "keypoints.json", tmp_path / name, n_val=4, seed=seed)
        val_sets.append(sorted(i["id"] for i in load(tmp_path / name, "val")["images"]))
        assert len(val_sets[-1]) == 4
    assert (tmp_path / "a" / "annotations" / "train.json").read_bytes() == \
        (tmp_path / "b" / "annotations" / "train.json").read_bytes()
    assert val_sets[0] == val_sets[1]
    assert len({tuple(v) for v in val_sets}) >= 2  # seeds change the split
    # default size: round(0.11 * 10) = 1
    import_animalpose(raw, tmp_path / "e")
    assert len(load(tmp_path / "e", "val")["images"]) == 1


def test_category_filter(tmp_path):
    src = make_raw(tmp_path / "raw", n_images=6, dog=True)
    import_animalpose(src, tmp_path / "all", n_val=1)
    train, val = load(tmp_path / "all", "train"), load(tmp_path / "all", "val")
    assert [(c["id"], c["name"], c["raw_id"]) for c in train["categories"]] == [(1, "dog", 1), (2, "cat", 2)]
    anns = train["annotations"] + val["annotations"]
    assert sorted(a["category_id"] for a in anns) == [1, 1] + [2] * 8

    s = import_animalpose(src, tmp_path / "cat", n_val=1, categories=["cat"])
    train = load(tmp_path / "cat", "train")
    assert [(c["id"], c["name"]) for c in train["categories"]] == [(1, "cat")]
    assert s["instances"]["train"] + s["instances"]["val"] == 8

    s = import_animalpose(src, tmp_path / "dog", n_val=1, categories=["1"])  # by raw id
    assert s["instances"] == {"train": 1, "val": 1} and s["dropped_images"] == 4
    assert len(list((tmp_path / "dog" / "images").iterdir())) == 2

    with pytest.raises(DataError, match="unknown category horse"):
        import_animalpose(src, tmp_path / "horse", categories=["horse"])
    assert leftovers(tmp_path, "horse") == []


def _bad_json(raw):
    (raw / "keypoints.json").write_text('{"images": {"1": "a.jpg"}, "annotations": [')


def _edit(fn):
    def mutate(raw):
        d = json.loads((raw / "keypoints.json").read_text())
        fn(d)
        (raw / "keypoints.json").write_text(json.dumps(d))
    return mutate


FAILURES = [
    ("malformed_json", _bad_json, "malformed JSON", "line 1"),
    ("missing_image", lambda raw: (raw / "images" / "2011_000104.jpg").unlink(),
     "image file not found", "image id=104"),
    ("unreadable_image", lambda raw: (raw / "images" / "2011_000105.jpg").write_bytes(b"nope"),
     "unreadable image", "image id=105"),
    ("inverted_box", _edit(lambda d: d["annotations"][3].update(bbox=[40, 3, 20, 30])),
     "is empty", "annotation index 3 (image_id=102)"),
    ("short_keypoints", _edit(lambda d: d["annotations"][5]["keypoints"].pop()),
     "keypoints must be a list of 20", "annotation index 5"),
    ("bad_visibility", _edit(lambda d: d["annotations"][0]["keypoints"][0].__setitem__(2, 7)),
     "keypoint 0 has visibility 7", "annotation index 0"),
    ("unknown_image", _edit(lambda d: d["annotations"][2].update(image_id=5555)),
     "image_id 5555 is not in 'images'", "annotation index 2"),
    ("unknown_keypoint_name", _edit(lambda d: d["categories"][0]["keypoints"].__setitem__(3, "left_earlobe")),
     "unknown keypoint name 'left_earlobe'", "category id=2 (index 0)"),
    ("duplicate_keypoint_name", _edit(lambda d: d["categories"][0]["keypoints"].__setitem__(1, "left_eye")),
     "do not cover the animalpose20 scheme exactly once", "category id=2 (index 0)"),
    ("escaping_file_name", _edit(lambda d: d["images"].update({"103": "../../etc/passwd"})),
     "escapes the data root", "image id='103'"),
    ("unknown_category", _edit(lambda d: d["annotations"][1].update(category_id=9)),
     "category_id 9 is not in 'categories'", "annotation index 1"),
    ("images_not_a_dict", _edit(lambda d: d.update(images=list(d["images"].values()))),
     "'images' must be an object", None),
]


@pytest.mark.parametrize("name,mutate,message,record", FAILURES, ids=[f[0] for f in FAILURES])
def test_failures_leave_nothing(raw, tmp_path, name, mutate, message, record):
    mutate(raw)
    with pytest.raises(DataError) as info:
        import_animalpose(raw, tmp_path / "out", n_val=2)
    msg = str(info.value)
    assert msg.startswith(str(raw / "keypoints.json")), msg
    assert message in msg
    if record:
        assert record in msg
    assert leftovers(tmp_path, "out") == []


def test_failure_while_writing_leaves_nothing(raw, tmp_path, monkeypatch):
    calls = []
    real = animalpose._place_image

    def flaky(src, dst, link):
        calls.append(src)
        if len(calls) == 5:
            raise OSError("disk full (simulated)")
        return real(src, dst, link)

    monkeypatch.setattr(animalpose, "_place_image", flaky)
    with pytest.raises(OSError, match="simulated"):
        import_animalpose(raw, tmp_path / "out", n_val=2)
    assert leftovers(tmp_path, "out") == []


def test_refuses_non_empty_output(raw, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        import_animalpose(raw, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (tmp_path / "empty_ok").mkdir()  # an existing empty folder is fine
    import_animalpose(raw, tmp_path / "empty_ok")
    assert (tmp_path / "empty_ok" / "annotations" / "train.json").exists()


def test_cli(raw, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "catpose_lib", "import-animalpose", str(raw), str(tmp_path / "out"),
           "--val", "3", "--seed", "5", "--category", "cat"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "train 7 images" in proc.stdout and "val 3 images" in proc.stdout
    assert len(load(tmp_path / "out", "val")["images"]) == 3
    (raw / "images" / "2011_000100.jpg").unlink()
    proc = subprocess.run(cmd[:5] + [str(tmp_path / "out2")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert "keypoints.json: image id=100: image file not found" in proc.stderr
    assert leftovers(tmp_path, "out2") == []


# ---- the shared real data (skipped where ../shared/datasets is absent) ----

@pytest.mark.shared
def test_shared_cats(tmp_path):
    src = SHARED / "animalpose_cats"
    if not (src / "keypoints.json").is_file():
        pytest.skip(f"{src} not available")
    from catpose_lib.data.stats import dataset_stats

    summary = import_animalpose(src, tmp_path / "cats")
    assert summary["images"] == {"train": 1000, "val": 124}
    report = check_dataset(tmp_path / "cats")
    assert report["scheme"] == "animalpose20"
    assert all("labelled keypoint(s) lie outside their image" in w for w in report["warnings"])
    splits = dataset_stats(tmp_path / "cats")["splits"]
    assert splits.loc[["train", "val"], "images"].sum() == 1124
    assert splits.loc[["train", "val"], "instances"].sum() == 1243
    assert splits.loc["test", "images"] == splits.loc["val", "images"]
    assert splits.loc["test", "instances"] == splits.loc["val", "instances"]


@pytest.mark.shared
def test_shared_others_one_category(tmp_path):
    src = SHARED / "animalpose_others"
    if not (src / "keypoints.json").is_file():
        pytest.skip(f"{src} not available")
    summary = import_animalpose(src, tmp_path / "sheep", categories=["sheep"])
    assert summary["instances"]["train"] + summary["instances"]["val"] == 1077
    assert [c[1:] for c in summary["categories"]] == [("sheep", 3)]
    report = check_dataset(tmp_path / "sheep")  # boxes a pixel outside the downscaled images are clipped
    assert report["splits"]["train"]["instances"] == summary["instances"]["train"]
