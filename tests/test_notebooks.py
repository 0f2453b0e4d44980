"""Every notebook runs with papermill on tiny data at the smoke budget; what it showed is
checked as values, from the record its report writes (RESULTS/reports/<notebook>.json).
Each test makes its own results folder and base, so any one runs alone."""
import json
import struct
from pathlib import Path

import pytest

from tests.conftest import QUICK, REPO

NOTEBOOKS = REPO / "notebooks"
BLOCK_RUNS = {"01_augmentation": [1, 3], "02_epochs": [6], "03_lr_batch": [10, 15],
              "04_resolution": [22], "05_backbone": [28], "06_optimizer": [33]}
PREVIOUS_RUN = {"02_epochs": 1, "03_lr_batch": 6, "04_resolution": 10, "05_backbone": 22, "06_optimizer": 28}
# HRNet runs take no resnet_depth (an error since it would do nothing): small inputs only
SMALL = dict(input_size=64, heatmap_size=16)


def _quick(block_or_notebook) -> dict:
    return SMALL if str(block_or_notebook).startswith(("05", "06", "backbone", "optimizer")) else QUICK


def _png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def _execute(name, executed_dir, **parameters):
    import papermill as pm

    out = executed_dir / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=parameters,
                        kernel_name="python3", progress_bar=False, cwd=str(REPO))
    return json.loads(out.read_text())


def _record(results, name):
    return json.loads((Path(results) / "reports" / f"{name}.json").read_text())


