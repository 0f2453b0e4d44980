"""The demo (`make demo`, scripts/demo.py): its start is the one recorded, its recipe learns on a
tiny budget, and the committed copy is one run that met the target (issue 12).  The full
target, trained here: ``pytest -m slow tests/test_demo.py`` (~10-15 min on 2 idle CPU cores)."""
import json
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import demo  # noqa: E402  (scripts/demo.py)


def test_demo_start_is_packed_small_recorded_and_from_other_images():
    record = json.loads(demo.START_PROVENANCE.read_text())
    parts = sorted(demo.START_PACKED.parent.glob(demo.START_PACKED.name + ".part*"))
    assert [p.name for p in parts] == sorted(record["parts"])
    assert sum(p.stat().st_size for p in parts) < 25 * 2**20          # what git carries
    assert record["data"]["seed"] != demo.DEMO_DATA["seed"]           # never saw the demo's images
    assert record["data"]["difficulty"] == demo.DEMO_DATA["difficulty"] and record["model"] == demo.DEMO_MODEL
    assert record["best"]["AP"] >= 0.5 and record["AP_unpacked_own_val"] >= 0.5


def test_demo_recipe_learns_on_a_tiny_budget(tmp_path):
    """The demo's recipe (easy cats, its model, its start, one of block 03's runs) on 16 train /
    16 val images for 2 epochs: AP clearly above 0 (from scratch it is 0.000 after an epoch)."""
    from catpose_lib.data.default_data import synthetic_cats
    from catpose_lib.workers.blocks import run_block

    start = demo.unpack_start(tmp_path / "start.pth")
    assert demo.unpack_start(tmp_path / "start.pth") == start            # unpacked once
    root = synthetic_cats(**dict(demo.DEMO_DATA, n_train=16, n_val=16, n_test=1), cache_dir=tmp_path / "data")
    (r,) = run_block("lr_batch", root, tmp_path / "results", experiments=[15], budget="smoke", base="baseline",
                     device="cpu", shared_knobs=demo.DEMO_MODEL, num_workers=0, verbose=False, start=str(start))
    assert r["status"] == "finished", r.get("message")
    assert r["start"]["sha256"] and r["start"]["skipped_shape_mismatch"] == []
    assert r["best"]["AP"] > 0.2, r["history"]


def _committed(path):
    path = REPO / path
    if not path.exists():
        pytest.skip(f"{path} is not there (not committed yet)")
    return path


def test_committed_demo_is_one_run_that_met_the_target():
    run = json.loads(_committed("results/demo/demo_run.json").read_text())
    report = json.loads((REPO / "results/demo/reports/03_lr_batch.json").read_text())
    assert run["target_met"] == dict(best_AP=True, runs_at_010=True, wall_seconds=True), run
    assert run["wall_seconds"] <= demo.TARGET["wall_seconds"] and run["machine"]["cpus"] == 2
    assert run["parameters"]["synthetic"] == demo.DEMO_DATA and run["parameters"]["knobs"] == demo.DEMO_MODEL
    assert run["parameters"]["budget"] == demo.DEMO_BUDGET
    aps = [r["best"]["AP"] for r in report["runs"]]
    assert len(aps) == 12 and report["base_AP"] is not None                  # block 03 + the baseline
    assert max(aps) == run["best_AP"] >= 0.5 and sum(a >= 0.10 for a in aps) >= 6
    assert report["verdict"]["text"].startswith(f"Winner: run {report['verdict']['winner']:02d}")
    # every run of the copy is from that one demo run: same start, trained after it began
    for p in list((REPO / "results/demo/lr_batch").glob("*_s0.json")) + [REPO / "results/demo/baseline/00_s0.json"]:
        r = json.loads(p.read_text())
        assert r["status"] == "finished" and r["started"] >= run["started"][:19]
        assert r["start"]["sha256"] and r["budget"] == str(demo.DEMO_BUDGET)
        assert r["history"][-1]["AP"] is not None
    nb = json.loads(_committed("results/notebooks/03_lr_batch.demo.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "run 12/12] epoch 9/9" in text and "block: ~" in text             # progress in the notebook


@pytest.mark.slow
def test_demo_recipe_reaches_the_target(tmp_path):
    """The full demo (all 12 runs + the baseline, as `make demo` runs them, without papermill):
    best AP >= 0.5, at least half the runs >= 0.10."""
    from catpose_lib.report.block_report import run_block_report

    params = demo.demo_parameters(demo.unpack_start(tmp_path / "start.pth"))
    params.update(results_dir=str(tmp_path / "results"), figures_dir=str(tmp_path / "figures"))
    report = run_block_report("lr_batch", **params, verbose=False)
    aps = [r["best"]["AP"] for r in report["results"]]
    assert len(aps) == 12 and max(aps) >= 0.5 and sum(a >= 0.10 for a in aps) >= 6, aps


def test_unbiased_knob_makes_the_codec_dark(tiny_cats):
    """At 16x16 heatmaps the default codec's integer peaks cap the AP of perfect heatmaps at
    0.64 on the demo's val cats; DARK (knob ``unbiased``) lifts that cap to 0.96."""
    from catpose_lib.recipe.config import build_config

    cfg = build_config(tiny_cats, demo.DEMO_MODEL)
    target = next(t for t in cfg.train_dataloader.dataset.pipeline if t["type"] == "GenerateTarget")
    for codec in (cfg.model.head.decoder, target["encoder"]):
        assert codec["unbiased"] is True and codec["blur_kernel_size"] == 3 and codec["heatmap_size"] == (16, 16)
    assert "unbiased" not in build_config(tiny_cats, {}).model.head.decoder
