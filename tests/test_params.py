"""Run parameters are checked before any work, in notebooks and on the CLI alike."""
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO


def test_lists_of_runs_are_accepted_as_papermill_users_write_them():
    from catpose_lib.recipe.params import check_run_parameters, parse_ints

    assert parse_ints("experiments", "9,10") == parse_ints("experiments", "9 10") == [9, 10]
    assert parse_ints("experiments", " 9, 10 ") == parse_ints("experiments", [9, "10"]) == [9, 10]
    assert parse_ints("experiments", 9) == [9] and parse_ints("experiments", "") == []
    p = check_run_parameters(block="03", experiments="9 10", seeds="0,1,2", budget="0.5")
    s = p.pop("settings")
    assert p == dict(block="lr_batch", experiments=[9, 10])
    assert (s.budget, s.seeds, s.confirm_seeds, s.start, s.protocol) == ("0.5", (0, 1, 2), (), None, None)


@pytest.mark.parametrize("kwargs,name,accepts", [
    (dict(block="07"), "block", "01_augmentation"),
    (dict(block="lr_batch", experiments="9,99"), "experiments", "not in block lr_batch"),
    (dict(experiments="9;10"), "experiments", "list of whole numbers"),
    (dict(budget=0), "budget", "(0, 1]"),
    (dict(budget="lots"), "budget", "'full', 'smoke' or a fraction"),
    (dict(precision="fp8"), "precision", "auto, fp32, bf16, fp16"),
    (dict(device="tpu"), "device", "auto, cpu, cuda"),
    (dict(device="cuda"), "device", "no CUDA device"),
    (dict(base="worst"), "base", "'baseline' or 'best'"),
    (dict(shared_knobs={"lr_typo": 1}), "shared_knobs", "unknown experiment knob"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_bad_parameter_is_one_line_naming_it(kwargs, name, accepts):
    from catpose_lib.errors import ParameterError
    from catpose_lib.recipe.params import check_run_parameters

    with pytest.raises(ParameterError) as exc:
        check_run_parameters(**kwargs)
    msg = str(exc.value)
    assert msg.startswith(f"parameter '{name}'") and accepts in msg and "\n" not in msg


def test_a_data_root_without_annotations(tmp_path):
    from catpose_lib.errors import ParameterError
    from catpose_lib.recipe.params import check_run_parameters

    (tmp_path / "images").mkdir()
    with pytest.raises(ParameterError, match=r"parameter 'data_root'.*lacks annotations/train.json"):
        check_run_parameters(data_root=tmp_path)


def test_cli_fails_before_any_work(tiny_cats, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "catpose_lib", "run", "lr_batch", "--data", str(tiny_cats),
                           "--results", str(tmp_path / "r"), "--experiments", "9,99", "--device", "cpu"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: parameter 'experiments' = '9,99': experiments [99] are not in block lr_batch "
        "(it has [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])"]
    assert not (tmp_path / "r").exists()


def test_notebook_fails_at_once_on_a_bad_parameter(tiny_cats, tmp_path):
    import papermill as pm

    t0 = time.time()
    with pytest.raises(pm.PapermillExecutionError, match=r"parameter 'budget' = 0"):
        pm.execute_notebook(str(REPO / "notebooks" / "03_lr_batch.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters=dict(data_root=str(tiny_cats), budget=0, results_dir=str(tmp_path / "r"),
                                            figures_dir=str(tmp_path / "f"), device="cpu"),
                            kernel_name="python3", progress_bar=False, cwd=str(REPO))
    assert time.time() - t0 < 120 and not (tmp_path / "r").exists()
