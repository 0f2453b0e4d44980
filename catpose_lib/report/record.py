"""What a notebook showed, as values: each report writes ``RESULTS/reports/<notebook>.json``
(tables as records, verdict, figure paths, key numbers), read by the tests and by anyone who
wants the numbers without scraping the notebook."""
import json
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.report.paths import project_root


def plain(value, root=None):
    """``value`` as JSON values: DataFrames as records, paths inside the project relative to
    its root (a record names no one's home folder), other paths as they are."""
    import pandas as pd

    root = root or project_root()
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records"))
    if isinstance(value, dict):
        return {str(k): plain(v, root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, root) for v in value]
    if isinstance(value, Path):
        try:
            return str(value.resolve().relative_to(root))
        except ValueError:
            return str(value)
    return value


def write_report_record(results_dir, notebook: str, **values) -> Path:
    path = Path(results_dir) / "reports" / f"{notebook}.json"
    atomic_write_text(path, json.dumps(plain(values), indent=1, default=str))
    return path


def notebook_done(results_dir, notebook: str) -> bool:
    """The notebook's record exists and every run it lists finished: a lane restarted later need
    not execute it again (its runs would all be skipped; the notebook and figures stay as they are)."""
    path = Path(results_dir) / "reports" / f"{notebook}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return all(r.get("status") == "finished" for r in record.get("runs", []))


if __name__ == "__main__":  # python -m catpose_lib.report.record RESULTS NOTEBOOK: exit 0 when done
    import sys

    sys.exit(0 if notebook_done(sys.argv[1], sys.argv[2]) else 1)
