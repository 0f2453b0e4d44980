"""check_dataset / `python -m catpose_lib check`: one test per kind of bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_coco import write_tiny_coco

from catpose_lib.data.validate import check_dataset, format_report, unsafe_file_name
from catpose_lib.errors import DataError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(tmp_path):
    # train: images 1-4 (ann ids 1..6, 1 or 2 per image); val: images 5-6 (ann ids 7..9);
    # test: images 7-8.  Images are 64x48.
    return write_tiny_coco(tmp_path / "data", n_train=4, n_val=2, n_test=2, num_keypoints=17,
                           instances_per_image=[1, 2])


def snapshot(root):
    """Every file under root with its size and mtime: to prove that nothing was written."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(Path(root).rglob("*"))}


def edit(root, split, fn):
    path = root / "annotations" / {"train": "train.json", "val": "val.json", "test": "test_info.json"}[split]
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_valid_dataset_report(tiny, capsys):
    root = tiny["root"]
    report = check_dataset(root)
    assert report["scheme"] == "cats17" and report["num_keypoints"] == 17
    assert {s: (v["images"], v["instances"]) for s, v in report["splits"].items()} == {
        "train": (4, 6), "val": (2, 3), "test": (2, 3)}
    # 17 keypoints, keypoint k of instance j unlabelled when (j + k) % 4 == 0
    assert report["splits"]["train"]["labelled_keypoints"] == 6 * 17 - sum(
        1 for j in range(6) for k in range(17) if (j + k) % 4 == 0)
    text = format_report(report)
    assert "train" in text and "6 instances" in text
    from catpose_lib.cli import main
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "4 images" in out


def test_scheme_inferred_from_keypoint_count(tmp_path):
    r20 = write_tiny_coco(tmp_path / "a", num_keypoints=20)["root"]
    assert check_dataset(r20)["scheme"] == "animalpose20"
    r5 = write_tiny_coco(tmp_path / "b", num_keypoints=5)["root"]
    with pytest.raises(DataError, match="cannot infer the keypoint scheme from 5 keypoints"):
        check_dataset(r5)


def test_test_info_is_optional(tmp_path):
    root = write_tiny_coco(tmp_path / "d", n_test=0)["root"]
    assert set(check_dataset(root)["splits"]) == {"train", "val"}


def _garbage_image(root):
    (root / "images" / "train_000.jpg").write_bytes(b"this is not a jpeg" * 10)


def _truncate_keypoints(d):
    d["annotations"][2]["keypoints"] = d["annotations"][2]["keypoints"][:48]


def _set(index, key, value):
    def fn(d):
        d["annotations"][index]["bbox"][key] = value
    return fn


