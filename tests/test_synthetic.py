"""Synthetic cats: layout, labels, left/right consistency, determinism and the CLI."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catpose_lib.data import synthetic as S
from catpose_lib.data.layout import annotation_path
from catpose_lib.errors import CatposeError

SIZE = 128
REPO = Path(__file__).resolve().parents[1]
L_SIDE = [i for i, n in enumerate(S.KEYPOINT_NAMES) if n.startswith("L_")]
R_SIDE = [i for i, n in enumerate(S.KEYPOINT_NAMES) if n.startswith("R_")]
NOSE, ROOT = S.KEYPOINT_NAMES.index("Nose"), S.KEYPOINT_NAMES.index("Root of tail")


def load(root, split):
    return json.loads(annotation_path(root, split).read_text())


def tree_digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


def keypoint_array(data):
    return np.array([a["keypoints"] for a in data["annotations"]], float).reshape(-1, 17, 3)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small") / "cats"
    summary = S.generate_dataset(root, n_train=6, n_val=3, n_test=3, size=SIZE, seed=7)
    return root, summary


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    root = tmp_path_factory.mktemp("medium") / "cats"
    S.generate_dataset(root, n_train=60, n_val=0, n_test=0, size=SIZE, seed=3)
    return load(root, "train")


def test_layout_and_coco_contents(small):
    root, summary = small
    assert sorted(p.name for p in (root / "annotations").iterdir()) == [
        "test_info.json", "train.json", "val.json"]
    assert len(list((root / "images").glob("*.jpg"))) == 12
    assert summary["images"] == {"train": 6, "val": 3, "test": 3}
    image_ids, annotation_ids = [], []
    for split, n in (("train", 6), ("val", 3), ("test", 3)):
        data = load(root, split)
        assert data["categories"] == [S.CATEGORY]
        assert data["categories"][0]["keypoints"] == S.KEYPOINT_NAMES
        assert len(data["categories"][0]["skeleton"]) == 16
        assert [im["file_name"] for im in data["images"]] == [
            f"{split}_{i:06d}.jpg" for i in range(1, n + 1)]
        sizes = {}
        for im in data["images"]:
            assert (im["width"], im["height"]) == (SIZE, SIZE)
            assert (root / "images" / im["file_name"]).read_bytes()[:2] == b"\xff\xd8"
            sizes[im["id"]] = im
        assert {a["image_id"] for a in data["annotations"]} == set(sizes)  # >= 1 cat each
        assert summary["annotations"][split] == len(data["annotations"])
        image_ids += list(sizes)
        annotation_ids += [a["id"] for a in data["annotations"]]
        for a in data["annotations"]:
            assert a["category_id"] == 1 and a["iscrowd"] == 0
            x, y, w, h = a["bbox"]
            assert all(isinstance(v, float) for v in a["bbox"])
            assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= SIZE and y + h <= SIZE
            assert 0 < a["area"] <= w * h
            if split == "test":
                assert "keypoints" not in a and "num_keypoints" not in a
                continue
            kp = np.array(a["keypoints"], float).reshape(17, 3)
            assert len(a["keypoints"]) == 51
            assert set(kp[:, 2]) <= {0, 1, 2}
            assert a["num_keypoints"] == int((kp[:, 2] > 0).sum()) >= 6
            assert np.all(kp[kp[:, 2] == 0, :2] == 0)
            shown = kp[kp[:, 2] > 0, :2]
            assert np.all((shown >= 0) & (shown <= SIZE - 1))
            # labelled keypoints lie on the drawn silhouette, hence inside its box
            assert np.all(shown >= [x - 1, y - 1]) and np.all(shown <= [x + w, y + h])
    assert len(set(image_ids)) == len(image_ids) == 12
    assert len(set(annotation_ids)) == len(annotation_ids)


def test_same_seed_same_bytes_other_seed_differs(small, tmp_path):
    root, _ = small
    S.generate_dataset(tmp_path / "again", n_train=6, n_val=3, n_test=3, size=SIZE, seed=7)
    assert tree_digest(tmp_path / "again") == tree_digest(root)
    S.generate_dataset(tmp_path / "other", n_train=6, n_val=3, n_test=3, size=SIZE, seed=8)
    other = tree_digest(tmp_path / "other")
    assert other.keys() == tree_digest(root).keys()
    assert sum(other[k] != v for k, v in tree_digest(root).items()) == len(other)


def test_images_do_not_depend_on_generation_order(small, tmp_path):
    root, _ = small
    S.generate_dataset(tmp_path / "fewer", n_train=2, n_val=3, n_test=0, size=SIZE, seed=7)
    for name in ("train_000002.jpg", "val_000001.jpg", "val_000003.jpg"):
        assert (tmp_path / "fewer/images" / name).read_bytes() == \
            (root / "images" / name).read_bytes()


def render_alone(cat):
    image = np.zeros((SIZE, SIZE, 3), np.float32)
    id_map = np.zeros((SIZE, SIZE), np.uint8)
    points, mask = S.render_cat(image, id_map, cat)
    return points, S.label_keypoints(points, id_map, cat.heading)[:, 2], mask, image


def test_mirrored_cat_equals_flipped_image_with_swapped_labels():
    """Flip augmentation = mirror the image and apply the cats17 swap pairs."""
    assert [S.KEYPOINT_NAMES[i] for i in S.FLIP_INDICES[:2]] == ["R_Eye", "L_Eye"]
    headings = set()
    for i in range(30):
        cat = S.sample_cat(np.random.default_rng(i), SIZE, SIZE)
        mirror = cat.mirrored(SIZE)
        headings.add(cat.heading)
        points, visible, mask, image = render_alone(cat)
        m_points, m_visible, m_mask, m_image = render_alone(mirror)
        expected = points[S.FLIP_INDICES].copy()
        expected[:, 0] = SIZE - 1 - expected[:, 0]
        np.testing.assert_allclose(m_points, expected, atol=1e-6)
        assert np.array_equal(m_visible, visible[S.FLIP_INDICES])
        # the drawing itself is mirrored too (up to rasterisation at the edges)
        assert np.mean((mask[:, ::-1] > 0) != (m_mask > 0)) < 0.005
        assert np.abs(image[:, ::-1] - m_image).mean() < 3
        twice = mirror.mirrored(SIZE)
        assert (twice.heading, twice.rotation) == (cat.heading, cat.rotation)
        np.testing.assert_allclose(twice.centre, cat.centre, atol=1e-9)
    assert headings == {-1, 1}


def test_cat_facing_right_shows_its_right_side():
    rng = np.random.default_rng(0)
    cat = S.sample_cat(rng, SIZE, SIZE, scale=40)
    pose = dict(cat.pose, head_yaw=np.deg2rad(10), head_pitch=0.0, neck_angle=0.5)
    profile = S.Cat((SIZE / 2, SIZE / 2), 40.0, 1, 0.0, pose, cat.look)
    points, visible, _, _ = render_alone(profile)
    names = dict(zip(S.KEYPOINT_NAMES, visible))
    assert points[NOSE, 0] > points[ROOT, 0]  # head to image right
    assert names["R_Eye"] == 2 and names["L_Eye"] == 1
    assert names["R_Shoulder"] == 2 and names["L_Shoulder"] == 1
    assert names["R_Hip"] == 2 and names["L_Hip"] == 1
    _, m_visible, _, _ = render_alone(profile.mirrored(SIZE))
    m_names = dict(zip(S.KEYPOINT_NAMES, m_visible))
    assert m_names["L_Eye"] == 2 and m_names["R_Eye"] == 1
    assert m_names["L_Shoulder"] == 2 and m_names["R_Shoulder"] == 1


def test_far_side_is_left_when_facing_right_in_the_dataset(medium):
    kp = keypoint_array(medium)
    known = (kp[:, NOSE, 2] > 0) & (kp[:, ROOT, 2] > 0)
    facing_right = known & (kp[:, NOSE, 0] > kp[:, ROOT, 0])
    facing_left = known & (kp[:, NOSE, 0] < kp[:, ROOT, 0])
    assert facing_right.sum() >= 15 and facing_left.sum() >= 15

    def occluded(rows, side):
        v = kp[rows][:, side, 2]
        return (v == 1).sum() / (v > 0).sum()

    assert occluded(facing_right, L_SIDE) > 0.4 > 0.05 > occluded(facing_right, R_SIDE)
    assert occluded(facing_left, R_SIDE) > 0.4 > 0.05 > occluded(facing_left, L_SIDE)


def test_medium_set_has_border_cuts_two_cats_and_occlusion(medium):
    kp = keypoint_array(medium)
    per_image = np.bincount([a["image_id"] for a in medium["annotations"]])
    assert (per_image == 2).sum() >= 8            # ~30 % of images show two cats
    assert (kp[:, :, 2] == 0).any(1).sum() >= 5   # cats cut by the border
    assert (kp[:, :, 2] == 1).sum() >= 100        # self-occlusion everywhere
    assert (kp[:, :, 2] == 2).mean() > 0.5
    boxes = np.array([a["bbox"] for a in medium["annotations"]])
    on_border = (boxes[:, :2] == 0).any(1) | (boxes[:, :2] + boxes[:, 2:] == SIZE).any(1)
    assert on_border.sum() >= 5


def test_bbox_is_the_silhouette_and_parts_are_where_drawn():
    rng = np.random.default_rng(5)
    cat = S.sample_cat(rng, 256, 256, scale=80)
    image = np.zeros((256, 256, 3), np.float32)
    id_map = np.zeros((256, 256), np.uint8)
    points, mask = S.render_cat(image, id_map, cat)
    ys, xs = np.nonzero(mask)
    points_box = np.concatenate([points.min(0), points.max(0)])
    # the silhouette (ears, tail, fur) reaches beyond the keypoints
    assert xs.min() < points_box[0] - 2 and ys.min() < points_box[1] - 2
    named = dict(zip(S.KEYPOINT_NAMES, np.rint(points).astype(int)))
    near = "R" if cat.heading > 0 else "L"
    x, y = named[f"{near}_Eye"]
    assert np.allclose(image[y, x], S._PUPIL, atol=1)    # dark pupil in a light iris
    x, y = named["Nose"]
    assert np.allclose(image[y, x], S._NOSE_PINK, atol=1)
    assert id_map[named["Neck"][1], named["Neck"][0]] in (S.BODY, S.NECK, S.HEAD)


def test_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    calls = []

    def broken(rng, width, height, difficulty=S.DEFAULT_DIFFICULTY):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("disk on fire")
        return original(rng, width, height, difficulty)

    original = S.render_scene
    monkeypatch.setattr(S, "render_scene", broken)
    with pytest.raises(RuntimeError):
        S.generate_dataset(tmp_path / "cats", n_train=5, n_val=0, n_test=0, size=SIZE)
    assert list(tmp_path.iterdir()) == []


def test_library_refuses_non_empty_root(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CatposeError, match="not empty"):
        S.generate_dataset(tmp_path, n_train=1, n_val=0, n_test=0, size=SIZE)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "catpose_lib", "synth", *map(str, args)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_cli_generates_and_refuses_non_empty_root(tmp_path):
    root = tmp_path / "cats"
    done = cli(root, "--train", 3, "--val", 2, "--test", 1, "--size", SIZE, "--seed", 4)
    assert done.returncode == 0, done.stderr
    assert "train 3 images" in done.stdout
    assert len(load(root, "train")["images"]) == 3 and len(load(root, "val")["images"]) == 2
    assert len(load(root, "test")["images"]) == 1
    before = tree_digest(root)
    again = cli(root, "--train", 1, "--val", 0, "--test", 0, "--size", SIZE)
    assert again.returncode == 2
    assert "not empty" in again.stderr and "Traceback" not in again.stderr
    assert tree_digest(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cats"]
    bad = cli(tmp_path / "x", "--train", -1)
    assert bad.returncode == 2 and "must be >= 0" in bad.stderr


# annotations of generate_dataset(n_train=30, n_val=10, n_test=5, size=128, seed=11) drawn before
# difficulty levels existed: the default level 'hard' must keep drawing exactly these cats
HARD_TRAIN_JSON_SHA256 = "7d0a079723a5614d58ea4f8e06524f032a3d5d17d200f061814cf24beb7d68c6"


def test_default_difficulty_is_the_original_hard_level(tmp_path):
    summary = S.generate_dataset(tmp_path / "cats", n_train=30, n_val=10, n_test=5, size=SIZE, seed=11)
    assert summary["difficulty"] == S.DEFAULT_DIFFICULTY == "hard"
    digest = hashlib.sha256(annotation_path(tmp_path / "cats", "train").read_bytes()).hexdigest()
    assert digest == HARD_TRAIN_JSON_SHA256


def test_easy_and_medium_levels(tmp_path):
    """easy: one whole cat per image, solid fur, no background shapes; medium in between."""
    counts = {}
    for level in ("easy", "medium", "hard"):
        root = tmp_path / level
        S.generate_dataset(root, n_train=40, n_val=0, n_test=0, size=SIZE, seed=5, difficulty=level)
        data = load(root, "train")
        kp = keypoint_array(data)
        counts[level] = dict(cats=len(data["annotations"]), cut=int((kp[:, :, 2] == 0).any(axis=1).sum()))
        if level == "easy":
            assert counts[level] == dict(cats=40, cut=0)  # one cat each, every keypoint inside
            rng = S.image_rng(5, "train", 1)
            assert S.sample_cat(rng, SIZE, SIZE, patterns=S.DIFFICULTIES["easy"]["patterns"]).look["pattern"] == "solid"
    assert counts["easy"]["cats"] <= counts["medium"]["cats"] <= counts["hard"]["cats"]
    assert counts["hard"]["cats"] > 40 and counts["hard"]["cut"] > 0
    with pytest.raises(CatposeError, match="difficulty must be one of"):
        S.generate_dataset(tmp_path / "x", n_train=1, n_val=0, n_test=0, size=SIZE, difficulty="trivial")
    assert not (tmp_path / "x").exists()


def test_cached_default_data_names_its_difficulty(tmp_path):
    from catpose_lib.data.default_data import synthetic_cats

    hard = synthetic_cats(n_train=2, n_val=1, n_test=1, size=SIZE, seed=2, cache_dir=tmp_path)
    easy = synthetic_cats(n_train=2, n_val=1, n_test=1, size=SIZE, seed=2, difficulty="easy", cache_dir=tmp_path)
    assert hard.name == "synth_cats-2-1-1-128px-seed2" and easy.name == hard.name + "-easy"
    done = cli(tmp_path / "c", "--train", 2, "--val", 1, "--test", 0, "--size", SIZE, "--difficulty", "easy")
    assert done.returncode == 0 and "easy" in done.stdout, done.stderr
