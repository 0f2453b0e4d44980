"""`make study` / `study`: it measures this machine first and says what the whole study and the
missing starts will cost, before any training."""
import subprocess
import sys

from tests.conftest import REPO


def test_study_estimate_measures_first_and_counts_the_missing_starts(tiny_cats, tmp_path):
    env_cache = tmp_path / "cache"  # no start exists there: all four are counted
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "study", "--data", str(tiny_cats), "--estimate",
                          "--device", "cpu", "--results", str(tmp_path / "r")], cwd=REPO, capture_output=True,
                         text=True, timeout=600, env={**__import__("os").environ, "CATPOSE_CACHE": str(env_cache)})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    measured = next(line for line in lines if line.startswith("[study] measured on this machine"))
    assert "samples/s" in measured and ("bf16" in measured or "fp32" in measured)
    for backbone in ("resnet50", "hrnet_w32", "efficientnet_lite2"):
        assert any(line.strip().startswith(f"start {backbone}") for line in lines), backbone
    expected = next(line for line in lines if line.startswith("[study] expected:"))
    hours = float(expected.split("expected: ")[1].split(" thread-hours")[0])
    assert hours > 0 and "lane(s)" in expected
    assert not (tmp_path / "r").exists()  # nothing trained, nothing written
