"""The experiment engine: baseline config, the study as data, runs, resume, failures,
results and tables, prediction, metric agreement, weight initialisation."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import QUICK, REPO


# ---------------------------------------------------------------- the baseline, faithfully
def test_baseline_config_matches_the_course(tiny_cats):
    from catpose_lib.recipe.config import build_config

    cfg = build_config(tiny_cats)
    assert cfg.model.type == "TopdownPoseEstimator"
    assert cfg.model.backbone.type == "ResNet" and cfg.model.backbone.depth == 50
    assert cfg.model.backbone.init_cfg is None  # nothing can be downloaded here
    head = cfg.model.head
    assert head.type == "HeatmapHead" and head.out_channels == 17
    assert tuple(head.deconv_out_channels) == (256, 256, 256)
    assert head.loss.type == "KeypointMSELoss" and head.loss.use_target_weight
    codec = head.decoder
    assert codec.type == "MSRAHeatmap" and tuple(codec.input_size) == (128, 128)
    assert tuple(codec.heatmap_size) == (32, 32) and codec.sigma == 1
    assert cfg.optim_wrapper.optimizer.type == "Adam" and cfg.optim_wrapper.optimizer.lr == 1e-5
    warmup, steps = cfg.param_scheduler
    assert warmup.type == "LinearLR" and warmup.end == 10 and warmup.start_factor == 0.001
    assert not warmup.by_epoch
    assert steps.type == "MultiStepLR" and list(steps.milestones) == [10, 15] and steps.gamma == 0.1
    assert cfg.train_cfg.max_epochs == 20 and cfg.train_cfg.val_interval == 1
    assert cfg.train_dataloader.batch_size == 32
    test_cfg = cfg.model.test_cfg
    assert test_cfg.flip_test and test_cfg.flip_mode == "heatmap" and test_cfg.shift_heatmap
    assert cfg.default_hooks.checkpoint.save_best == "coco/AP"
    types = [t["type"] for t in cfg.train_dataloader.dataset.pipeline]
    assert types == ["LoadImage", "GetBBoxCenterScale", "RandomFlip", "RandomBBoxTransform",
                     "TopdownAffine", "GenerateTarget", "PackPoseInputs"]
    flip, bbox = cfg.train_dataloader.dataset.pipeline[2:4]
    assert flip.prob == 0.5
    assert tuple(bbox.scale_factor) == (0.8, 1.2) and bbox.rotate_factor == 20 and bbox.shift_prob == 0
    assert cfg.val_evaluator.type == "CocoMetric"
    assert cfg.val_evaluator.ann_file.endswith("annotations/val.json")
    assert cfg.train_dataloader.dataset.metainfo.from_file.endswith("cats17.py")


def test_study_has_all_reference_runs():
    from catpose_lib.recipe.experiments import BLOCKS, STUDY, block_experiments

    assert [e.no for e in STUDY] == list(range(1, 37))
    counts = {b: len(block_experiments(b)) for b in BLOCKS}
    assert counts == dict(augmentation=5, epochs=3, lr_batch=12, resolution=6, backbone=7, optimizer=3)
    beyond = [e.no for e in STUDY if e.ref_no == -1]  # not in the reference study
    assert beyond == [33, 34, 35, 36]
    by_no = {e.no: e for e in STUDY}
    assert by_no[14].knobs == dict(epochs=150, lr=1e-3, batch_size=32)
    assert by_no[3].knobs == dict(halfbody_prob=0.3, shift_factor=0.15, shift_prob=0.3)
    assert by_no[29].knobs == dict(backbone="hrnet_w32", batch_size=48) and by_no[29].ref_no == 28
    assert by_no[32].knobs == dict(optimizer="Adamax") and by_no[32].ref_no == 31


def test_knobs_are_mmpose_values_and_set_nothing_else(tiny_cats):
    from catpose_lib.recipe.config import build_config

    def bbox(cfg):
        return next(t for t in cfg.train_dataloader.dataset.pipeline if t["type"] == "RandomBBoxTransform")

    base = bbox(build_config(tiny_cats, {}))
    shifted = bbox(build_config(tiny_cats, dict(shift_factor=0.2)))
    assert shifted["shift_factor"] == 0.2 and shifted["shift_prob"] == base["shift_prob"] == 0  # no hidden prob
    assert bbox(build_config(tiny_cats, dict(rotate_factor=30)))["rotate_factor"] == 30  # 1.x value, as given
    assert tuple(bbox(build_config(tiny_cats, dict(scale_factor=(0.7, 1.3))))["scale_factor"]) == (0.7, 1.3)
    with pytest.raises(ValueError, match="scale_factor is MMPose 1.x's \\(min, max\\)"):
        build_config(tiny_cats, dict(scale_factor=0.3))
    cfg = build_config(tiny_cats, dict(batch_size=8))
    assert cfg.train_dataloader.batch_size == 8 and cfg.auto_scale_lr.base_batch_size == 32


def test_overrides_resolve_to_mmpose_config(tiny_cats):
    from catpose_lib.recipe.budget import apply_budget
    from catpose_lib.recipe.config import build_config
    from catpose_lib.recipe.experiments import get_experiment

    cfg = build_config(tiny_cats, get_experiment(26).knobs)
    assert tuple(cfg.model.head.decoder.input_size) == (256, 256) and cfg.model.head.decoder.sigma == 2
    types = [t["type"] for t in cfg.train_dataloader.dataset.pipeline]
    assert "RandomHalfBody" in types and "PhotometricDistortion" in types
    bbox = next(t for t in cfg.train_dataloader.dataset.pipeline if t["type"] == "RandomBBoxTransform")
    assert bbox["rotate_factor"] == 80 and tuple(bbox["scale_factor"]) == (0.5, 1.5) and bbox["shift_factor"] == 0.15
    cfg = build_config(tiny_cats, get_experiment(8).knobs)
    assert cfg.train_cfg.max_epochs == 150 and list(cfg.param_scheduler[1].milestones) == [75, 112]
    apply_budget(cfg, "0.1")
    assert cfg.train_cfg.max_epochs == 15 and list(cfg.param_scheduler[1].milestones) == [8, 11]
    assert cfg.param_scheduler[0].end == 2  # mmengine's LinearLR never ends with a 1-iteration span
    cfg = build_config(tiny_cats, get_experiment(27).knobs)
    assert cfg.model.backbone.type == "HRNet" and cfg.model.head.in_channels == 32
    cfg = build_config(tiny_cats, get_experiment(33).knobs)
    assert cfg.optim_wrapper.optimizer == dict(type="SGD", lr=1e-5, momentum=0.9)
    with pytest.raises(ValueError, match="unknown experiment knob"):
        build_config(tiny_cats, dict(learning_rate=1))


def test_every_study_config_builds_a_model(tiny_cats):
    """Each of the 36 configs builds through MMPose's registries and runs a forward pass."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from catpose_lib.recipe.config import build_config
    from catpose_lib.recipe.experiments import STUDY

    init_default_scope("mmpose")
    seen = set()
    for exp in STUDY:
        cfg = build_config(tiny_cats, exp.knobs)
        key = (cfg.model.backbone.type, tuple(cfg.model.head.decoder.input_size))
        if key in seen:
            continue
        seen.add(key)
        model = MODELS.build(cfg.model).eval()
        w, h = cfg.model.head.decoder.input_size
        with torch.no_grad():
            out = model(torch.zeros(1, 3, h, w), None, mode="tensor")
        assert tuple(out.shape[-2:]) == tuple(cfg.model.head.decoder.heatmap_size)[::-1]
        assert out.shape[1] == 17
    assert len(seen) == 5  # resnet x {128, 192, 256}, hrnet and efficientnet-lite (knobs only, no base)


