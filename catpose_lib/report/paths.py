"""Project-relative paths, so a notebook run from notebooks/ or from the project root writes to
the same place (and an installed, non-editable package still finds the checkout it runs in)."""
from pathlib import Path


def project_root(start=None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    catpose's ``pyproject.toml`` and ``notebooks/``; the working directory when there is none."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        toml = folder / "pyproject.toml"
        if toml.is_file() and (folder / "notebooks").is_dir() and 'name = "catpose"' in toml.read_text():
            return folder
    return here


def project_path(path) -> Path:
    """Absolute paths stay; relative ones are taken relative to the project root."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p