# (name, mutate(root), expected file, expected record, expected message piece)
CASES = [
    ("malformed_json", lambda r: (r / "annotations" / "val.json").write_text('{"images": [1, 2'),
     "val.json", "line 1 column", "malformed JSON"),
    ("missing_image", lambda r: (r / "images" / "val_001.jpg").unlink(),
     "val.json", "image id=6 (index 1)", "image file not found"),
    ("unreadable_image", _garbage_image, "train.json", "image id=1 (index 0)", "unreadable image"),
    ("image_size_mismatch", lambda r: edit(r, "train", lambda d: d["images"][1].update(width=80)),
     "train.json", "image id=2 (index 1)", "is 64x48 but the record says 80x48"),
    ("keypoint_count", lambda r: edit(r, "train", _truncate_keypoints),
     "train.json", "annotation id=3 (index 2)", "has 16 keypoints"),
    ("category_keypoint_count", lambda r: edit(r, "val", lambda d: d["categories"][0]["keypoints"].pop()),
     "val.json", "category id=1 (index 0)", "category lists 16 keypoints, the scheme has 17"),
    ("zero_width", lambda r: edit(r, "train", _set(3, 2, 0)),
     "train.json", "annotation id=4 (index 3)", "has zero width"),
    ("negative_height", lambda r: edit(r, "val", _set(1, 3, -5)),
     "val.json", "annotation id=8 (index 1)", "has negative height"),
    ("box_outside_image", lambda r: edit(r, "train", lambda d: d["annotations"][0].update(bbox=[50, 10, 20, 10])),
     "train.json", "annotation id=1 (index 0)", "lies outside its 64x48 image"),
    ("duplicate_image_id", lambda r: edit(r, "train", lambda d: d["images"][2].update(id=2)),
     "train.json", "image id=2 (index 2)", "duplicate image id 2 (first at index 1)"),
    ("duplicate_annotation_id", lambda r: edit(r, "val", lambda d: d["annotations"][2].update(id=7)),
     "val.json", "annotation id=7 (index 2)", "duplicate annotation id 7 (first at index 0)"),
    ("unknown_image", lambda r: edit(r, "train", lambda d: d["annotations"][1].update(image_id=999)),
     "train.json", "annotation id=2 (index 1)", "image_id 999 is not in 'images'"),
    ("empty_split_no_images", lambda r: edit(r, "val", lambda d: d.update(images=[], annotations=[])),
     "val.json", None, "empty split: val has no images"),
    ("empty_split_no_annotations", lambda r: edit(r, "train", lambda d: d.update(annotations=[])),
     "train.json", None, "empty split: train has no annotations"),
    ("file_name_dotdot", lambda r: edit(r, "train", lambda d: d["images"][0].update(file_name="../secret.jpg")),
     "train.json", "image id=1 (index 0)", "escapes the data root"),
    ("file_name_nested_dotdot", lambda r: edit(r, "val", lambda d: d["images"][0].update(file_name="a/../../x.jpg")),
     "val.json", "image id=5 (index 0)", "escapes the data root"),
    ("file_name_absolute", lambda r: edit(r, "train", lambda d: d["images"][3].update(file_name="/etc/passwd")),
     "train.json", "image id=4 (index 3)", "is an absolute path"),
    ("num_keypoints_wrong", lambda r: edit(r, "train", lambda d: d["annotations"][0].update(num_keypoints=17)),
     "train.json", "annotation id=1 (index 0)", "num_keypoints is 17 but 12 keypoints are labelled"),
    ("bad_visibility", lambda r: edit(r, "val", lambda d: d["annotations"][0]["keypoints"].__setitem__(5, 3)),
     "val.json", "annotation id=7 (index 0)", "keypoint 1 has visibility 3"),
    ("test_box_zero_height", lambda r: edit(r, "test", _set(0, 3, 0)),
     "test_info.json", "annotation id=10 (index 0)", "has zero height"),
]


@pytest.mark.parametrize("name,mutate,file,record,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported(tiny, name, mutate, file, record, message):
    root = tiny["root"]
    mutate(root)
    before = snapshot(root)
    with pytest.raises(DataError) as info:
        check_dataset(root)
    err = info.value
    first_line = str(err).splitlines()[0]
    assert first_line.startswith(str(root / "annotations" / file)), first_line
    assert err.file.endswith(file)
    if record is not None:
        assert record in first_line
        assert record in str(err.record)
    assert message in first_line
    assert snapshot(root) == before  # check only reads


def test_category_count_vs_explicit_scheme(tiny):
    with pytest.raises(DataError) as info:
        check_dataset(tiny["root"], scheme="animalpose20")
    msg = str(info.value)
    assert "train.json: category id=1 (index 0): category lists 17 keypoints, the scheme has 20" in msg
    assert "annotation id=1 (index 0): has 17 keypoints (51 numbers), the scheme has 20" in msg


def test_all_problems_are_listed(tiny):
    root = tiny["root"]
    edit(root, "train", _set(0, 2, 0))
    edit(root, "val", lambda d: d["annotations"][1].update(image_id=12345))
    (root / "images" / "train_003.jpg").unlink()
    with pytest.raises(DataError) as info:
        check_dataset(root)
    msg = str(info.value)
    assert "2 more problem(s)" in msg
    assert "annotation id=1 (index 0): box [" in msg and "has zero width" in msg
    assert "image id=4 (index 3): image file not found" in msg
    assert "val.json: annotation id=8 (index 1): image_id 12345" in msg
    assert len(info.value.problems) == 3


def test_cli_exit_status_and_message(tiny):
    root = tiny["root"]
    edit(root, "train", lambda d: d["annotations"][4].update(image_id=77))
    before = snapshot(root)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "catpose_lib", "check", str(root)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "train.json: annotation id=5 (index 4): image_id 77 is not in 'images'" in proc.stderr
    assert "OK" not in proc.stdout
    assert "Traceback" not in proc.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize("name,why", [
    ("a.jpg", ""), ("sub/dir/a.jpg", ""), ("..a.jpg", ""),
    ("../a.jpg", "escapes"), ("sub/../../a.jpg", "escapes"), ("..\\a.jpg", "escapes"),
    ("/abs/a.jpg", "absolute"), ("C:\\a.jpg", "absolute"), ("", "non-empty"), (None, "non-empty"),
])
def test_unsafe_file_name(name, why):
    got = unsafe_file_name(name)
    assert (why in got) if why else got == ""
