"""Named protocols: one name sets every run's budget, epoch floor, start checkpoint (by
backbone) and seeds; each result records it; the block's winner gets the confirm seeds."""
import pytest

from catpose_lib.errors import CatposeError, ParameterError

QUICK = dict(resnet_depth=18, input_size=64, heatmap_size=16)


def test_budget_fraction_keeps_the_protocol_floor(tiny_cats):
    from catpose_lib.recipe.config import build_config

    base = build_config(tiny_cats, dict(QUICK))  # 20 epochs, steps 10 / 15, 500 warm-up iterations
    warm = next(s for s in base.param_scheduler if s["type"] == "LinearLR")["end"]
    cfg = build_config(tiny_cats, dict(QUICK), budget="0.05", min_epochs=4)
    assert cfg.train_cfg.max_epochs == 4  # 20 x 0.05 = 1, floor 4
    assert next(s for s in cfg.param_scheduler if s["type"] == "LinearLR")["end"] == round(warm * 4 / 20)
    long = build_config(tiny_cats, dict(QUICK, epochs=150), budget="0.05", min_epochs=4)
    assert long.train_cfg.max_epochs == 8  # 150 x 0.05 = 7.5: above the floor
    short = build_config(tiny_cats, dict(QUICK, epochs=3), budget="0.05", min_epochs=4)
    assert short.train_cfg.max_epochs == 3  # never more than the run's own epochs


def test_protocol_expands_once_into_explicit_settings(tmp_path):
    """A protocol becomes explicit values (recipe.protocols.expand); what is given beside it must
    be the protocol's own, and a default means itself (budget full, seed 0) only without one."""
    from catpose_lib.recipe.params import check_run_parameters

    s = check_run_parameters(protocol="cpu")["settings"]
    assert (s.budget, s.min_epochs, s.seeds, s.confirm_seeds, s.protocol) == ("0.03", 3, (0,), (1, 2), "cpu")
    assert s.all_seeds == (0, 1, 2) and s.starts["hrnet_w32"].endswith("pretrain_hrnet_w32_s0.pth")
    assert check_run_parameters(protocol="cpu", budget="0.03", seeds="0")["settings"] == s  # its own values
    plain = check_run_parameters()["settings"]
    assert (plain.budget, plain.min_epochs, plain.seeds, plain.starts, plain.protocol) == ("full", 1, (0,), {}, None)
    with pytest.raises(ParameterError, match="protocol 'cpu' sets it"):
        check_run_parameters(budget="full", protocol="cpu")  # 'full' is a value, not "not given"
    with pytest.raises(ParameterError, match="protocol 'cpu' sets them"):
        check_run_parameters(seeds="0,1", protocol="cpu")
    ckpt = tmp_path / "start.pth"
    ckpt.write_bytes(b"x")
    with pytest.raises(ParameterError, match="protocol 'cpu' sets each backbone's start"):
        check_run_parameters(start=str(ckpt), protocol="cpu")
    with pytest.raises(ParameterError, match="protocol.*one of full, cpu"):
        check_run_parameters(protocol="gpu-ish")
    with pytest.raises(ParameterError, match="start.*or a zoo model's name .*it is neither"):
        check_run_parameters(start=str(tmp_path / "nothing.pth"))


def test_protocol_start_is_picked_by_backbone(tiny_cats):
    from catpose_lib.recipe.config import build_config
    from catpose_lib.recipe.protocols import PROTOCOLS, backbone_name, run_start

    starts = PROTOCOLS["cpu"].starts
    assert backbone_name(build_config(tiny_cats)) == "resnet50"
    assert run_start(None, starts, build_config(tiny_cats)).endswith("pretrain_resnet50_s0.pth")
    hr = build_config(tiny_cats, dict(backbone="hrnet_w32"))
    assert backbone_name(hr) == "hrnet_w32" and run_start(None, starts, hr).endswith("pretrain_hrnet_w32_s0.pth")
    lite = dict(backbone="efficientnet_lite2", head_channels=64)
    assert run_start(None, starts, build_config(tiny_cats, lite), lite).endswith("pretrain_efficientnet_lite2_s0.pth")
    imagenet = dict(lite, pretrained="imagenet")  # backbone weights only: no whole-model start
    assert run_start(None, starts, build_config(tiny_cats, imagenet), imagenet) is None
    with pytest.raises(CatposeError, match="no start checkpoint for backbone resnet18"):
        run_start(None, starts, build_config(tiny_cats, dict(QUICK)))


