"""Cross-species pretraining and start checkpoints (`pretrain`, `run --init`)."""
import json
import pathlib
import subprocess
import sys

import pytest
import torch

from tests.conftest import QUICK, REPO, fake_worker, grid_study
from tests.test_animalpose_import import load, make_raw


def animalpose_names():
    from catpose_lib.schemes import keypoint_names

    return keypoint_names("animalpose20")


@pytest.fixture(scope="module")
def tiny_animals(tmp_path_factory):
    """Two tiny animalpose20 datasets: 'other animals' (pretraining) and 'cats' (zero-shot)."""
    from tests.tiny_coco import write_tiny_coco

    base = tmp_path_factory.mktemp("animals")
    roots = {}
    for name, seed in (("others", 1), ("cats", 2)):
        info = write_tiny_coco(base / name, n_train=6, n_val=3, n_test=3, num_keypoints=20,
                               keypoint_names=animalpose_names(), image_size=(96, 80), seed=seed,
                               category_name="animal" if name == "others" else "cat")
        roots[name] = info["root"]
    return roots


@pytest.fixture(scope="module")
def pretrained(tiny_animals, tmp_path_factory):
    """A smoke pretraining of the quick ResNet-18 (one per module)."""
    from catpose_lib.runs.pretrain import pretrain

    out = tmp_path_factory.mktemp("pretrain")
    r = pretrain(tiny_animals["others"], out / "results", backbone="resnet50", zero_shot_root=tiny_animals["cats"],
                 out_dir=out / "ckpt", budget="smoke", device="cpu", shared_knobs=QUICK, num_workers=0, verbose=False)
    return r, out


def test_import_merges_species_into_one_category(tmp_path):
    from catpose_lib.data.animalpose import import_animalpose

    raw = make_raw(tmp_path / "raw", dog=True)
    s = import_animalpose(raw, tmp_path / "one", one_category="animal")
    train, val = load(tmp_path / "one", "train"), load(tmp_path / "one", "val")
    assert [c["id"] for c in train["categories"]] == [1] and train["categories"][0]["name"] == "animal"
    assert train["categories"][0]["raw_names"] == ["dog", "cat"]
    anns = train["annotations"] + val["annotations"]
    assert {a["category_id"] for a in anns} == {1}
    assert sorted({a["raw_category_id"] for a in anns}) == [1, 2]
    assert sum(a["raw_category_id"] == 1 for a in anns) == 2  # the two dogs
    assert s["instances"]["train"] + s["instances"]["val"] == len(anns)


def test_pretrain_writes_a_start_checkpoint_with_sha256_and_zero_shot_ap(pretrained):
    from catpose_lib.recipe.start import sha256_file

    r, out = pretrained
    assert r["status"] == "finished", r.get("message")
    assert r["block"] == "pretrain" and r["no"] == 91 and r["config"].endswith("pretrain_animals.py")
    sc = r["start_checkpoint"]
    assert sc["sha256"] == sha256_file(sc["path"])
    ckpt = torch.load(sc["path"], weights_only=True)  # a plain file: loads without pickle code
    assert ckpt["meta"]["catpose_pretrain"] == "resnet50"
    assert ckpt["state_dict"]["head.final_layer.weight"].shape[0] == 20
    assert 0.0 <= r["zero_shot"]["AP"] <= 1.0 and r["zero_shot"]["sha256"] == sc["sha256"]
    assert r["history"] and r["best"] is not None
    on_disk = json.loads((out / "results" / "pretrain" / "91_s0.json").read_text())
    assert on_disk["start_checkpoint"] == sc and on_disk["zero_shot"]["AP"] == r["zero_shot"]["AP"]


def test_pretrain_config_inherits_the_baseline():
    from mmengine.config import Config

    from catpose_lib.configs import BASELINE_CONFIG, PRETRAIN_CONFIG

    base, pre = Config.fromfile(str(BASELINE_CONFIG)), Config.fromfile(str(PRETRAIN_CONFIG))
    assert pre.codec == base.codec and pre.model.backbone == base.model.backbone
    assert pre.model.test_cfg == base.model.test_cfg and pre.val_dataloader == base.val_dataloader
    assert pre.optim_wrapper.optimizer.lr == 1e-3 and pre.train_cfg.max_epochs == 100
    types = [t["type"] for t in pre.train_dataloader.dataset.pipeline]
    assert "RandomHalfBody" in types and pre.train_dataloader.batch_size == 64


