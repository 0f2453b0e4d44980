"""The model zoo (pack a finished run, resolve a name to a checkpoint) and `predict` on a
user's own photos: results, overlays with their key, bad files reported and skipped."""
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch

from tests.conftest import QUICK, REPO, SHARED


# ---------------------------------------------------------------- fixtures: one tiny model, packed
@pytest.fixture(scope="module")
def tiny_run(tiny_cats, tmp_path_factory):
    """ResNet-18 at 64 px, 1 epoch on the tiny synthetic cats (17 keypoints): its result JSON."""
    from catpose_lib.workers.blocks import run_baseline

    results = tmp_path_factory.mktemp("results")
    (r,) = run_baseline(tiny_cats, results, shared_knobs=QUICK, budget="0.05", device="cpu",
                        num_workers=0, verbose=False)
    assert r["status"] == "finished" and r["max_epochs"] == 1, r.get("message")
    return results / "baseline" / "00_s0.json"


@pytest.fixture(scope="module")
def tiny_zoo(tiny_run, tiny_cats, tmp_path_factory):
    """A zoo folder holding the tiny run packed as 'tiny' (its blind test: tiny_cats' test boxes)."""
    from catpose_lib.zoo.pack_run import pack_run

    root = tmp_path_factory.mktemp("zoo")
    record = pack_run(tiny_run, "tiny", zoo_root=root, test_root=tiny_cats, device="cpu", verbose=False)
    return root, record


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CATPOSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "zoo"


def photos(tiny_cats, n=3):
    return sorted((tiny_cats / "images").glob("*.jpg"))[:n]


def cli(*args):
    from catpose_lib.cli import main

    return main([str(a) for a in args])


# ---------------------------------------------------------------- packing
def test_packing_keeps_weights_within_half_an_int8_step_and_fp16_exactly(tmp_path):
    from catpose_lib.zoo.packing import pack_state, part_files, read_packed, state_sha256

    torch.manual_seed(0)
    state = {"conv.weight": torch.randn(32, 16, 3, 3), "bn.running_mean": torch.randn(32),
             "bn.num_batches_tracked": torch.tensor(7)}
    parts = pack_state(state, tmp_path / "w", part_bytes=4000)
    assert len(parts) > 1 and all(Path(p).stat().st_size <= 4000 for p in parts)
    assert [str(p) for p in part_files(tmp_path / "w")] == parts
    back = read_packed(tmp_path / "w")["state_dict"]
    w, v = state["conv.weight"], back["conv.weight"]
    step = w.abs().reshape(32, -1).amax(1) / 127
    assert ((w - v).abs().reshape(32, -1) <= step[:, None] / 2 + 1e-7).all() and not torch.equal(w, v)
    assert torch.equal(back["bn.running_mean"], state["bn.running_mean"])  # 1-d: kept fp32
    assert back["bn.num_batches_tracked"].item() == 7
    assert state_sha256(back) != state_sha256(state)
    pack_state(state, tmp_path / "h", part_bytes=10**6, mode="fp16")
    half = read_packed(tmp_path / "h")["state_dict"]
    assert half["conv.weight"].dtype == torch.float32 and torch.equal(half["conv.weight"], w.half().float())
    assert state_sha256(half) == state_sha256(read_packed(tmp_path / "h")["state_dict"])  # deterministic


def test_scripts_pack_checkpoint_is_the_package_packer():
    sys.path.insert(0, str(REPO / "scripts"))
    import pack_checkpoint

    from catpose_lib.zoo import packing

    assert pack_checkpoint.pack is packing.pack and pack_checkpoint.unpack is packing.unpack


# ---------------------------------------------------------------- pack a run into the zoo
def test_pack_writes_a_zoo_model_with_its_provenance(tiny_zoo, tiny_run, tiny_cats):
    from catpose_lib.recipe.start import sha256_file
    from catpose_lib.zoo import MAX_FILE_BYTES, find, names

    root, record = tiny_zoo
    folder = root / "tiny"
    assert names(root) == ["tiny"]
    assert sorted(p.name for p in folder.iterdir()) == ["PROVENANCE.json", "config.py",
                                                         "result_keypoints_test.json", "weights.part0"]
    assert all(p.stat().st_size <= MAX_FILE_BYTES for p in folder.iterdir())
    prov = find(folder).provenance
    assert prov == json.loads(json.dumps(record))
    for part, info in prov["weights"]["parts"].items():
        assert sha256_file(folder / part) == info["sha256"]
    val = prov["val"]
    assert 0 <= val["AP_packed"] <= 1 and val["AP_loss"] == pytest.approx(val["AP_unpacked"] - val["AP_packed"])
    assert val["AP_loss"] <= 0.01 and val["warning"] is None and val["data_matches_run"]
    result = json.loads(tiny_run.read_text())
    assert prov["source_checkpoint"]["sha256"] == sha256_file(result["checkpoint"])
    assert prov["run"]["key"] == result["key"] and prov["run"]["knobs"] == result["knobs"]
    assert "run baseline" in prov["rebuild"]["train"] and "--name tiny" in prov["rebuild"]["pack"]
    blind = prov["blind_test"]
    test_info = json.loads((tiny_cats / "annotations" / "test_info.json").read_text())
    assert blind["instances"] == len(test_info["annotations"])
    assert blind["sha256"] == sha256_file(folder / "result_keypoints_test.json")
    assert prov["config"]["sha256"] == sha256_file(folder / "config.py")


