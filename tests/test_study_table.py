"""`table study`: the README's study table, every block with results in study order."""
import json
import subprocess
import sys

from tests.conftest import REPO


def test_study_table_lists_every_block_in_order_with_the_runs_numbers(tmp_path):
    demo = REPO / "results" / "demo"  # the committed demo: baseline + block 03
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "study", "--results", str(demo),
                          "--markdown"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in out.stdout.splitlines()[2:]]
    blocks = [r[0].strip() for r in rows]
    runs = sorted(json.loads(p.read_text())["no"] for p in (demo / "lr_batch").glob("*_s*.json"))
    assert blocks == ["baseline"] + ["lr_batch"] * len(runs)
    assert [int(r[1]) for r in rows[1:]] == runs
    r13 = json.loads((demo / "lr_batch" / "13_s0.json").read_text())
    row = next(r for r in rows if r[0].strip() == "lr_batch" and int(r[1]) == 13)
    assert row[5].strip() == f"{r13['best']['epoch']}: {r13['best']['AP']:.4f}"

    empty = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "study", "--results", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert empty.returncode != 0 and f"no block results in {tmp_path}" in empty.stderr
