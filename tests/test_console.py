"""catpose_lib.console: our lines reach the terminal, what the libraries print goes to a log."""
import os
import subprocess
import sys

import pytest

from catpose_lib.console import LOG_ENV, library_log, logged, say


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CATPOSE_CACHE", str(tmp_path))
    monkeypatch.delenv(LOG_ENV, raising=False)
    return tmp_path / "logs"


def test_library_output_goes_to_the_log_and_our_lines_to_the_terminal(log_dir, capfd):
    with library_log("probe") as path:
        say("[lr_batch 09_s0, run 1/12] epoch 1/8  AP 0.1000")
        print(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ] =  0.100")
        print("a library's line on stderr", file=sys.stderr)
        os.write(2, b"written by C code\n")
        subprocess.run([sys.executable, "-c", "import os, warnings; warnings.warn('a library warning'); "
                        f"print('child', os.environ['{LOG_ENV}'])"], check=True)
        inner_env = os.environ[LOG_ENV]
    out, err = capfd.readouterr()
    assert path.parent == log_dir and inner_env == str(path) and LOG_ENV not in os.environ
    assert out.splitlines() == ["[lr_batch 09_s0, run 1/12] epoch 1/8  AP 0.1000",
                                f"library output (metric printouts, warnings): {path}"]
    assert err == ""
    text = path.read_text()
    for line in ("epoch 1/8  AP 0.1000", "Average Precision", "a library's line on stderr", "written by C code",
                 "UserWarning: a library warning", f"child {path}"):
        assert line in text, line


def test_nested_and_inherited_logs_share_one_file_named_once(log_dir, capfd, monkeypatch):
    with library_log("outer") as outer:
        with library_log("inner") as inner:
            print("metric printout")
        assert inner == outer
    assert capfd.readouterr().out.count("library output") == 1
    monkeypatch.setenv(LOG_ENV, str(outer))  # a child process of the demo: the parent names the log
    with library_log("child") as child:
        print("more library output")
    assert child == outer and capfd.readouterr().out == ""
    assert outer.read_text().splitlines() == ["metric printout", "more library output"]


def test_a_log_with_only_our_lines_is_removed_and_not_named(log_dir, capfd):
    @logged(lambda block: f"report_{block}")
    def report(block):
        say(f"table of {block}")
        return block

    assert report("lr_batch") == "lr_batch"
    assert capfd.readouterr().out == "table of lr_batch\n"
    assert not list(log_dir.glob("*.log"))


def test_cli_command_output_is_ours_alone(log_dir, capfd, tiny_cats):
    from catpose_lib.cli import main

    assert main(["stats", str(tiny_cats)]) == 0
    out = capfd.readouterr().out
    assert "train" in out and "Average Precision" not in out