def test_the_zoo_config_builds_the_model_with_the_schemes_keypoint_order(tiny_zoo, cache):
    """config.py (the run's portable config), not the knobs, makes the model: its keypoint names
    and flip pairs are the scheme's, in order; no runtime key or path is in it."""
    from catpose_lib.runs.predict import load_model
    from catpose_lib.schemes import load_scheme

    root, _ = tiny_zoo
    text = (root / "tiny" / "config.py").read_text()
    assert "load_from =" not in text and "work_dir =" not in text and "/root/" not in text and "/tmp/" not in text
    model, label = load_model(root / "tiny", device="cpu")
    assert label == "zoo model tiny"
    own, scheme = model.dataset_meta, load_scheme("cats17")
    assert [own["keypoint_id2name"][k] for k in range(17)] == [scheme["keypoint_id2name"][k] for k in range(17)]
    assert own["flip_indices"] == scheme["flip_indices"]
    assert model.cfg.model.backbone.depth == 18 and tuple(model.cfg.codec.input_size) == (64, 64)


def test_resolve_unpacks_once_into_the_cache_and_checks_the_sha256(tiny_zoo, tmp_path, cache):
    from catpose_lib.errors import CatposeError
    from catpose_lib.zoo import resolve
    from catpose_lib.zoo.packing import state_sha256

    root, record = tiny_zoo
    path = Path(resolve("tiny", zoo_root=root))
    assert path.parent == cache and path.is_file()
    state = torch.load(path, weights_only=True)["state_dict"]
    assert state_sha256(state) == record["weights"]["unpacked_state_sha256"]
    stamp = path.stat().st_mtime_ns
    assert resolve(root / "tiny") == str(path) and path.stat().st_mtime_ns == stamp  # not unpacked again
    assert resolve(path) == str(path)  # a checkpoint path is returned as is
    with pytest.raises(CatposeError, match="nope: not a checkpoint file.*known: tiny"):
        resolve("nope", zoo_root=root)
    broken = tmp_path / "broken"
    shutil.copytree(root / "tiny", broken / "tiny")
    with open(broken / "tiny" / "weights.part0", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    with pytest.raises(CatposeError, match=r"weights.part0 is missing or not the file"):
        resolve("tiny", zoo_root=broken, cache=tmp_path / "other-cache")


def test_pack_refuses_a_copy_that_loses_more_than_allowed_and_force_keeps_it(tiny_run, tmp_path):
    from catpose_lib.errors import CatposeError
    from catpose_lib.zoo.pack_run import pack_run

    # max_loss -1: any copy "loses" more (the loss here is >= -1e-6), so the gate must refuse
    with pytest.raises(CatposeError, match="more than -1.*refused"):
        pack_run(tiny_run, "lossy", zoo_root=tmp_path, max_loss=-1, device="cpu", verbose=False)
    assert list(tmp_path.iterdir()) == []  # nothing left behind, not even the staging folder
    record = pack_run(tiny_run, "lossy", zoo_root=tmp_path, max_loss=-1, force=True, mode="fp16",
                      device="cpu", verbose=False)
    assert "more than -1" in record["val"]["warning"] and record["weights"]["mode"] == "fp16"
    assert json.loads((tmp_path / "lossy" / "PROVENANCE.json").read_text())["val"]["warning"]


def test_pack_checks_its_input_before_any_work(tiny_run, tmp_path, capsys):
    bad = json.loads(tiny_run.read_text())
    (tmp_path / "unfinished.json").write_text(json.dumps(dict(bad, status="failed: boom")))
    assert cli("pack", tiny_run, "--name", "Bad Name", "--zoo", tmp_path / "zoo") == 2
    assert "parameter 'name' = 'Bad Name'" in capsys.readouterr().err
    assert cli("pack", tmp_path / "unfinished.json", "--name", "x", "--zoo", tmp_path / "zoo") == 2
    assert "unfinished.json: the run is not finished (status: failed: boom)" in capsys.readouterr().err
    assert cli("pack", tiny_run, "--name", "x", "--zoo", tmp_path / "zoo", "--data", tmp_path / "nodata") == 2
    assert "parameter 'data'" in capsys.readouterr().err
    assert not (tmp_path / "zoo").exists()


def test_the_default_model_is_the_first_of_the_zoo_and_an_empty_zoo_says_so(tiny_zoo, tmp_path, monkeypatch,
                                                                            cache, capsys):
    from PIL import Image

    from catpose_lib import zoo
    from catpose_lib.errors import CatposeError

    monkeypatch.setattr(zoo, "ZOO_ROOT", tmp_path / "empty")
    with pytest.raises(CatposeError, match="holds no model yet: pass --model"):
        zoo.default_name()
    jpg = tmp_path / "cat.jpg"
    Image.new("RGB", (64, 48), (120, 90, 60)).save(jpg)
    assert cli("predict", jpg, "--out", tmp_path / "o") == 2
    assert "holds no model yet" in capsys.readouterr().err
    root, _ = tiny_zoo
    (root / "b_second").mkdir(exist_ok=True)  # not a model: no PROVENANCE.json
    monkeypatch.setattr(zoo, "ZOO_ROOT", root)
    assert zoo.default_name() == "tiny"
    assert cli("predict", jpg, "--out", tmp_path / "o2") == 0


def test_the_wheel_ships_every_file_of_a_zoo_model(tiny_zoo):
    """pyproject's package-data takes each file a zoo model folder holds (a non-editable
    install carries the zoo)."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["catpose_lib"]
    root, _ = tiny_zoo
    for f in (root / "tiny").iterdir():
        assert any(fnmatch.fnmatch(f"zoo/tiny/{f.name}", p) for p in patterns), f.name


# ---------------------------------------------------------------- predict on photos
def test_predict_on_three_photos_writes_results_and_one_overlay_each(tiny_zoo, tiny_cats, tmp_path, cache):
    root, _ = tiny_zoo
    shots = photos(tiny_cats)
    assert cli("predict", *shots, "--model", root / "tiny", "--out", tmp_path / "out") == 0
    records = json.loads((tmp_path / "out" / "result_keypoints.json").read_text())
    assert len(records) == 3 and [r["image_id"] for r in records] == [1, 2, 3]
    assert [r["file_name"] for r in records] == [str(p) for p in shots]
    for r in records:
        assert set(r) == {"image_id", "category_id", "keypoints", "score", "file_name"}
        assert len(r["keypoints"]) == 17 * 3 and 0 <= r["score"] <= 1
    overlays = sorted((tmp_path / "out" / "overlays").glob("*.png"))
    assert [p.name for p in overlays] == [p.with_suffix(".png").name for p in shots]
    assert all(p.stat().st_size > 1000 for p in overlays)
    info = json.loads((tmp_path / "out" / "result_info.json").read_text())
    assert info["model"] == "zoo model tiny" and len(info["keypoints_in_model_order"]) == 17
    assert info["images"] == {"1": str(shots[0]), "2": str(shots[1]), "3": str(shots[2])}


def test_a_whole_photo_is_the_cats_box(tiny_zoo, tiny_cats, cache):
    """No boxes: each photo is one box from (0, 0) to its size, the same as passing that box."""
    from catpose_lib.data.photos import read_photo
    from catpose_lib.runs.predict import load_model, predict_instances

    root, _ = tiny_zoo
    model, _ = load_model(root / "tiny", device="cpu")
    shot = photos(tiny_cats, 1)[0]
    bgr = read_photo(shot)
    (whole, own), = predict_instances(model, bgr, [dict(bbox=[0, 0, bgr.shape[1], bgr.shape[0]])], 1)
    (by_path, _), = predict_instances(model, shot, [dict(bbox=[0, 0, bgr.shape[1], bgr.shape[0]])], 1)
    assert whole == by_path and own.shape == (17, 3)


def test_a_bad_file_among_the_photos_is_named_in_one_line_and_skipped(tiny_zoo, tiny_cats, tmp_path, cache, capsys):
    root, _ = tiny_zoo
    folder = tmp_path / "shots"
    folder.mkdir()
    for p in photos(tiny_cats, 2):
        shutil.copy(p, folder / p.name)
    shutil.copy(photos(tiny_cats, 3)[2], folder / "UPPER.JPEG")  # any case
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not an image")
    (folder / "readme.txt").write_text("not a photo name: not taken from a folder")
    assert cli("predict", folder, tmp_path / "missing.jpg", "--model", root / "tiny", "--out", tmp_path / "out") == 0
    err = capsys.readouterr().err.splitlines()
    assert sorted(err) == sorted([f"error: {folder / 'empty.jpg'}: empty file (0 bytes) (skipped)",
                                  f"error: {folder / 'notes.png'}: not an image (skipped)",
                                  f"error: {tmp_path / 'missing.jpg'}: no such file or folder (skipped)"])
    records = json.loads((tmp_path / "out" / "result_keypoints.json").read_text())
    assert sorted(Path(r["file_name"]).name for r in records) == sorted(
        [p.name for p in photos(tiny_cats, 2)] + ["UPPER.JPEG"])
    assert len(list((tmp_path / "out" / "overlays").glob("*.png"))) == 3
    skipped = json.loads((tmp_path / "out" / "result_info.json").read_text())["skipped"]
    assert sorted(Path(s["file"]).name for s in skipped) == ["empty.jpg", "missing.jpg", "notes.png"]


def test_nothing_to_predict_exits_non_zero_without_loading_a_model(tmp_path, capsys):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "fake.jpg").write_text("<html>")
    # --model names nothing that exists: the bad photos are found before the model is looked at
    assert cli("predict", tmp_path / "empty.jpg", tmp_path / "fake.jpg", "--model", "no-such-model",
               "--out", tmp_path / "out") == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {tmp_path / 'empty.jpg'}: empty file (0 bytes) (skipped)",
                   f"error: {tmp_path / 'fake.jpg'}: not an image (skipped)",
                   "error: nothing could be predicted (2 file(s) skipped)"]


def test_photo_checks_name_size_and_pixel_limits(tmp_path, monkeypatch):
    from PIL import Image

    from catpose_lib.data import photos as ph

    img = tmp_path / "big.png"
    Image.new("RGB", (300, 200)).save(img)
    assert ph.photo_problem(img) is None
    monkeypatch.setattr(ph, "MAX_PIXELS", 50_000)
    assert ph.photo_problem(img) == "too large (300 x 200 = 0 megapixels; at most 0)"
    monkeypatch.setattr(ph, "MAX_BYTES", 10)
    assert ph.photo_problem(img).startswith("too large (0 MB; at most 0 MB)")
    found, problems = ph.collect_photos([tmp_path, tmp_path / "x.gif"])
    assert [p.name for p in found] == [str(img)] and problems == [(str(tmp_path / "x.gif"), "no such file or folder")]


def test_overlay_key_names_left_right_centre_in_the_schemes_colours():
    from catpose_lib.report.drawing import pose_overlay
    from catpose_lib.schemes import load_scheme

    meta = load_scheme("animalpose20")
    rgb = np.full((120, 160, 3), 200, dtype=np.uint8)
    kps = np.zeros((1, 20, 3), dtype=np.float32)
    kps[0, :, 0], kps[0, :, 1], kps[0, :, 2] = np.linspace(10, 150, 20), 60, 0.9
    kps[0, 3] = (500, 60, 0.9)  # off the photo: not drawn, the canvas stays the photo
    fig = pose_overlay(meta, rgb, kps, title="cat.jpg")
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["left", "right", "centre"]
    colours = [tuple(round(c * 255) for c in h.get_color()) for h in legend.legend_handles]
    names = meta["keypoint_name2id"]
    assert colours == [tuple(int(c) for c in meta["keypoint_colors"][names[n]]) for n in ("L_Eye", "R_Eye", "Nose")]
    assert fig.axes[0].get_xlim() == pytest.approx((-0.5, 159.5)) and fig.axes[0].get_title() == "cat.jpg"


# ---------------------------------------------------------------- boxes: a COCO file, a detections list
def test_boxes_of_a_coco_file_give_the_blind_test_records_in_its_order(tiny_zoo, tiny_cats, tmp_path, cache):
    """No photos + --boxes test_info.json: its images, one record per box, in the file's order,
    the same records as the blind-test file (predict_boxes) plus each file name."""
    from catpose_lib.runs.predict import load_model, predict_boxes

    root, _ = tiny_zoo
    ann = tiny_cats / "annotations" / "test_info.json"
    assert cli("predict", "--model", root / "tiny", "--boxes", ann, "--out", tmp_path / "r.json") == 0
    got = json.loads((tmp_path / "r.json").read_text())
    assert not (tmp_path / "overlays").exists()  # a .json output: the results alone
    blind = predict_boxes(load_model(root / "tiny", device="cpu")[0], ann)
    assert [{k: v for k, v in r.items() if k != "file_name"} for r in got] == blind
    names = {im["id"]: im["file_name"] for im in json.loads(ann.read_text())["images"]}
    assert [r["file_name"] for r in got] == [names[r["image_id"]] for r in got]


def test_a_detections_list_gives_one_record_per_box(tiny_zoo, tiny_cats, tmp_path, cache, capsys):
    root, _ = tiny_zoo
    a, b, c = photos(tiny_cats)
    dets = [dict(image_id=1, bbox=[0, 0, 64, 64], score=0.5, category_id=1),
            dict(image_id=1, bbox=[32, 32, 90, 90], score=1.0, category_id=1),
            dict(file_name=c.name, bbox=[10, 10, 100, 100])]
    (tmp_path / "dets.json").write_text(json.dumps(dets))
    assert cli("predict", a, b, c, "--model", root / "tiny", "--boxes", tmp_path / "dets.json",
               "--out", tmp_path / "out") == 0
    assert capsys.readouterr().err.strip() == f"error: {b}: no box for it in {tmp_path / 'dets.json'} (skipped)"
    records = json.loads((tmp_path / "out" / "result_keypoints.json").read_text())
    assert [(r["image_id"], r["file_name"]) for r in records] == [(1, str(a)), (1, str(a)), (3, str(c))]
    assert records[0]["score"] <= 0.5  # the box score scales the instance score
    (tmp_path / "bad.json").write_text(json.dumps([dict(image_id=1, bbox=[0, 0, 0, 5])]))
    assert cli("predict", a, "--model", root / "tiny", "--boxes", tmp_path / "bad.json", "--out", tmp_path / "o") == 2
    assert f"{tmp_path / 'bad.json'}: [0]: bbox [0, 0, 0, 5] has no area" in capsys.readouterr().err


def test_predict_cli_exit_code_in_a_fresh_process(tiny_zoo, tiny_cats, tmp_path):
    """The real command: a zero-byte photo among good ones -> exit 0, the error line on stderr."""
    root, _ = tiny_zoo
    (tmp_path / "zero.jpg").write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "catpose_lib", "predict", *map(str, photos(tiny_cats, 2)),
                           str(tmp_path / "zero.jpg"), "--model", str(root / "tiny"), "--out", str(tmp_path / "out"),
                           "--progress-every", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, CATPOSE_CACHE=str(tmp_path / "cache")))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"error: {tmp_path / 'zero.jpg'}: empty file (0 bytes) (skipped)" in proc.stderr.splitlines()
    assert "[predict] 1/2 photos" in proc.stdout and "2 cat(s) on 2 photo(s)" in proc.stdout


@pytest.mark.shared
def test_three_real_test_photos(tiny_zoo, tmp_path, cache):
    test_images = SHARED / "animalpose_cats_test" / "images"
    if not test_images.is_dir():
        pytest.skip("../shared/datasets/animalpose_cats_test is absent (fresh clone)")
    root, _ = tiny_zoo
    shots = sorted(test_images.glob("*.jpg"))[:3]
    assert cli("predict", *shots, "--model", root / "tiny", "--out", tmp_path / "out") == 0
    records = json.loads((tmp_path / "out" / "result_keypoints.json").read_text())
    assert len(records) == 3 and all(len(r["keypoints"]) == 17 * 3 for r in records)
    assert len(list((tmp_path / "out" / "overlays").glob("*.png"))) == 3


def test_the_shipped_zoo_holds_the_study_final_and_the_best_model_each_packed_within_001():
    """What a fresh clone can run: the study's final model and the best model, every file under
    25 MB, the packed copy within 0.01 val AP of the unpacked one, blind-test predictions for
    every box; `predict` defaults to the best model."""
    from catpose_lib import zoo

    assert {"best", "study-final"} <= set(zoo.names()) and zoo.default_name() == "best"
    for name, no in (("best", 41), ("study-final", 35)):
        model = zoo.find(name)
        prov = model.provenance
        assert prov["run"]["no"] == no and prov["val"]["AP_loss"] <= 0.01
        assert prov["val"]["AP_packed"] >= 0.45, prov["val"]
        assert all(f.stat().st_size <= zoo.MAX_FILE_BYTES for f in model.folder.iterdir())
        blind = json.loads((model.folder / prov["blind_test"]["file"]).read_text())
        assert len(blind) == prov["blind_test"]["instances"] == 223
        assert all(len(r["keypoints"]) == 20 * 3 for r in blind)
