"""dataset_stats / plot_samples / `python -m catpose_lib stats` on tiny generated data."""
import numpy as np
import pytest
from tiny_coco import labelled, write_tiny_coco

from catpose_lib.data.stats import dataset_stats, format_stats, plot_samples


@pytest.fixture
def tiny(tmp_path):
    # train: 4 images with 1, 2, 0, 1 instances; val and test: 2 images with 1, 2 instances
    return write_tiny_coco(tmp_path / "data", n_train=4, n_val=2, n_test=2, num_keypoints=17,
                           instances_per_image=[1, 2, 0], unlabelled_every=4)


def test_split_table(tiny):
    df = dataset_stats(tiny["root"])["splits"]
    assert list(df.index) == ["train", "val", "test"]
    assert df["images"].tolist() == [4, 2, 2]
    assert df["instances"].tolist() == [4, 3, 3]
    assert df["images_without_instances"].tolist() == [1, 0, 0]
    # train: each keypoint unlabelled in exactly one of its 4 instances -> 17 * 3
    # val: 3 instances; keypoints 1, 5, 9, 13 always labelled, the others once unlabelled
    assert df["labelled_keypoints"].tolist() == [51, 38, 0]
    assert df.loc["train", "labelled_per_instance"] == pytest.approx(51 / 4)
    assert df.loc["val", "labelled_per_instance"] == pytest.approx(38 / 3)
    assert np.isnan(df.loc["test", "labelled_per_instance"])


def test_instances_per_image(tiny):
    df = dataset_stats(tiny["root"])["instances_per_image"]
    assert list(df.index) == [0, 1, 2]
    assert df["train"].tolist() == [1, 2, 1]
    assert df["val"].tolist() == [0, 1, 1]
    assert df["test"].tolist() == [0, 1, 1]


def test_box_sizes(tiny):
    df = dataset_stats(tiny["root"])["box_size"]
    for split in ("train", "val", "test"):
        wh = np.array([a["bbox"][2:] for a in tiny["data"][split]["annotations"]], dtype=float)
        for measure, values in (("width", wh[:, 0]), ("height", wh[:, 1]),
                                ("sqrt_area", np.sqrt(wh[:, 0] * wh[:, 1]))):
            row = df.loc[(split, measure)]
            assert row["count"] == len(values)
            assert row["min"] == values.min() and row["max"] == values.max()
            assert row["q50"] == pytest.approx(np.median(values))
            assert row["mean"] == pytest.approx(values.mean())
            assert row["min"] <= row["q05"] <= row["q25"] <= row["q50"] <= row["q75"] <= row["q95"] <= row["max"]
    assert list(df.columns) == ["count", "mean", "min", "q05", "q25", "q50", "q75", "q95", "max"]


def test_keypoint_labelled_rates(tmp_path):
    names = [f"part_{k}" for k in range(17)]
    info = write_tiny_coco(tmp_path / "d", n_train=4, n_val=3, num_keypoints=17, keypoint_names=names,
                           unlabelled_every=4)
    tables = dataset_stats(info["root"])
    rate, count = tables["keypoint_labelled"], tables["keypoint_labelled_count"]
    assert list(rate.index) == names and list(rate.columns) == ["train", "val"]
    assert rate["train"].tolist() == [0.75] * 17
    expect_val = [sum(labelled(j, k, 4) for j in range(3)) for k in range(17)]
    assert count["val"].tolist() == expect_val
    assert expect_val[:4] == [2, 3, 2, 2]  # keypoint 1 is labelled in all three val instances
    assert rate["val"].tolist() == pytest.approx([c / 3 for c in expect_val])
    assert "test" not in rate.columns


def test_format_and_cli(tiny, capsys):
    text = format_stats(dataset_stats(tiny["root"]))
    assert "Images and instances per split" in text and "kp16" in text
    from catpose_lib.cli import main

    assert main(["stats", str(tiny["root"])]) == 0
    out = capsys.readouterr().out
    assert out.strip() == text.strip()


def test_plot_samples_png(tiny, tmp_path):
    from PIL import Image

    out = tmp_path / "figs" / "samples.png"
    fig = plot_samples(tiny["root"], split="train", n=3, seed=1, out=out)
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 3
    assert all(ax.get_title().startswith("train_") for ax in drawn)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    with Image.open(out) as im:
        assert im.size[0] > 300 and im.size[1] > 200
    # asking for more images than the split holds draws them all
    fig = plot_samples(tiny["root"], split="val", n=8)
    assert len([ax for ax in fig.axes if ax.images]) == 2
    # the skeleton is drawn: a drawn panel differs from the raw image
    ax = next(ax for ax in drawn if "(0 inst.)" not in ax.get_title())
    panel = ax.images[0].get_array()
    name = ax.get_title().split(" ")[0]
    with Image.open(tiny["root"] / "images" / name) as im:
        raw = np.asarray(im.convert("RGB"))
    assert panel.shape == raw.shape and (np.asarray(panel) != raw).any()
