"""`make report`: executed notebooks -> one HTML document with their tables and images."""
import base64
import io
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _executed(path, heading, table_html, png):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {heading}"),
                nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("report['table']", outputs=[nbformat.v4.new_output(
                    "execute_result", data={"text/html": table_html, "text/plain": "table"}, execution_count=1)]),
                nbformat.v4.new_code_cell("display(Image(...))", outputs=[nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Image>"})])]
    nbformat.write(nb, str(path))


def _png(color):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1], color=color)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_report_holds_every_notebook_table_and_image(tmp_path):
    import pandas as pd

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    pngs = {"01_augmentation": _png("red"), "03_lr_batch": _png("blue")}
    for name, png in pngs.items():
        table = pd.DataFrame({"No.": [1], "Best mAP (epoch: mAP)": [f"3: 0.{len(name)}21"]}).to_html()
        _executed(nbs / f"{name}.ipynb", f"block {name}", table, png)
    (nbs / "notes.ipynb").write_text("not a study notebook")  # ignored: not NN_name
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "report", str(nbs), "--out", str(tmp_path / "report")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    html = (tmp_path / "report" / "catpose_report.html").read_text()
    assert html.index("block 01_augmentation") < html.index("block 03_lr_batch")  # study order
    for name, png in pngs.items():
        assert f"3: 0.{len(name)}21" in html  # the table's value
        assert base64.b64encode(png).decode()[:200] in html  # the figure, embedded
    assert html.count("<table") >= 2 and "report['table']" not in html  # code hidden
    assert "x = 1" not in html  # papermill's injected parameters left out


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path):
    from catpose_lib.errors import CatposeError
    from catpose_lib.report.html_report import build_html_report

    with pytest.raises(CatposeError, match="no executed notebooks"):
        build_html_report(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
