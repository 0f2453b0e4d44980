"""What a notebook showed, as values: each report writes ``RESULTS/reports/<notebook>.json``
(tables as records, verdict, figure paths, key numbers), read by the tests and by anyone who
wants the numbers without scraping the notebook."""
import json
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text


def _plain(value):
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records"))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_report_record(results_dir, notebook: str, **values) -> Path:
    path = Path(results_dir) / "reports" / f"{notebook}.json"
    atomic_write_text(path, json.dumps(_plain(values), indent=1, default=str))
    return path
