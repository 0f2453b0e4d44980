"""The synthetic cats are learnable: a small top-down model trained briefly on them (from
scratch, ~2.5 min on 2 CPU cores) reaches a clearly non-trivial AP on their validation split,
where the untrained model scores 0."""
import pytest

# ResNet-18 at 64 px (measured here: AP 0.0000 after epoch 1, ~0.07 from epoch 20 on)
LEARN = dict(resnet_depth=18, input_size=64, heatmap_size=16, sigma=1.5, lr=2e-3, batch_size=16,
             epochs=40, warmup_iters=5)


@pytest.mark.slow
def test_small_model_learns_synthetic_cats(tmp_path_factory):
    from catpose_lib.data.synthetic import generate_dataset
    from catpose_lib.workers.blocks import run_baseline

    root = tmp_path_factory.mktemp("learn") / "cats"
    generate_dataset(root, n_train=200, n_val=24, n_test=4, size=160, seed=3)
    (r,) = run_baseline(root, tmp_path_factory.mktemp("results"), shared_knobs=LEARN,
                        num_workers=1, verbose=False, precision="auto", channels_last=True)
    assert r["status"] == "finished", r.get("message")
    aps = [h["AP"] for h in r["history"]]
    assert len(aps) == 40
    assert aps[0] < 0.01, aps                      # untrained: nothing
    assert r["best"]["AP"] > 0.04, aps             # trained: clearly above it
    assert min(aps[-5:]) > 0.03, aps               # and it stays there