# ---------------------------------------------------------------- runs
def _run(tiny_cats, results, **kw):
    from catpose_lib.workers.blocks import run_block

    kw.setdefault("shared_knobs", QUICK)
    kw.setdefault("budget", "smoke")
    kw.setdefault("base", "baseline")
    kw.setdefault("num_workers", 0)
    kw.setdefault("verbose", False)
    return run_block(kw.pop("block", "lr_batch"), tiny_cats, results, **kw)


def test_resolved_config_beside_the_result_and_config_command(tiny_cats, tmp_path):
    """A run leaves its resolved config beside its JSON; `config N` prints that config (same
    run key) without training."""
    from mmengine.config import Config

    (r,) = _run(tiny_cats, tmp_path, experiments=[15])
    path = tmp_path / "lr_batch" / "15_s0.py"
    text = path.read_text()
    cfg = Config.fromfile(str(path))
    assert cfg.optim_wrapper.optimizer.lr == 5e-4 and cfg.train_dataloader.batch_size == 32
    assert cfg.train_cfg.max_epochs == 2 and cfg.model.backbone.depth == 18
    # portable: no runtime keys, no absolute paths; headed by the knob layers
    assert "work_dir" not in cfg and "load_from" not in cfg and str(tiny_cats) not in text and "/root/" not in text
    assert f"key {r['key']}" in text.splitlines()[0]
    assert "#   run    15: {'epochs': 150, 'lr': 0.0005, 'batch_size': 32}" in text
    assert "#   shared (every run): {'resnet_depth': 18, 'input_size': 64, 'heatmap_size': 16}" in text
    cmd = [sys.executable, "-m", "catpose_lib", "config", "15", "--data", str(tiny_cats),
           "--budget", "smoke", "--workers", "0", "--set", "resnet_depth=18", "input_size=64", "heatmap_size=16"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == text  # the same file the run left
    diff = subprocess.run(cmd + ["--diff"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert diff.returncode == 0, diff.stderr[-2000:]
    changed = [line for line in diff.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert any("lr=0.0005" in line.replace(" ", "") for line in changed if line.startswith("+"))
    assert len(changed) < 30  # the run's few knobs, not the whole config
    assert not list(tmp_path.glob("lr_batch/runs/*/epoch_*.pth"))  # config trained nothing new
    assert len(list((tmp_path / "lr_batch" / "runs").iterdir())) == 1


def test_progress_says_run_i_of_n_and_time_left(tiny_cats, tmp_path, capfd):
    import re

    _run(tiny_cats, tmp_path, experiments=[10, 15], verbose=True)
    out = capfd.readouterr().out
    assert re.search(r"\[lr_batch 10_s0, run 1/2\] epoch 2/2 .*run: ~\d+\.\d min left; block: ~\d+\.\d min left", out)
    assert re.search(r"\[lr_batch\] 1/2 runs done; ~\d+\.\d min left for the block", out)
    assert "[lr_batch 15_s0, run 2/2] epoch 1/2" in out


def test_smoke_run_result_then_skip(tiny_cats, tmp_path):
    from catpose_lib.runs.results import load_block_results, study_table

    results = _run(tiny_cats, tmp_path, experiments=[10])
    (r,) = results
    assert r["status"] == "finished", r.get("message")
    assert len(r["history"]) == 2 and [h["epoch"] for h in r["history"]] == [1, 2]
    for h in r["history"]:
        assert 0.0 <= h["AP"] <= 1.0 and h["train_loss"] > 0
    # the lr used in epoch 1 is the base lr (warm-up over), never stuck at the warm-up factor
    assert r["history"][0]["lr"] == pytest.approx(1e-4), r["history"]
    assert r["final"]["epoch"] == 2 and r["best"]["AP"] == max(h["AP"] for h in r["history"])
    assert r["base"]["name"] == "baseline" and r["budget"] == "smoke"
    assert r["provenance"]["packages"]["mmpose"] == "1.3.2" and r["provenance"]["device"] == "cpu"
    # the engine's defaults: bf16 autocast where the CPU has it, channels-last
    from catpose_lib.runs.precision import cpu_bf16_supported

    assert r["speed"]["precision"] == ("bf16" if cpu_bf16_supported() else "fp32")
    assert r["speed"]["channels_last"] is True
    assert Path(r["checkpoint"]).exists()
    saved = json.loads((tmp_path / "lr_batch" / "10_s0.json").read_text())
    assert saved["key"] == r["key"] and saved["status"] == "finished"
    # the best epoch's val predictions beside the result: one per val cat, scoring the best AP
    from catpose_lib.report.keypoint_eval import oks_ap
    from catpose_lib.schemes import load_scheme

    preds = json.loads((tmp_path / "lr_batch" / "10_s0.val.json").read_text())
    val = json.loads((tiny_cats / "annotations" / "val.json").read_text())
    assert saved["val_predictions"] == "10_s0.val.json" and len(preds) == len(val["annotations"])
    assert oks_ap(tiny_cats / "annotations" / "val.json", preds, load_scheme("cats17")["sigmas"]) == \
        pytest.approx(r["best"]["AP"], abs=1e-6)
    assert (tmp_path / "lr_batch.csv").read_text().count("\n") == 2
    again = _run(tiny_cats, tmp_path, experiments=[10])
    assert again[0].get("skipped") and again[0]["key"] == r["key"]
    table = study_table(load_block_results(tmp_path, "lr_batch"))
    assert list(table.columns[:5]) == ["No.", "Policy", "Parameter", "Final mAP (epoch: mAP)",
                                       "Best mAP (epoch: mAP)"]
    assert table.iloc[0]["Final mAP (epoch: mAP)"] == f"2: {r['final']['AP']:.4f}"


def test_a_run_with_a_finished_twins_key_takes_its_result_untrained(tiny_cats, tmp_path):
    """Under a budget two experiments can be the same trained run (e.g. 200 and 175 epochs
    both rounding to 2): the second takes the first's numbers, marked, at no compute, and
    nothing else is lost; a run of another key still trains."""
    from catpose_lib.runs.results import compute_frame, compute_seconds, load_block_results, study_table

    first, twin = _run(tiny_cats, tmp_path, experiments=[15, 19])
    assert first["status"] == "finished" and "same_as" not in first
    assert twin["key"] == first["key"] and twin["same_as"] == "lr_batch 15_s0"
    assert twin["no"] == 19 and twin["parameter"] == "lr 5e-4, bs 32, 200 epochs"
    assert twin["history"] == first["history"] and twin["best"] == first["best"]
    assert compute_seconds(twin) == 0 and compute_seconds(first) > 0
    spent = compute_frame([first, twin]).iloc[0]
    assert (spent["runs"], spent["epochs"], spent["seconds"]) == (1, 2, compute_seconds(first))
    assert twin["work_dir"] == first["work_dir"]  # no second work dir was trained
    assert not (tmp_path / "lr_batch" / "runs" / f"19_s0-{twin['key']}").exists()
    saved = json.loads((tmp_path / "lr_batch" / "19_s0.json").read_text())
    assert saved["same_as"] == "lr_batch 15_s0" and saved["best"] == first["best"]
    assert (tmp_path / "lr_batch" / "19_s0.py").exists()
    assert [r["no"] for r in load_block_results(tmp_path, "lr_batch")] == [15, 19]
    table = study_table(load_block_results(tmp_path, "lr_batch")).set_index("No.")
    assert table.loc[19, "Parameter"] == "lr 5e-4, bs 32, 200 epochs (same run as 15 under this budget)"
    assert table.loc[19, "Best mAP (epoch: mAP)"] == table.loc[15, "Best mAP (epoch: mAP)"]
    again = _run(tiny_cats, tmp_path, experiments=[19])
    assert again[0].get("skipped") and again[0]["same_as"] == "lr_batch 15_s0"
    (other,) = _run(tiny_cats, tmp_path, experiments=[16])  # bs 64: another key, trained
    assert other["key"] != first["key"] and "same_as" not in other and compute_seconds(other) > 0


def test_lr_1e3_ends_as_not_converge_and_table_shows_it(tiny_cats, tmp_path):
    from catpose_lib.runs.results import load_block_results, study_table

    (r,) = _run(tiny_cats, tmp_path, experiments=[14], shared_knobs=dict(QUICK, lr=1e3))
    assert r["status"] == "not converge", (r["status"], r.get("message"))
    table = study_table(load_block_results(tmp_path, "lr_batch"))
    assert table.iloc[0]["Best mAP (epoch: mAP)"] == "not converge"


def test_cuda_oom_is_a_status_and_the_sweep_goes_on(tiny_cats, tmp_path, monkeypatch):
    from mmengine.runner import Runner

    real_train = Runner.train
    calls = []

    def train_once_oom(self):
        calls.append(1)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_train(self)

    monkeypatch.setattr(Runner, "train", train_once_oom)
    first, second = _run(tiny_cats, tmp_path, experiments=[9, 10])
    assert first["status"] == "CUDA out of memory"
    assert second["status"] == "finished" and len(second["history"]) == 2


def test_killed_run_resumes_to_the_same_epochs(tiny_cats, tmp_path):
    """SIGKILL a real training process mid-run, run again: it resumes and finishes."""
    cmd = [sys.executable, "-m", "catpose_lib", "run", "lr_batch", "--data", str(tiny_cats),
           "--results", str(tmp_path), "--experiments", "10", "--budget", "0.02", "--base", "baseline",
           "--workers", "0", "--set", "resnet_depth=18", "--set", "input_size=64",
           "--set", "heatmap_size=16"]
    # 150 epochs x 0.02 = 3 epochs; the killed worker's trial is dead after 2 s without a heartbeat
    env = dict(os.environ, CATPOSE_GRACE_S="2", CATPOSE_WAIT_POLL_S="1")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)
    runs = tmp_path / "lr_batch" / "runs"
    deadline = time.time() + 300
    while time.time() < deadline and not list(runs.glob("*/last_checkpoint")):
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "lr_batch" / "10_s0.json").exists()
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "taking over from worker" in out.stdout
    r = json.loads((tmp_path / "lr_batch" / "10_s0.json").read_text())
    assert r["status"] == "finished" and r["resumed"] is True
    assert r["max_epochs"] == 3 and [h["epoch"] for h in r["history"]] == [1, 2, 3]
    assert all(h["train_loss"] and h["train_loss"] > 0 for h in r["history"]), r["history"]


def test_run_killed_before_its_last_validation_resumes_with_that_validation(tiny_cats, tmp_path,
                                                                            kill_at_second_validation):
    """Deterministic form of the kill window: epoch 2's checkpoint is saved, its validation
    never ran.  The rerun resumes at epoch 2 = max_epochs, trains nothing, validates epoch 2
    (with the CheckpointHook ready, so best-checkpoint saving works) and keeps epoch 2's loss."""
    from catpose_lib.runs.hooks import read_history

    with pytest.raises(KeyboardInterrupt):
        _run(tiny_cats, tmp_path, experiments=[10])
    (work_dir,) = (tmp_path / "lr_batch" / "runs").iterdir()
    assert (work_dir / "last_checkpoint").read_text().strip().endswith("epoch_2.pth")
    assert [h["epoch"] for h in read_history(work_dir)] == [1]
    kill_at_second_validation()  # undone
    (r,) = _run(tiny_cats, tmp_path, experiments=[10])
    assert r["status"] == "finished" and r["resumed"] is True, r.get("message")
    assert [h["epoch"] for h in r["history"]] == [1, 2]
    assert r["history"][1]["train_loss"] > 0 and r["history"][1]["train_seconds"] > 0
    assert r["final"]["epoch"] == 2 and r["checkpoint"] and Path(r["checkpoint"]).exists()


def test_best_base_comes_from_previous_block(tiny_cats, tmp_path):
    from catpose_lib.errors import CatposeError
    from catpose_lib.workers.blocks import resolve_base

    with pytest.raises(CatposeError, match="previous block 'lr_batch'"):
        resolve_base("resolution", "best", tmp_path)
    _run(tiny_cats, tmp_path, experiments=[10, 15])
    base = resolve_base("resolution", "best", tmp_path)
    assert base["name"] in ("10 (lr_batch)", "15 (lr_batch)")
    # the base is the winner's own knobs only: the protocol (QUICK, given to every run) does not leak
    assert base["knobs"]["epochs"] == 150 and "resnet_depth" not in base["knobs"]
    assert base["no"] in (10, 15) and base["block"] == "lr_batch" and len(base["runs"]) == 1
    (r,) = _run(tiny_cats, tmp_path, block="resolution", experiments=[22], base="best")
    assert r["base"]["name"] == base["name"] and r["knobs"]["input_size"] == 64  # QUICK on top
    assert r["knobs"]["lr"] in (1e-4, 5e-4)


# ---------------------------------------------------------------- prediction and metric
@pytest.fixture(scope="module")
def trained_run(tiny_cats, tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    (r,) = _run(tiny_cats, results, experiments=[15], budget="0.02")
    assert r["status"] == "finished", r.get("message")
    return r


def test_predict_writes_coco_results_for_test_boxes(tiny_cats, trained_run, tmp_path):
    out = tmp_path / "result_keypoints.json"
    proc = subprocess.run([sys.executable, "-m", "catpose_lib", "predict", trained_run["work_dir"],
                           "--ann", str(tiny_cats / "annotations" / "test_info.json"), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = json.loads(out.read_text())
    test_info = json.loads((tiny_cats / "annotations" / "test_info.json").read_text())
    assert {r["image_id"] for r in records} == {a["image_id"] for a in test_info["annotations"]}
    assert len(records) == len(test_info["annotations"])
    for r in records:
        assert set(r) == {"image_id", "category_id", "keypoints", "score", "file_name"}
        assert len(r["keypoints"]) == 17 * 3 and r["score"] >= 0


def test_predictions_follow_the_keypoint_order_of_the_test_file(tiny_cats, trained_run, tmp_path):
    """A test file whose category lists the keypoints in another order (a blind Animal-Pose
    test set lists them in the raw order) gets each prediction in that order, by name."""
    from catpose_lib.errors import DataError
    from catpose_lib.runs.predict import build_model, predict_boxes

    model = build_model(trained_run)
    info = json.loads((tiny_cats / "annotations" / "test_info.json").read_text())
    names = info["categories"][0]["keypoints"]
    assert len(names) == 17
    own = predict_boxes(model, tiny_cats / "annotations" / "test_info.json")
    info["categories"][0]["keypoints"] = names[::-1]
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "test_info.json").write_text(json.dumps(info))
    (tmp_path / "images").symlink_to(tiny_cats / "images")
    flipped = predict_boxes(model, tmp_path / "annotations" / "test_info.json")
    assert len(flipped) == len(own)
    for a, b in zip(own, flipped):
        triples = [a["keypoints"][3 * k:3 * k + 3] for k in range(17)]
        assert b["keypoints"] == [v for t in triples[::-1] for v in t] and b["score"] == pytest.approx(a["score"])
    info["categories"][0]["keypoints"] = names[:-1] + ["tail_tip"]
    (tmp_path / "annotations" / "test_info.json").write_text(json.dumps(info))
    with pytest.raises(DataError, match=r"test_info.json.*categories\[0\].*unknown: \['tail_tip'\]"):
        predict_boxes(model, tmp_path / "annotations" / "test_info.json")


def test_raw_animalpose_names_map_onto_the_animalpose20_outputs():
    from catpose_lib.data.animalpose import RAW_TO_MMPOSE
    from catpose_lib.runs.predict import output_order
    from catpose_lib.schemes import load_scheme

    model = [load_scheme("animalpose20")["keypoint_id2name"][k] for k in range(20)]
    raw = ["left_eye", "right_eye", "nose", "left_ear", "right_ear", "left_front_elbow", "right_front_elbow",
           "left_back_elbow", "right_back_elbow", "left_front_knee", "right_front_knee", "left_back_knee",
           "right_back_knee", "left_front_paw", "right_front_paw", "left_back_paw", "right_back_paw",
           "throat", "withers", "tailbase"]  # the order of ../shared/datasets/animalpose_cats_test
    order = output_order(raw, model, "test_info.json")
    assert [model[k] for k in order] == [RAW_TO_MMPOSE[n] for n in raw]
    assert order[:3] == [0, 1, 4] and order[-1] == 6  # nose is MMPose's 5th, tailbase its 7th
    assert output_order(model, model, "val.json") == list(range(20))


def test_cocometric_equals_cocoeval_directly(tmp_path):
    """CocoMetric's AP equals xtcocotools' COCOeval run on the same predictions, at an AP far
    from 0 and 1: predictions are the ground truth moved by a seeded error that grows from
    instance to instance, so OKS spans the range."""
    import numpy as np
    from mmpose.evaluation.metrics import CocoMetric
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    from catpose_lib.data.synthetic import generate_dataset
    from catpose_lib.schemes import load_scheme

    generate_dataset(tmp_path / "cats", n_train=1, n_val=24, n_test=0, size=128, seed=3)
    root = tmp_path / "cats"
    val = Path(root) / "annotations" / "val.json"
    coco = json.loads(val.read_text())
    rng = np.random.default_rng(0)
    records = []
    for i, ann in enumerate(coco["annotations"]):
        kp = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
        size = np.sqrt(ann["bbox"][2] * ann["bbox"][3])
        kp[:, :2] += rng.normal(0, 0.002 + 0.05 * i / len(coco["annotations"]), kp[:, :2].shape) * size
        kp[:, 2] = rng.uniform(0.5, 1.0, len(kp))
        records.append(dict(image_id=ann["image_id"], ann_id=ann["id"], category_id=1,
                            keypoints=kp.reshape(-1).tolist(), score=float(kp[:, 2].mean())))
    pred_file = tmp_path / "val_preds.json"
    pred_file.write_text(json.dumps(records))
    gt = COCO(str(val))
    ev = COCOeval(gt, gt.loadRes(str(pred_file)), "keypoints", np.array(load_scheme("cats17")["sigmas"]),
                  use_area=True)
    ev.params.useSegm = None
    ev.evaluate(), ev.accumulate(), ev.summarize()
    direct_ap = float(ev.stats[0])

    # same predictions on both sides: no OKS-NMS (COCOeval has none), CocoMetric's rescoring off
    metric = CocoMetric(ann_file=str(val), outfile_prefix=str(tmp_path / "m"), nms_mode="none", score_mode="bbox")
    metric.dataset_meta = load_scheme("cats17")
    for rec in records:
        kpts = np.array(rec["keypoints"]).reshape(-1, 3)
        metric.process([], [dict(
            id=rec["ann_id"], img_id=rec["image_id"], category_id=1,  # id: one per instance
            pred_instances=dict(keypoints=kpts[None, :, :2], keypoint_scores=kpts[None, :, 2],
                                bbox_scores=np.array([rec["score"]])),
            gt_instances=dict(), raw_ann_info=[])])
    ap = metric.compute_metrics(metric.results)["AP"]
    assert 0.2 < direct_ap < 0.95
    assert ap == pytest.approx(direct_ap, abs=1e-9)


# ---------------------------------------------------------------- weight initialisation
def test_pretrained_local_checkpoint_changes_backbone(tiny_cats, tmp_path):
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from catpose_lib.compat import checkpoint_loading
    from catpose_lib.recipe.config import build_config

    checkpoint_loading.install()
    init_default_scope("mmpose")
    torch.manual_seed(1)
    donor = MODELS.build(build_config(tiny_cats, QUICK).model).backbone
    weights = tmp_path / "resnet18_local.pth"
    torch.save(donor.state_dict(), weights)  # a plain state dict, like torchvision's files

    torch.manual_seed(2)
    plain = MODELS.build(build_config(tiny_cats, QUICK).model)
    plain.init_weights()
    torch.manual_seed(2)
    model = MODELS.build(build_config(tiny_cats, dict(QUICK, pretrained=str(weights))).model)
    model.init_weights()
    key = "conv1.weight"
    assert not torch.equal(plain.backbone.state_dict()[key], model.backbone.state_dict()[key])
    assert torch.equal(model.backbone.state_dict()[key], donor.state_dict()[key])


def test_transfer_from_an_earlier_run(tiny_cats, trained_run, tmp_path):
    """`init` starts a run from a previous run's checkpoint (trained on synthetic cats; a
    catpose run folder's file, so it loads as our own), recorded by sha256."""
    from catpose_lib.recipe.start import sha256_file

    (r,) = _run(tiny_cats, tmp_path, experiments=[10], shared_knobs=dict(QUICK, lr=1e-12),
                start=trained_run["checkpoint"])
    assert r["status"] == "finished", r.get("message")
    assert r["start"]["sha256"] == sha256_file(trained_run["checkpoint"])
    donor = torch.load(trained_run["checkpoint"], weights_only=False)["state_dict"]
    after = torch.load(r["checkpoint"], weights_only=False)["state_dict"]
    for key in ("backbone.conv1.weight", "head.final_layer.weight"):
        assert torch.allclose(donor[key], after[key], atol=1e-6), key


def _recorded(results, block, no, seed, ap, experiment_knobs=None, base=None):
    """A finished run's result JSON as run_one writes it (the fields tables and bases read)."""
    from catpose_lib.runs.results import result_path, write_result

    write_result(result_path(results, block, no, seed), dict(
        no=no, seed=seed, block=block, policy=block, parameter=f"run {no}", status="finished",
        base=base or dict(name="baseline", no=0, block="baseline", knobs={}),
        experiment_knobs=experiment_knobs or {}, final=dict(epoch=3, AP=ap), best=dict(epoch=3, AP=ap),
        history=[], wall_seconds=1.0, samples_per_s=1.0, peak_memory_mb=1.0, provenance=dict(device="cpu"),
        budget="0.03", key=f"k{no}{seed}"))


def test_a_block_winner_that_loses_to_its_base_is_not_carried_on(tmp_path):
    """base=best is the best known recipe: augmentation's winner (0.14) lost to the baseline
    (0.15), so block 02 starts from the baseline; epochs' winner (0.20) wins and is carried on."""
    from catpose_lib.report.final_report import study_path
    from catpose_lib.workers.blocks import resolve_base, study_walk

    for seed in (0, 1, 2):
        _recorded(tmp_path, "baseline", 0, seed, 0.15 + 0.001 * seed)
    _recorded(tmp_path, "augmentation", 1, 0, 0.14, dict(half_body=True))
    _recorded(tmp_path, "augmentation", 2, 0, 0.13, dict(shift=0.15))
    base = resolve_base("epochs", "best", tmp_path)
    assert base["name"] == "baseline" and base["knobs"] == {} and base["seeds"] == 3
    assert base["best_AP"] == pytest.approx(0.151)
    _recorded(tmp_path, "epochs", 6, 0, 0.20, dict(epochs=150), base=base)
    base = resolve_base("lr_batch", "best", tmp_path)
    assert base["name"] == "06 (epochs)" and base["knobs"] == {"epochs": 150} and base["best_AP"] == 0.20
    assert [(s["block"], s["adopted"], s["recipe"]["no"], s["winner"]["no"]) for s in study_walk(tmp_path)] == [
        ("baseline", True, 0, 0), ("augmentation", False, 0, 1), ("epochs", True, 6, 6)]
    table, candidates = study_path(tmp_path)
    assert table["run"].tolist() == [0, 0, 6] and table["adopted"].tolist() == [True, False, True]
    assert table["winner_mAP"].tolist() == pytest.approx([0.151, 0.14, 0.20])
    assert [c[0] for c in candidates] == [0, 6] and len(candidates[0][1]) == 3


def _seeds_of(results, block, no, aps):
    """Record experiment ``no`` of ``block`` with one seed per AP (seed i: aps[i])."""
    for seed, ap in enumerate(aps):
        _recorded(results, block, no, seed, ap)


@pytest.mark.parametrize("winner_aps, adopted", [((0.43, 0.44, 0.45), True),      # ahead on seeds 1, 2 too
                                                 ((0.43, 0.398, 0.404), False)])  # ahead on seed 0 alone
def test_the_rule_reads_the_lead_on_the_seeds_that_did_not_pick_the_winner(tmp_path, winner_aps, adopted):
    """Block 06 as it happened: the winner's mean over all seeds beats the base, but seed 0 picked
    it; on seeds 1 and 2 it trails, so the base stays (report.verdict.decide, used by study_walk)."""
    from catpose_lib.report.verdict import decide, finished_runs, seed_noise
    from catpose_lib.runs.results import load_block_results

    _seeds_of(tmp_path, "baseline", 0, (0.40, 0.41, 0.405))
    _seeds_of(tmp_path, "augmentation", 1, winner_aps)
    _recorded(tmp_path, "augmentation", 2, 0, 0.39)
    blocks = {b: load_block_results(tmp_path, b) for b in ("baseline", "augmentation")}
    noise = seed_noise(blocks)  # baseline: seeds 0-2; run 01: its unselected seeds 1, 2
    assert noise["df"] == 2 + 1 and [r["no"] for r in noise["recipes"]] == [0, 1]
    v = decide(blocks["augmentation"], finished_runs(blocks["baseline"], 0), "baseline", noise)
    assert v["winner"] == 1 and v["picked_on"] == [0] and v["unselected_seeds"] == [1, 2]
    assert v["mean_AP"] > v["base_AP"]  # ahead on all seeds either way
    assert v["winner_unselected"] == pytest.approx(sum(winner_aps[1:]) / 2)
    assert v["base_unselected"] == pytest.approx(0.4075) and v["base_seeds"] == [1, 2]
    iv = v["interval"]
    assert iv["kind"] == "seeds only" and iv["low"] < v["difference"] < iv["high"]
    assert v["adopted"] is adopted and (iv["low"] > 0) is adopted
    assert v["text"].startswith("Winner: run 01") and ("carried on" in v["text"]) is adopted
    assert ("the base (baseline) stays" in v["text"]) is not adopted


def test_a_winner_with_no_unselected_seed_or_noise_estimate_is_not_carried_on(tmp_path):
    from catpose_lib.report.verdict import decide, finished_runs
    from catpose_lib.runs.results import load_block_results

    _recorded(tmp_path, "baseline", 0, 0, 0.15)
    _recorded(tmp_path, "augmentation", 1, 0, 0.30)  # far ahead, but on the seed that picked it
    _recorded(tmp_path, "augmentation", 2, 0, 0.12)
    base = finished_runs(load_block_results(tmp_path, "baseline"), 0)
    v = decide(load_block_results(tmp_path, "augmentation"), base, "baseline", noise=None)
    assert v["winner"] == 1 and v["winner_unselected"] is None and v["interval"]["kind"] == "none"
    assert v["adopted"] is False and "stays" in v["text"]
    v = decide(load_block_results(tmp_path, "augmentation"), {}, "baseline", noise=None)
    assert v["adopted"] is True  # a base without results: nothing to compare with


def test_a_last_checkpoint_naming_a_missing_file_resumes_from_the_newest_left_or_starts_afresh(tmp_path):
    """A worker SIGKILLed while it saved can leave mmengine's last_checkpoint naming a file that
    is not there; the next worker resumes from the newest epoch checkpoint left, or starts afresh."""
    from catpose_lib.runs.run import _resume_point

    assert _resume_point(tmp_path) is False  # nothing yet
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "epoch_2.pth"))
    for n in (1, 10):
        (tmp_path / f"epoch_{n}.pth").write_bytes(b"x")
    (tmp_path / "epoch_10.pth").unlink()
    assert _resume_point(tmp_path) is True
    assert (tmp_path / "last_checkpoint").read_text() == str(tmp_path / "epoch_1.pth")
    assert _resume_point(tmp_path) is True  # an existing file: left as it is
    (tmp_path / "epoch_1.pth").unlink()
    assert _resume_point(tmp_path) is False and not (tmp_path / "last_checkpoint").exists()