def test_block_under_a_protocol_records_it_and_confirms_the_winner(tiny_cats, tmp_path, monkeypatch, capfd):
    import torch
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from catpose_lib.recipe import protocols
    from catpose_lib.recipe.config import build_config
    from catpose_lib.recipe.start import sha256_file
    from catpose_lib.runs.results import load_block_results, seed_stats, winner
    from catpose_lib.workers.blocks import run_block

    init_default_scope("mmpose")
    torch.manual_seed(0)
    start = tmp_path / "start18.pth"
    torch.save(dict(state_dict=MODELS.build(build_config(tiny_cats, dict(QUICK)).model).state_dict()), start)
    tiny = protocols.Protocol("tiny", "0.01", min_epochs=3, seeds=(0,), confirm_seeds=(1,),
                              starts={"resnet18": str(start)})
    monkeypatch.setitem(protocols.PROTOCOLS, "tiny", tiny)
    s = protocols.expand("tiny")
    results = run_block("lr_batch", tiny_cats, tmp_path / "results", experiments=[10, 15], base="baseline",
                        shared_knobs=QUICK, device="cpu", num_workers=0, seeds=list(s.seeds),
                        confirm_seeds=s.confirm_seeds, **s.run_options())
    assert len(results) in (3, 4) and all(r["status"] == "finished" for r in results), [r["status"] for r in results]
    for r in results:
        assert r["protocol"] == "tiny" and r["min_epochs"] == 3 and r["budget"] == "0.01"
        assert r["start"]["sha256"] == sha256_file(start) and r["max_epochs"] == 3  # 150 x 0.01 -> floor 3
    saved = load_block_results(tmp_path / "results", "lr_batch")
    first = winner(seed_stats([r for r in saved if r["seed"] == 0]))  # the winner on seed 0 ...
    assert f"winner so far: run {first:02d}; confirming it with seeds 1" in capfd.readouterr().out
    assert sorted(r["seed"] for r in saved if r["no"] == first) == [0, 1]  # ... got seed 1
    top = winner(seed_stats(saved))  # and the final winner has every seed
    assert sorted(r["seed"] for r in saved if r["no"] == top) == [0, 1]


def test_study_cost_before_running_it():
    from catpose_lib.recipe.experiments import STUDY
    from catpose_lib.recipe.protocols import study_cost

    from catpose_lib.recipe.protocols import expand

    full = study_cost(expand(None), 80.0).set_index("block")  # no protocol: budget full, one seed
    # at full budget, one seed: the reference study's epochs, the baseline's 20 included
    inherited = {"lr_batch": 150, "resolution": 150, "backbone": 150, "optimizer": 150}
    expected = 20 + sum(e.knobs.get("epochs", inherited.get(e.block, 20)) for e in STUDY)
    assert full.loc["total", "epochs"] == expected
    assert 200 < full.loc["total", "hours"] < 260  # the "roughly 230 CPU-hours"
    cpu = study_cost("cpu", 80.0).set_index("block")
    assert cpu.loc["baseline", "runs"] == 3 and cpu.loc["baseline", "epochs"] == 9  # 3 seeds x floor 3
    assert cpu.loc["lr_batch", "runs"] == 12 + 2  # one seed each, two more for the winner
    # the issue's budget of 10, on the dearest path, plus block 05's two EfficientNet-Lite runs
    # beyond the reference study (~0.3 h)
    assert cpu.loc["total", "hours"] <= 10.5


def test_final_sentence_names_the_runs_own_budget_protocol_and_seed_mean():
    """Under a protocol the report's own budget parameter (default full) is not what trained:
    the sentence reads budget and protocol from the kept run, and gives the seeds' mean."""
    from catpose_lib.report.final_report import final_sentence

    runs = [dict(no=32, seed=s, parameter="Adamax", budget="0.03", protocol="cpu",
                 best=dict(AP=ap)) for s, ap in ((0, 0.42), (1, 0.40), (2, 0.41))]
    text = final_sentence(0.1487, 0.41, len(runs), runs[0])
    assert text == ("Baseline best val AP 0.149 -> final run 32 (Adamax) 0.410 over 3 seed(s); the model kept is "
                    "seed 0 (0.420), at budget `0.03` (protocol `cpu`).  Every AP here is COCO OKS AP on the val "
                    "split's ground-truth boxes.")  # no data path: a record names no one's folder
    plain = dict(runs[1], protocol=None, budget="full")
    assert "seed 1 (0.400), at budget `full`.  Every AP" in final_sentence(0.1, 0.40, 1, plain)
