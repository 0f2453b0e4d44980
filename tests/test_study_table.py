"""`table WHAT`: the study, compute, path and complexity tables, and the generated tables of the
README and docs/ (scripts/readme_tables.py)."""
import json
import runpy
import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_study_table_lists_every_block_in_order_with_the_runs_numbers(tmp_path):
    demo = REPO / "results" / "demo"  # the committed demo: baseline + block 03
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "study", "--results", str(demo),
                          "--markdown"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split("|")[1:-1] for line in out.stdout.splitlines()[2:]]
    blocks = [r[0].strip() for r in rows]
    runs = sorted(json.loads(p.read_text())["no"] for p in (demo / "lr_batch").glob("*_s[0-9].json"))
    assert blocks == ["baseline"] + ["lr_batch"] * len(runs)
    assert [int(r[1]) for r in rows[1:]] == runs
    r13 = json.loads((demo / "lr_batch" / "13_s0.json").read_text())
    row = next(r for r in rows if r[0].strip() == "lr_batch" and int(r[1]) == 13)
    assert row[5].strip() == f"{r13['best']['epoch']}: {r13['best']['AP']:.4f}"

    empty = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "study", "--results", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert empty.returncode != 0 and f"no block results in {tmp_path}" in empty.stderr


def test_compute_table_sums_each_blocks_epochs_and_hours(tmp_path):
    import shutil

    demo = REPO / "results" / "demo"
    results = tmp_path / "r"
    shutil.copytree(demo, results, ignore=shutil.ignore_patterns("*.py"))
    # a resumed run with validation times: its cost is its epochs' train + val seconds
    run = json.loads((results / "lr_batch" / "13_s0.json").read_text())
    for h in run["history"]:
        h.update(train_seconds=100.0, val_seconds=20.0)
    run.update(resumed=True, wall_seconds=5.0)
    (results / "lr_batch" / "13_s0.json").write_text(json.dumps(run))
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "compute", "--results", str(results),
                          "--markdown"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {r[0].strip(): [float(x) for x in r[1:]] for r in
            (line.split("|")[1:-1] for line in out.stdout.splitlines()[2:])}
    assert list(rows) == ["baseline", "lr_batch", "total"]
    jsons = [json.loads(p.read_text()) for p in (results / "lr_batch").glob("*_s[0-9].json")]
    others = [j for j in jsons if j["name"] != "13_s0"]
    def cost(j):  # train + val seconds of its epochs where every epoch has them, else its wall time
        h = j["history"]
        return (sum(e["train_seconds"] + e["val_seconds"] for e in h)
                if h and all(e.get("val_seconds") is not None for e in h) else j["wall_seconds"])

    seconds = sum(cost(j) for j in others) + 120.0 * len(run["history"])
    runs, epochs, hours, s_per_epoch = rows["lr_batch"]
    assert runs == len(jsons) and epochs == sum(len(j["history"]) for j in jsons)
    assert hours == round(seconds / 3600, 2) and s_per_epoch == round(seconds / epochs, 1)
    assert rows["total"][:2] == [rows["baseline"][0] + runs, rows["baseline"][1] + epochs]