def test_run_from_the_start_checkpoint_records_its_sha256_and_loads_it(pretrained, tiny_animals, tmp_path):
    from catpose_lib.workers.blocks import run_baseline

    r0, _ = pretrained
    (r,) = run_baseline(tiny_animals["cats"], tmp_path / "res", budget="smoke", device="cpu",
                        shared_knobs=dict(QUICK, lr=1e-12), num_workers=0, verbose=False,
                        start=r0["start_checkpoint"]["path"])
    assert r["status"] == "finished", r.get("message")
    assert r["start"]["sha256"] == r0["start_checkpoint"]["sha256"]
    assert r["start"]["tensors_loaded"] == r["start"]["tensors_in_model"] and not r["start"]["skipped_shape_mismatch"]
    start = torch.load(r0["start_checkpoint"]["path"], weights_only=True)["state_dict"]
    after = torch.load(r["checkpoint"], weights_only=False)["state_dict"]
    for key in ("backbone.conv1.weight", "head.final_layer.weight"):  # lr 1e-12: weights stay put
        assert torch.allclose(start[key], after[key], atol=1e-6), key


def test_init_errors_come_before_training(pretrained, tiny_animals, tmp_path):
    from catpose_lib.errors import CatposeError
    from catpose_lib.workers.blocks import run_baseline

    r0, _ = pretrained
    kw = dict(budget="smoke", device="cpu", num_workers=0, verbose=False)
    with pytest.raises(CatposeError, match="start: start checkpoint .*nope.pth does not exist"):
        run_baseline(tiny_animals["cats"], tmp_path / "a", shared_knobs=QUICK, start=tmp_path / "nope.pth", **kw)
    with pytest.raises(CatposeError, match=r"does not match this run's backbone \(HRNet\)"):
        run_baseline(tiny_animals["cats"], tmp_path / "b", shared_knobs=dict(input_size=64, heatmap_size=16,
                                                                             backbone="hrnet_w32"),
                     start=r0["start_checkpoint"]["path"], **kw)
    with pytest.raises(CatposeError, match=r"ResNet50\)"):  # a ResNet-18 start for the ResNet-50 baseline
        run_baseline(tiny_animals["cats"], tmp_path / "c", start=r0["start_checkpoint"]["path"], **kw)
    assert not list((tmp_path).rglob("*.pth"))  # nothing trained


def test_start_checkpoint_with_code_is_refused(tiny_animals, tmp_path):
    from catpose_lib.errors import CatposeError
    from catpose_lib.workers.blocks import run_baseline

    bad = tmp_path / "evil.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": subprocess.Popen}, bad)
    with pytest.raises(CatposeError, match="weights_only=True"):
        run_baseline(tiny_animals["cats"], tmp_path / "r", shared_knobs=QUICK, start=bad, budget="smoke",
                     device="cpu", num_workers=0, verbose=False)


