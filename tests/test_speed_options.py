"""Speed options: decoded-image cache identity, CPU bf16 autocast + channels-last, and the
distributed runner (2 processes, gloo, CPU)."""
import copy
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import QUICK, REPO


def _dataset(cfg):
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    init_default_scope("mmpose")
    return DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))


def _sample(dataset, i, seed):
    np.random.seed(seed)  # the random transforms draw from numpy's global generator
    out = dataset[i]
    return out["inputs"].clone(), out["data_samples"]


def test_image_cache_gives_identical_pipeline_outputs(tiny_cats):
    from catpose_lib.recipe.config import build_config
    from catpose_lib.runs.image_cache import _CACHE, clear_cache, use_image_cache

    cfg = build_config(tiny_cats)
    cached_cfg = copy.deepcopy(cfg)
    assert use_image_cache(cached_cfg, tiny_cats, "auto")  # tiny data fits the default budget
    assert cached_cfg.train_dataloader.dataset.pipeline[0]["type"] == "CachedLoadImage"
    clear_cache()
    plain, cached = _dataset(cfg), _dataset(cached_cfg)
    n = len(plain)
    for epoch in range(2):  # epoch 0 fills the cache, epoch 1 reads from it
        for i in range(n):
            a_inputs, a_samples = _sample(plain, i, seed=100 * epoch + i)
            b_inputs, b_samples = _sample(cached, i, seed=100 * epoch + i)
            assert torch.equal(a_inputs, b_inputs), (epoch, i)
            assert np.array_equal(a_samples.gt_instances.keypoints, b_samples.gt_instances.keypoints)
            assert torch.equal(a_samples.gt_fields.heatmaps, b_samples.gt_fields.heatmaps)
    assert len(_CACHE) == len({plain.get_data_info(i)["img_path"] for i in range(n)})
    # a budget the data does not fit keeps the plain loader
    small = copy.deepcopy(cfg)
    assert not use_image_cache(small, tiny_cats, "auto", budget_mb=0.01)
    assert small.train_dataloader.dataset.pipeline[0]["type"] == "LoadImage"
    clear_cache()


def test_cpu_bf16_and_channels_last_run(tiny_cats, tmp_path):
    from catpose_lib.runs.precision import cpu_bf16_supported
    from catpose_lib.workers.blocks import run_block

    if not cpu_bf16_supported():
        pytest.skip("this CPU has no native bf16 (AVX512-BF16 / AMX)")
    (r,) = run_block("lr_batch", tiny_cats, tmp_path, experiments=[10], budget="smoke", base="baseline",
                     shared_knobs=QUICK, num_workers=0, verbose=False, precision="bf16", channels_last=True)
    assert r["status"] == "finished", r.get("message")
    assert r["speed"] == dict(precision="bf16", channels_last=True, image_cache=True)
    assert all(np.isfinite(h["train_loss"]) for h in r["history"])


def test_cpu_amp_wrapper_autocasts_to_bf16():
    from catpose_lib.runs.precision import CPUAmpOptimWrapper

    model = torch.nn.Linear(4, 4)
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    loss = out.float().pow(2).mean()
    before = model.weight.detach().clone()
    wrapper.update_params(loss)
    assert not torch.equal(before, model.weight)


def _cli(results, extra, data):
    return [sys.executable, "-m", "catpose_lib", "run", "lr_batch", "--data", str(data), "--results",
            str(results), "--experiments", "10", "--budget", "smoke", "--base", "baseline", "--device", "cpu",
            "--workers", "0", "--set", "resnet_depth=18", "--set", "input_size=64", "--set",
            "heatmap_size=16", "--quiet", *extra]


def test_two_process_gloo_run_matches_single_process(tiny_cats, tmp_path):
    single = subprocess.run(_cli(tmp_path / "single", [], tiny_cats), cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    dist = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_port", "29517", "-m", "catpose_lib"]
                          + _cli(tmp_path / "dist", ["--launcher", "pytorch"], tiny_cats)[3:],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert dist.returncode == 0, dist.stdout[-3000:] + dist.stderr[-3000:]
    a = json.loads((tmp_path / "single" / "lr_batch" / "10_s0.json").read_text())
    b = json.loads((tmp_path / "dist" / "lr_batch" / "10_s0.json").read_text())
    assert a["status"] == b["status"] == "finished"
    assert a["world_size"] == 1 and b["world_size"] == 2 and b["launcher"] == "pytorch"
    assert set(a) == set(b)
    assert [h["epoch"] for h in a["history"]] == [h["epoch"] for h in b["history"]] == [1, 2]
    assert [set(h) for h in a["history"]] == [set(h) for h in b["history"]]
    for h in b["history"]:
        assert 0 <= h["AP"] <= 1 and h["train_loss"] > 0
    # the DistributedSampler split each epoch over the 2 processes: rank 0 trained on half the
    # instances the single process trained on
    seen = [round(h["samples_per_s"] * h["train_seconds"]) for h in a["history"] + b["history"]]
    n = seen[0]
    assert seen == [n, n, -(-n // 2), -(-n // 2)] and n >= 8


def _fake_run(seed, final, best, seconds=10.0, status="finished"):
    return dict(name=f"00_s{seed}", seed=seed, status=status, final=dict(epoch=3, AP=final),
                best=dict(epoch=2, AP=best), history=[dict(train_seconds=seconds)] * 3)


def test_precision_parity_is_judged_against_seed_noise():
    from catpose_lib.report.parity import compare_settings

    fp32 = [_fake_run(0, 0.10, 0.12, 30.0), _fake_run(1, 0.14, 0.15, 30.0)]
    close = [_fake_run(0, 0.12, 0.13, 12.0), _fake_run(1, 0.13, 0.14, 12.0)]
    out = compare_settings(fp32, close)
    assert out["noise"] == pytest.approx(0.04) and out["unchanged"] is True
    assert out["delta_final"] == pytest.approx(0.005) and out["delta_best"] == pytest.approx(0.0)
    assert out["speedup"] == pytest.approx(2.5)
    worse = [_fake_run(0, 0.02, 0.03), _fake_run(1, 0.03, 0.04)]
    assert compare_settings(fp32, worse)["unchanged"] is False
    one_seed = compare_settings(fp32[:1], close[:1])
    assert one_seed["noise"] is None and one_seed["unchanged"] is None
    with pytest.raises(ValueError, match="not converge"):
        compare_settings(fp32, [_fake_run(0, 0, 0, status="not converge")])


def test_cli_speed_defaults_and_the_course_fp32_switches():
    from catpose_lib.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["run", "03", "--data", "d", "--results", "r"])
    assert args.precision == "auto" and args.channels_last is True
    args = parser.parse_args(["run", "03", "--data", "d", "--results", "r", "--precision", "fp32",
                              "--no-channels-last"])
    assert args.precision == "fp32" and args.channels_last is False