def test_notebook_sources_are_clean_and_parameterised():
    """The .ipynb files are the sources users edit: clean, one parameters cell, no logic."""
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["00_dataset", "01_augmentation", "02_epochs", "03_lr_batch", "04_resolution",
                     "05_backbone", "06_optimizer", "07_final_report", "08_search", "pretrain"]
    for p in NOTEBOOKS.glob("*.ipynb"):
        nb = json.loads(p.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, p
        for c in nb["cells"]:
            assert not c.get("outputs") and c.get("execution_count") is None, p
            if c["cell_type"] == "code":
                src = "".join(c["source"])
                assert "\ndef " not in "\n" + src and "\nclass " not in "\n" + src, (p, "logic belongs in catpose_lib")
        if p.stem == "08_search":
            for param in ("data_root", "scheme", "study", "space", "n_trials", "pruner", "budget", "seed", "storage",
                          "device", "results_dir", "figures_dir", "shared_knobs"):
                assert f"\n{param} = " in "\n" + "".join(tagged[0]["source"]), (p, param)
        elif p.stem not in ("00_dataset", "pretrain"):
            for param in ("data_root", "scheme", "budget", "seeds", "device", "experiments", "base",
                          "results_dir", "figures_dir"):
                assert f"\n{param} = " in "\n" + "".join(tagged[0]["source"]), (p, param)


def test_dataset_notebook(tiny_cats, tmp_path):
    _execute("00_dataset", tmp_path, data_root=str(tiny_cats), results_dir=str(tmp_path / "r"),
             figures_dir=str(tmp_path / "f"), n_samples=4)
    rec = _record(tmp_path / "r", "00_dataset")
    splits = {row["split"]: row for row in rec["tables"]["splits"]}
    assert splits["train"]["images"] == 8 and splits["val"]["images"] == 4
    w, h = _png_size(rec["figures"]["samples"])
    assert w > 200 and h > 100


def _previous_winner(name, data, results):
    """The previous block's run, trained here, so that base 'best' has a winner to start from."""
    from catpose_lib.workers.blocks import run_block

    if name not in PREVIOUS_RUN:
        return None
    from catpose_lib.recipe.experiments import get_experiment

    prev = get_experiment(PREVIOUS_RUN[name])
    (r,) = run_block(prev.block, data, results, experiments=[prev.no], budget="smoke", base="baseline",
                     device="cpu", shared_knobs=_quick(prev.block), num_workers=0, verbose=False)
    assert r["status"] == "finished", r.get("message")
    return r


@pytest.mark.parametrize("name", list(BLOCK_RUNS))
def test_block_notebook(tiny_cats, tmp_path, name):
    results, figures = tmp_path / "results", tmp_path / "figures"
    prev = _previous_winner(name, tiny_cats, results)
    runs = BLOCK_RUNS[name]
    nb = _execute(name, tmp_path, data_root=str(tiny_cats), budget="smoke", seeds="0", device="cpu",
                  experiments=",".join(map(str, runs)), base="best" if prev else "baseline",
                  results_dir=str(results), figures_dir=str(figures), shared_knobs=_quick(name), num_workers=0)
    rec = _record(results, name)
    assert sorted(r["No."] for r in rec["table"]) == runs
    assert sorted({r["no"] for r in rec["runs"]}) == runs
    for r in rec["runs"]:
        assert r["status"] != "finished" or 0.0 <= r["best"]["AP"] <= 1.0
    assert rec["verdict"]["winner"] in runs and rec["verdict"]["text"].startswith("Winner: run")
    assert rec["winner"] == rec["verdict"]["winner"] and rec["picked_on"] == ([0] if len(runs) > 1 else [])
    for key in ("winner_unselected", "base_unselected", "difference", "interval", "adopted", "rule"):
        assert key in rec, key
    assert rec["interval"]["kind"] in ("none", "seeds only", "seeds + paired val bootstrap",
                                       "seeds + val sd measured elsewhere") and rec["interval"]["method"]
    assert rec["adopted"] is (rec["base_AP"] is None or (rec["interval"]["low"] or 0) > 0)
    for fig in ("ap_per_run", "ap_curves", "loss_curves", "overlays"):  # overlays: truth | base | winner
        w, h = _png_size(rec["figures"][fig])
        assert w > 200 and h > 100
    # the notebook shows our lines; pycocotools' summaries are in the log it names at the end
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "Average Precision" not in text
    if "epoch 2/2  AP" in text:  # trained here (02's run 06 is run 01's twin)
        log = Path(text.split("library output (metric printouts, warnings): ")[1].split()[0])
        assert "Average Precision" in log.read_text()
    if name == "03_lr_batch":  # rendered again from the results alone: no data, nothing trained
        stamps = {p: p.stat().st_mtime_ns for p in results.glob("*/*_s*.json")}
        _execute(name, tmp_path, experiments=",".join(map(str, runs)), base="best" if prev else "baseline",
                 results_dir=str(results), figures_dir=str(figures), train=False)
        again = _record(results, name)
        assert again["table"] == rec["table"] and again["verdict"] == rec["verdict"]
        assert {p: p.stat().st_mtime_ns for p in results.glob("*/*_s*.json")} == stamps
    if prev:
        assert rec["base"]["no"] == prev["no"] and rec["base"]["block"] == prev["block"]
        assert rec["base"]["knobs"] == {**prev["base"]["knobs"], **prev["experiment_knobs"]}
        assert all(r["base"] == rec["base"]["name"] for r in rec["runs"])
    else:
        assert rec["base"]["name"] == "baseline" and rec["base_AP"] is not None  # the baseline, measured


def test_final_report_notebook(tiny_cats, tmp_path):
    results = tmp_path / "results"
    _previous_winner("04_resolution", tiny_cats, results)  # one block on the path beside the baseline
    _execute("07_final_report", tmp_path, data_root=str(tiny_cats), budget="smoke", device="cpu",
             results_dir=str(results), figures_dir=str(tmp_path / "figures"), shared_knobs=QUICK, num_workers=0,
             n_overlays=2, n_failures=2, test_root=str(tiny_cats))
    rec = _record(results, "07_final_report")
    blind = json.loads(Path(rec["result_keypoints_test"]).read_text())  # the blind-test copy, same boxes here
    assert Path(rec["result_keypoints_test"]).name == "result_keypoints_test.json" and len(blind) == len(
        json.loads(Path(rec["result_keypoints"]).read_text())) and all(len(p["keypoints"]) == 51 for p in blind)
    assert [row["step"] for row in rec["path"]] == ["baseline", "03 lr_batch"]
    preds = json.loads(Path(rec["result_keypoints"]).read_text())
    test_info = json.loads((tiny_cats / "annotations" / "test_info.json").read_text())
    assert {p["image_id"] for p in preds} == {a["image_id"] for a in test_info["annotations"]}
    assert all(len(p["keypoints"]) == 51 for p in preds)
    for fig in ("path", "overlays", "failures", "per_keypoint"):
        w, h = _png_size(rec["figures"][fig])
        assert w > 200 and h > 100
    assert {row["model"].split(" ")[0] for row in rec["complexity"]} == {"baseline", "final"}
    assert all(row["GFLOPs"] > 0 and row["params_M"] > 0 for row in rec["complexity"])
    assert len(rec["per_keypoint"]) == 17
    for row in rec["per_keypoint"]:  # PCK with its interval wherever the keypoint is labelled
        assert row["labelled"] == 0 or row["PCK_low"] <= row["PCK@0.1"] <= row["PCK_high"]
    swap = rec["swap"]
    assert swap["eligible"] == sum(p["eligible"] for p in swap["pairs"]) and (
        swap["eligible"] == 0 or 0 <= swap["rate"] <= 1)
    assert 0 <= rec["val_AP"]["low"] <= rec["val_AP"]["AP"] <= rec["val_AP"]["high"] <= 1
    assert "test-set" not in rec["summary"] and "val boxes" in rec["summary"]
    (final_json,) = results.glob(f"*/{rec['final']['no']:02d}_s{rec['final']['seed']}.json")
    final = json.loads(final_json.read_text())
    assert f"{rec['final']['AP']:.3f}" in rec["summary"] and f"budget `{final['budget']}`" in rec["summary"]


def test_pretrain_notebook(tmp_path):
    from tests.test_pretrain import animalpose_names
    from tests.tiny_coco import write_tiny_coco

    roots = {n: write_tiny_coco(tmp_path / n, n_train=6, n_val=3, n_test=3, num_keypoints=20,
                                keypoint_names=animalpose_names(), image_size=(96, 80), seed=s)["root"]
             for n, s in (("others", 1), ("cats", 2))}
    _execute("pretrain", tmp_path, data=str(roots["others"]), zero_shot=str(roots["cats"]),
             backbones=["resnet50"], budget="smoke", device="cpu", results_dir=str(tmp_path / "r"),
             figures_dir=str(tmp_path / "f"), out_dir=str(tmp_path / "ckpt"), shared_knobs=QUICK, num_workers=0)
    rec = _record(tmp_path / "r", "pretrain")
    (run,) = rec["runs"]
    assert run["status"] == "finished" and 0 <= run["zero_shot"]["AP"] <= 1
    assert Path(run["start_checkpoint"]["path"]).parent == tmp_path / "ckpt"
    w, h = _png_size(rec["figures"]["heldout_ap"])
    assert w > 200 and h > 100


def test_search_notebook(tiny_cats, tmp_path):
    results = tmp_path / "results"
    _execute("08_search", tmp_path, data_root=str(tiny_cats), study="nb", n_trials=2, pruner="median",
             budget="smoke", device="cpu", sampler_seed=0, space={"lr": ["log", 1e-4, 1e-2], "sigma": ["float", 1, 3]},
             results_dir=str(results), figures_dir=str(tmp_path / "figures"), shared_knobs=QUICK, num_workers=0)
    rec = _record(results, "08_search")
    assert rec["study"] == "nb" and rec["block"] == "search/nb" and rec["storage"].endswith("/search/nb.db")
    assert [t["number"] for t in rec["trials"]] == [0, 1] and [r["number"] for r in rec["table"]] == [0, 1]
    for t, row in zip(rec["trials"], rec["table"]):
        run = json.loads(Path(t["result"]).read_text())
        assert t["state"] == row["state"] == "COMPLETE" and t["value"] == run["best"]["AP"]
        assert run["block"] == "search/nb" and run["experiment_knobs"] == t["params"]
        assert {"AP": row["AP"], "lr": row["lr"], "sigma": row["sigma"]} == pytest.approx(  # the table: 10 decimals
            {"AP": t["value"], **t["params"]}, rel=1e-6, abs=1e-10)
        assert Path(t["result"]).with_suffix(".py").is_file() and row["epochs"] == 2
    assert rec["best"]["AP"] == max(t["value"] for t in rec["trials"]) and rec["trained_epochs"] == 4
    assert rec["verdict"].startswith(f"Best: trial {rec['best']['number']}, AP ")
    for fig in ("history", "importance", "parallel"):
        w, h = _png_size(rec["figures"][fig])
        assert w > 200 and h > 100 and Path(rec["figures"][fig]).parent == tmp_path / "figures" / "08_search" / "nb"
