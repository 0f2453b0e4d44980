"""`make report`: the study as a paper, one HTML file built from the results folder, checked as
values: its sections in order, the reference comparison's rows, no library log or home path."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SECTIONS = ["abstract", "method", "reference", "block-01-augmentation", "block-02-epochs", "block-03-lr_batch",
            "block-04-resolution", "block-05-backbone", "block-06-optimizer", "path", "final-model", "limitations",
            "reproduce"]


def _text(html: str) -> str:
    """The page's words: no embedded images, styles or tags."""
    html = re.sub(r'src="data:[^"]*"', "", html)
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The committed study's report, built from a copy of its results (nothing written in the repo)."""
    tmp = tmp_path_factory.mktemp("paper")
    results = tmp / "real_cats"
    shutil.copytree(REPO / "results" / "real_cats", results, ignore=shutil.ignore_patterns("notebooks"))
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "report", "--results", str(results), "--figures",
                          str(tmp / "figures"), "--out", str(tmp / "report")], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return tmp, results, (tmp / "report" / "catpose_report.html")


def test_the_report_is_a_paper_with_its_sections_in_order(built):
    _, _, page = built
    html = page.read_text()
    assert page.stat().st_size <= 4 * 2**20
    positions = [html.index(f'<section id="{s}">') for s in SECTIONS]
    assert positions == sorted(positions)
    text = _text(html)
    abstract = text[text.index("Abstract"):text.index("Method")]
    for words in ("Question.", "Data.", "Protocol.", "Main result.", "Blind test.", "ground-truth boxes",
                  "AP 0.391", "scored independently"):
        assert words in abstract, words
    assert "final recipe is run 35" in abstract  # block 05's Lite2 start wins; block 06's winner is not carried on
    assert html.count("<figure>") >= 3 * 6 + 5  # 3 per block; the reference, the path, 3 of the final model
    block5 = text[text.index("Block 05"):text.index("Block 06")]
    assert "The starts compared" in block5 and "stopped after epoch 9 of 25" in block5  # runs 35-36 and their starts
    block6 = text[text.index("Block 06"):text.index("The path from the baseline")]
    assert "not beyond the noise" in block6 and "Adamax" in block6 and "0.685" in block6  # the reference beside it


def test_the_report_holds_no_log_line_home_path_or_long_number(built):
    _, _, page = built
    html = page.read_text()
    for bad in ("Average Precision  (AP) @[", "WARNING", "Traceback", "/root/", str(Path.home()) + "/",
                "test-set predictions"):
        assert bad not in html, bad
    assert not re.findall(r"\b0\.\d{4,}\b", _text(html))  # numbers to 3 decimals


def test_the_reference_comparison_covers_every_reference_run(built):
    import pandas as pd

    from catpose_lib.report.reference import load_reference

    _, results, _ = built
    fresh = pd.read_csv(results / "reference_comparison.csv", dtype={"ref_no": str})
    ref = load_reference()
    assert len(fresh) == len(ref) == 33 and fresh["ref_no"].tolist() == ref["ref_no"].tolist()  # 0-31 and 26b
    for col in ("ref_no", "project_no", "block", "reference_best_AP", "best_AP", "best_AP_sd", "seeds",
                "same_direction"):
        assert col in fresh.columns, col
    r19 = fresh[fresh["project_no"] == 19].iloc[0]
    runs = [json.loads(p.read_text())["best"]["AP"] for p in (results / "lr_batch").glob("19_s[0-9].json")]
    assert r19["seeds"] == 3 and r19["best_AP"] == pytest.approx(sum(runs) / 3, abs=1e-4)
    assert r19["reference_best_AP"] == 0.459
    oom = fresh[fresh["reference_outcome"] == "CUDA out of memory"]
    assert set(oom["project_no"]) == {27, 29, 30} and oom["same_direction"].isna().all()
    # the committed CSV is what the results say today
    committed = pd.read_csv(REPO / "results" / "real_cats" / "reference_comparison.csv", dtype={"ref_no": str})
    pd.testing.assert_frame_equal(committed, fresh)


def test_the_packaged_reference_is_the_shared_one():
    shared = REPO.parent / "shared" / "reference" / "course_study.csv"
    if not shared.is_file():
        pytest.skip("../shared/reference is absent (fresh clone)")
    from catpose_lib.report.reference import REFERENCE_CSV

    assert REFERENCE_CSV.read_text() == shared.read_text()


def test_a_note_written_for_other_results_is_flagged():
    from catpose_lib.report.paper import note_mismatches, read_notes

    notes = read_notes(REPO / "results" / "real_cats")
    assert set(notes) == {"augmentation", "epochs", "lr_batch", "resolution", "backbone", "optimizer"}
    assert note_mismatches(notes["optimizer"], {"same_winner": True, "winner_carried_on": False,
                                                "reference_winner_beats_base": True}) == []
    assert note_mismatches(notes["optimizer"], {"same_winner": True, "winner_carried_on": True,
                                                "reference_winner_beats_base": True}) == [
        ("winner_carried_on", False, True)]


def test_the_committed_notes_match_the_committed_results(built):
    from catpose_lib.report.paper import note_mismatches, read_notes
    from catpose_lib.report.reference import reference_blocks, reference_comparison

    _, results, page = built
    facts = reference_blocks(reference_comparison(results), results).set_index("block").to_dict("index")
    for block, note in read_notes(results).items():
        assert note_mismatches(note, facts[block]) == [], block
    assert "written for other results" not in page.read_text()


def test_report_of_a_folder_without_results_is_a_clear_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "report", "--results", str(tmp_path), "--figures",
                          str(tmp_path / "f"), "--out", str(tmp_path / "out")], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 2 and "no baseline results" in out.stderr
    assert not (tmp_path / "out").exists()
