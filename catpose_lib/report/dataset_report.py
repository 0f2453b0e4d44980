"""Dataset analysis as the 00 notebook renders it: stats tables and sample images."""
from pathlib import Path

from catpose_lib.console import logged
from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.data.layout import annotation_path, same_boxes
from catpose_lib.data.stats import dataset_stats, plot_samples
from catpose_lib.data.validate import check_dataset
from catpose_lib.report.record import write_report_record


@logged("00_dataset")
def run_dataset_report(data_root="", scheme=None, figures_dir="figures", results_dir="results",
                       synthetic=None, n_samples=8, seed=0) -> dict:
    """Check the dataset, compute its tables (also saved as CSV) and draw sample images."""
    root = resolve_data_root(data_root, **(synthetic or {}))
    check = check_dataset(root, scheme=scheme)
    tables = relabel_test_info(dataset_stats(root), root)
    out_dir = Path(figures_dir) / "00_dataset"
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = out_dir / "samples.png"
    plot_samples(root, split="train", n=n_samples, seed=seed, out=samples)  # a plain Figure: nothing to close
    table_dir = Path(results_dir) / "dataset"
    table_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(table_dir / f"{name}.csv")

    record = write_report_record(results_dir, "00_dataset", data_root=str(root), figures=dict(samples=samples),
                                 tables={name: table.reset_index() for name, table in tables.items()})
    return dict(data_root=str(root), check=check, tables=tables, figures=dict(samples=samples), record=record)


def test_info_label(root) -> str:
    """What the course layout's test_info.json is: 'test' means only a blind test set, so it
    is named by its file, and as the val boxes where it holds exactly those (Animal-Pose)."""
    same = same_boxes(annotation_path(root, "test"), annotation_path(root, "val"))
    return "test_info (the val boxes)" if same else "test_info (boxes only)"


def relabel_test_info(tables: dict, root) -> dict:
    """data.stats' tables with its 'test' split (test_info.json) named by :func:`test_info_label`."""
    if not annotation_path(root, "test").exists():
        return tables
    label = test_info_label(root)  # rename maps every level of a MultiIndex (box_size: split, measure)
    return {name: table.rename(index={"test": label}, columns={"test": label}) for name, table in tables.items()}
