"""Every notebook runs with papermill on tiny synthetic data at the smoke budget, and its
outputs (table, figures, predictions) are checked."""
import json
import struct
from pathlib import Path

import pytest

from tests.conftest import QUICK, REPO

NOTEBOOKS = REPO / "notebooks"
BLOCK_RUNS = {"01_augmentation": [1, 3], "02_epochs": [6], "03_lr_batch": [10, 15],
              "04_resolution": [22], "05_backbone": [28], "06_optimizer": [32, 33]}


def _png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def _execute(name, out_dir, **parameters):
    import papermill as pm

    out = out_dir / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=parameters,
                        kernel_name="python3", progress_bar=False, cwd=str(REPO))
    return json.loads(out.read_text())


def _outputs_text(nb):
    text = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            text.append("".join(o.get("text", "")))
            text.append("".join(o.get("data", {}).get("text/plain", "")))
            text.append("".join(o.get("data", {}).get("text/markdown", "")))
    return "\n".join(text)


def test_notebook_sources_are_clean_and_parameterised():
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["00_dataset", "01_augmentation", "02_epochs", "03_lr_batch", "04_resolution",
                     "05_backbone", "06_optimizer", "07_final_report"]
    for p in NOTEBOOKS.glob("*.ipynb"):
        nb = json.loads(p.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, p
        for c in nb["cells"]:
            assert not c.get("outputs") and c.get("execution_count") is None, p
        if p.stem != "00_dataset":
            for param in ("data_root", "scheme", "budget", "seeds", "device", "experiments", "base",
                          "results_dir", "figures_dir"):
                assert f"\n{param} = " in "\n" + "".join(tagged[0]["source"]), (p, param)


@pytest.fixture(scope="module")
def study(tiny_cats, tmp_path_factory):
    return dict(data_root=str(tiny_cats), results=tmp_path_factory.mktemp("results"),
                figures=tmp_path_factory.mktemp("figures"), nbs=tmp_path_factory.mktemp("nbs"))


def test_dataset_notebook(study):
    nb = _execute("00_dataset", study["nbs"], data_root=study["data_root"],
                  results_dir=str(study["results"]), figures_dir=str(study["figures"]), n_samples=4)
    text = _outputs_text(nb)
    assert "train" in text and "val" in text
    w, h = _png_size(study["figures"] / "00_dataset" / "samples.png")
    assert w > 200 and h > 100


@pytest.mark.parametrize("name", list(BLOCK_RUNS))
def test_block_notebook(study, name):
    """Blocks run in order with base 'best', so each one starts from the previous block's best."""
    import pandas as pd

    runs = BLOCK_RUNS[name]
    nb = _execute(name, study["nbs"], data_root=study["data_root"], budget="smoke", seeds=[0],
                  device="cpu", experiments=runs, base="baseline" if name.startswith("01") else "best",
                  results_dir=str(study["results"]), figures_dir=str(study["figures"]),
                  overrides=QUICK, num_workers=0)
    block = name[3:]
    table = pd.read_csv(study["results"] / f"{block}.csv")
    assert sorted(table["no"]) == runs
    for _, row in table.iterrows():
        assert (0.0 <= row["best_AP"] <= 1.0) or row["status"] != "finished"
    text = _outputs_text(nb)
    assert "Final mAP (epoch: mAP)" in text and "Winner: run" in text
    for fig in ("ap_per_run", "ap_curves", "loss_curves"):
        w, h = _png_size(study["figures"] / name / f"{fig}.png")
        assert w > 200 and h > 100
    if not name.startswith("01"):
        result = json.loads(next((study["results"] / block).glob("*.json")).read_text())
        assert result["base"]["name"] != "baseline"


def test_final_report_notebook(study, tiny_cats):
    nb = _execute("07_final_report", study["nbs"], data_root=study["data_root"], budget="smoke",
                  device="cpu", results_dir=str(study["results"]), figures_dir=str(study["figures"]),
                  overrides=QUICK, num_workers=0, n_overlays=2, n_failures=2)
    preds = json.loads((study["results"] / "result_keypoints.json").read_text())
    test_info = json.loads((tiny_cats / "annotations" / "test_info.json").read_text())
    assert {p["image_id"] for p in preds} == {a["image_id"] for a in test_info["annotations"]}
    assert all(len(p["keypoints"]) == 51 for p in preds)
    for fig in ("path", "overlays", "failures", "per_keypoint_error"):
        w, h = _png_size(study["figures"] / "07_final_report" / f"{fig}.png")
        assert w > 200 and h > 100
    text = _outputs_text(nb)
    assert "Baseline mAP" in text and "GFLOPs" in text
