"""One shareable HTML document from the study's executed notebooks (nbconvert's HTML exporter,
figures embedded as data URIs): the notebooks in study order, each under its own heading."""
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.errors import CatposeError

REPORT_NAME = "catpose_report.html"


def study_notebooks(notebooks_dir) -> list:
    """The executed notebooks of a folder in study order (00_..., 01_..., ..., 07_...)."""
    folder = Path(notebooks_dir)
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("."))
    if not found:
        raise CatposeError(f"report: no executed notebooks (NN_name.ipynb) in {folder}; run the study's "
                           f"notebooks with papermill into that folder first")
    return found


def merge_notebooks(paths, title="catpose study"):
    """One notebook: a title cell, then every notebook's cells after a heading naming its file."""
    import nbformat

    merged = nbformat.v4.new_notebook()
    merged.metadata = nbformat.read(str(paths[0]), as_version=4).metadata
    merged.metadata["title"] = title
    merged.cells.append(nbformat.v4.new_markdown_cell(
        f"# {title}\n\n" + "\n".join(f"- {Path(p).stem}" for p in paths)))
    for path in paths:
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception as exc:  # nbformat raises several kinds for a broken file
            raise CatposeError(f"report: {path} is not a readable notebook ({type(exc).__name__}: {exc})") from None
        merged.cells.append(nbformat.v4.new_markdown_cell(f"---\n\n*notebook `{Path(path).name}`*"))
        merged.cells.extend(c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", []))
    return merged


def build_html_report(notebooks_dir, out_dir, title="catpose study", exclude_input=True) -> Path:
    """Render the executed notebooks of ``notebooks_dir`` into ``out_dir/catpose_report.html``
    (code cells hidden by default: a report shows tables, figures and text)."""
    from nbconvert import HTMLExporter

    merged = merge_notebooks(study_notebooks(notebooks_dir), title)
    exporter = HTMLExporter(embed_images=True, exclude_input=exclude_input, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(merged)
    out = Path(out_dir) / REPORT_NAME
    atomic_write_text(out, html)
    return out
