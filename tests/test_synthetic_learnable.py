"""The synthetic cats are learnable: a small top-down model trained briefly on them reaches a
clearly non-trivial AP on their validation split (random weights score ~0)."""
import pytest

LEARN = dict(resnet_depth=18, input_size=128, heatmap_size=32, sigma=2, lr=1e-3, batch_size=16,
             epochs=8, warmup_iters=5)


@pytest.mark.slow
def test_small_model_learns_synthetic_cats(tmp_path_factory):
    from catpose_lib.data.synthetic import generate_dataset
    from catpose_lib.engine.sweep import run_baseline

    root = tmp_path_factory.mktemp("learn") / "cats"
    generate_dataset(root, n_train=160, n_val=24, n_test=4, size=160, seed=3)
    (r,) = run_baseline(root, tmp_path_factory.mktemp("results"), common_overrides=LEARN,
                        num_workers=2, verbose=True, precision="auto", channels_last=True)
    assert r["status"] == "finished", r.get("message")
    aps = [h["AP"] for h in r["history"]]
    print("AP per epoch:", [round(a, 3) for a in aps])
    assert r["best"]["AP"] > 0.25, aps
    assert aps[-1] > aps[0] + 0.15, aps