def test_readme_and_docs_tables_are_what_the_committed_results_say(tmp_path):
    script = [sys.executable, str(REPO / "scripts" / "readme_tables.py")]
    tools = runpy.run_path(str(REPO / "scripts" / "readme_tables.py"))  # not __main__: nothing runs
    pages = tools["default_pages"]()
    assert pages == [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    text = {p.relative_to(REPO).as_posix(): p.read_text() for p in pages}
    for page, marker in [("README.md", "path --results results/real_cats"),
                         ("README.md", "study --results results/real_cats"),
                         ("docs/study.md", "compute --results results/real_cats"),
                         ("docs/study.md", "complexity --results results/real_cats"),
                         ("docs/knobs.md", "knobs")]:
        assert f"<!-- table: {marker} -->" in text[page], (page, marker)
    fresh = subprocess.run(script + ["--check"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert fresh.returncode == 0, fresh.stderr

    stale = tmp_path / "page.md"
    stale.write_text("# x\n<!-- table: study --results results/demo -->\n| old |\n<!-- end table -->\nmid\n"
                     "<!-- table: knobs -->\n| old knobs |\n<!-- end table -->\ntail\n")
    out = subprocess.run(script + [str(stale), "--check"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "'study --results results/demo' is stale" in out.stderr and "'knobs' is stale" in out.stderr
    assert "| old |" in stale.read_text()  # --check changes nothing
    subprocess.run(script + [str(stale)], cwd=REPO, check=True, timeout=300)
    refreshed = stale.read_text()
    assert "| old" not in refreshed and "| lr_batch " in refreshed and "| `sigma` " in refreshed
    assert refreshed.startswith("# x\n<!-- table: study --results results/demo -->\n")
    assert "<!-- end table -->\nmid\n<!-- table: knobs -->\n" in refreshed
    assert refreshed.endswith("<!-- end table -->\ntail\n")
    assert subprocess.run(script + [str(stale), "--check"], cwd=REPO, timeout=300).returncode == 0

    broken = tmp_path / "broken.md"
    broken.write_text("<!-- table: nosuchtable -->\n<!-- end table -->\n")
    out = subprocess.run(script + [str(broken)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "table nosuchtable" in out.stderr


def test_path_table_carries_each_blocks_recipe_and_draws_it(tmp_path):
    demo = REPO / "results" / "demo"  # the committed demo: baseline + block 03
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "path", "--results", str(demo),
                          "--markdown", "--figure", str(tmp_path / "path.png")], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in out.stdout.splitlines()[2:]]
    assert [r[0] for r in rows] == ["baseline", "03 lr_batch"]
    runs = [json.loads(p.read_text()) for p in (demo / "lr_batch").glob("*_s[0-9].json")]
    top = max((r for r in runs if r.get("best")), key=lambda r: r["best"]["AP"])
    base = [json.loads(p.read_text())["best"]["AP"] for p in (demo / "baseline").glob("00_s[0-9].json")]
    assert float(rows[0][3]) == round(sum(base) / len(base), 4)
    assert rows[1][5] == f"{top['no']}: {top['best']['AP']:.4f}"  # the block's winner, adopted or not
    carried = top["best"]["AP"] if rows[1][6] == "True" else sum(base) / len(base)
    assert float(rows[1][3]) == round(carried, 4)
    assert (tmp_path / "path.png").stat().st_size > 10_000
    empty = subprocess.run([sys.executable, "-m", "catpose_lib", "table", "path", "--results", str(tmp_path)],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert empty.returncode != 0 and "no " in empty.stderr


def test_complexity_table_prints_notebook_07s_csv_and_names_it_when_missing(tmp_path):
    (tmp_path / "final_complexity.csv").write_text("model,params_M,GFLOPs\nfinal (run 32),28.54,5.764\n")
    cmd = [sys.executable, "-m", "catpose_lib", "table", "complexity", "--markdown", "--results"]
    out = subprocess.run(cmd + [str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert [c.strip() for c in out.stdout.splitlines()[2].split("|")[1:-1]] == ["final (run 32)", "28.54", "5.764"]
    missing = subprocess.run(cmd + [str(tmp_path / "none")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and str(tmp_path / "none" / "final_complexity.csv") in missing.stderr


def test_reference_tables_print_and_starts_table_writes_nothing(tmp_path):
    """`table reference` blanks missing run numbers (a nullable integer column took no '' and the
    command failed); `table starts` prints without writing RESULTS/starts.json (the report does)."""
    import shutil

    from catpose_lib.commands.table import reference_blocks_table, reference_table, starts_table

    results = REPO / "results" / "real_cats"
    if not (results / "baseline").is_dir():
        pytest.skip("the committed study is not in this checkout")
    table = reference_table(results)
    assert len(table) >= 30 and (table.loc[table["ref_no"] == 0, "base_no"] == "").all()
    assert "same_direction" in reference_blocks_table(results).columns
    copy = tmp_path / "real_cats"
    shutil.copytree(results, copy, ignore=shutil.ignore_patterns("runs", "notebooks", "*.csv"))
    (copy / "starts.json").unlink(missing_ok=True)
    starts = starts_table(copy)
    assert starts["best_AP"].max() > 0.4 and not (copy / "starts.json").exists()
