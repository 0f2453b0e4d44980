"""Report records (RESULTS/reports/<notebook>.json) and what a restarted lane reads from them."""
import subprocess
import sys

from tests.conftest import REPO


def test_a_notebook_is_done_only_when_its_record_says_every_run_finished(tmp_path):
    from catpose_lib.report.record import notebook_done, write_report_record

    assert not notebook_done(tmp_path, "03_lr_batch")  # no record yet
    write_report_record(tmp_path, "00_dataset", counts={"train": 3})
    assert notebook_done(tmp_path, "00_dataset")  # no runs: the record alone
    runs = [dict(no=9, seed=0, status="finished"), dict(no=10, seed=0, status="failed")]
    write_report_record(tmp_path, "03_lr_batch", runs=runs)
    assert not notebook_done(tmp_path, "03_lr_batch")  # a failed run is tried again at a restart
    runs[1]["status"] = "finished"
    write_report_record(tmp_path, "03_lr_batch", runs=runs)
    assert notebook_done(tmp_path, "03_lr_batch")
    (tmp_path / "reports" / "04_resolution.json").write_text("{")  # torn: not done
    assert not notebook_done(tmp_path, "04_resolution")
    rc = [subprocess.run([sys.executable, "-m", "catpose_lib.report.record", str(tmp_path), nb], cwd=REPO).returncode
          for nb in ("03_lr_batch", "04_resolution")]
    assert rc == [0, 1]
