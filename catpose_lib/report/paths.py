"""Project-relative paths, so a notebook run from notebooks/ or from the root writes to the same place."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_path(path) -> Path:
    """Absolute paths stay; relative ones are taken relative to the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p