def test_pack_and_unpack_keep_weights_within_int8_steps(pretrained, tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    from pack_checkpoint import pack, unpack

    r0, _ = pretrained
    src = r0["start_checkpoint"]["path"]
    parts = pack(src, tmp_path / "ck", part_mb=1.0)
    assert len(parts) > 1
    unpack(tmp_path / "ck", tmp_path / "back.pth")
    a = torch.load(src, weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "back.pth", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    w, v = a["backbone.layer1.0.conv1.weight"], b["backbone.layer1.0.conv1.weight"]
    step = w.abs().reshape(w.shape[0], -1).amax(1) / 127
    assert ((w - v).abs().reshape(w.shape[0], -1) <= step[:, None] / 2 + 1e-7).all()
    assert not torch.equal(w, v)  # it was quantized
    assert torch.equal(a["backbone.bn1.running_mean"], b["backbone.bn1.running_mean"])  # 1-d: exact


def test_pretrain_cli_rejects_a_bad_budget_before_any_work(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "catpose_lib", "pretrain", "--data", str(tmp_path / "none"),
                           "--results", str(tmp_path / "r"), "--budget", "0"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "budget fraction must be in (0, 1]" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_pretrain_held_by_another_worker_is_skipped_and_not_a_failure(tiny_animals, tmp_path, capsys):
    """Two lanes may both reach a backbone's pretraining: the second skips it (exit 0), so the
    lane's next step (the study) still runs; the first exports the checkpoint."""
    import argparse

    from catpose_lib.commands import pretrain as command
    from catpose_lib.data.default_data import course_layout_root
    from catpose_lib.runs.pretrain import PRETRAIN_CONFIG, PRETRAIN_RUNS
    from catpose_lib.runs.provenance import data_fingerprint
    from catpose_lib.runs.run import RunRequest, resolve_run

    others = course_layout_root(tiny_animals["others"], one_category="animal")
    req = RunRequest(experiment=PRETRAIN_RUNS["resnet50"], data_root=str(others), results_dir=str(tmp_path),
                     budget="smoke", device="cpu", config=str(PRETRAIN_CONFIG), shared_knobs=dict(QUICK),
                     num_workers=0, base=dict(name="pretrain_animals.py", knobs={}))
    fake_worker(tmp_path, grid_study(req), fingerprint=data_fingerprint(others), data_root=str(others))
    p = argparse.ArgumentParser()
    command.add_arguments(p)
    args = p.parse_args(["--data", str(tiny_animals["others"]), "--results", str(tmp_path), "--budget", "smoke",
                         "--device", "cpu", "--workers", "0", "--backbone", "resnet50",
                         "--set", *[f"{k}={v}" for k, v in QUICK.items()]])
    assert command.run(args) == 0
    assert "being trained by worker" in capsys.readouterr().out
    assert not resolve_run(req)["work_dir"].exists()  # nothing trained here


def test_backbones_as_papermill_string_are_split_and_checked_before_any_work(tmp_path):
    from catpose_lib.errors import ParameterError
    from catpose_lib.runs.pretrain import pretrain_backbones

    with pytest.raises(ParameterError) as err:  # `-p backbones resnet50,hrnet_w48`
        pretrain_backbones(tmp_path / "none", tmp_path / "r", backbones="resnet50, hrnet_w48")
    assert "['resnet50', 'hrnet_w48']" in str(err.value) and not (tmp_path / "r").exists()


def test_run_from_a_start_checkpoint_resumes_from_its_own_checkpoint(pretrained, tiny_animals, tmp_path,
                                                                     kill_at_second_validation):
    """mmengine resumes *from load_from* when both are set: a killed run from a start checkpoint
    must resume from its work dir's last checkpoint (it failed with KeyError 'epoch')."""
    from catpose_lib.workers.blocks import run_baseline

    r0, _ = pretrained
    kw = dict(budget="smoke", device="cpu", shared_knobs=QUICK, num_workers=0, verbose=False,
              start=r0["start_checkpoint"]["path"])
    with pytest.raises(KeyboardInterrupt):
        run_baseline(tiny_animals["cats"], tmp_path / "res", **kw)
    kill_at_second_validation()  # undone
    (r,) = run_baseline(tiny_animals["cats"], tmp_path / "res", **kw)
    assert r["status"] == "finished" and r["resumed"] is True, r.get("message")
    assert [h["epoch"] for h in r["history"]] == [1, 2] and r["start"]["sha256"] == r0["start_checkpoint"]["sha256"]
    assert all(h["val_seconds"] > 0 for h in r["history"])  # the compute of every epoch, resumed or not
    resolved = (tmp_path / "res" / "baseline" / "00_s0.py").read_text()
    name = pathlib.Path(r0["start_checkpoint"]["path"]).name  # the start is named in the config's header
    assert f"# start (load_from at run time): {name} sha256 {r0['start_checkpoint']['sha256']}" in resolved
    assert "load_from =" not in resolved and "/" + name not in resolved  # no runtime key, no path
