"""Foundation: the MMPose stack imports, a top-down heatmap model trains with mmengine's
Runner on CPU, CocoMetric evaluates it, and a checkpoint resumes under torch >= 2.6."""
import copy
import math
import subprocess
import sys

import pytest
import torch

from tests.conftest import QUICK


def test_stack_imports_and_versions():
    import mmcv
    import mmcv.ops  # noqa: F401  (compiled ops: mmpose's registry needs them)
    import mmdet
    import mmengine
    import mmpose
    import mmpose.models  # noqa: F401

    import catpose_lib

    assert mmcv.__version__ == "2.1.0"
    assert mmengine.__version__ == "0.10.7"
    assert mmdet.__version__ == "3.3.0"
    assert mmpose.__version__ == "1.3.2"
    assert torch.__version__.startswith("2.14.1")
    assert catpose_lib.__version__
    from mmcv.ops import nms  # a compiled op really runs

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=torch.float32)
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "catpose_lib", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("synth", "import-animalpose", "check", "stats", "run", "table", "predict", "pack"):
        assert command in out


def _cfg(data_root, work_dir, epochs):
    from catpose_lib.recipe.config import build_config

    cfg = build_config(data_root, dict(QUICK, epochs=epochs, lr=1e-3, batch_size=4), work_dir=work_dir,
                       num_workers=0)
    cfg.log_level = "WARNING"
    return cfg


def test_loss_decreases_on_a_fixed_batch(tiny_cats, tmp_path):
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    import numpy as np

    cfg = _cfg(tiny_cats, tmp_path, epochs=1)
    torch.manual_seed(0)
    np.random.seed(0)  # the pipeline's random transforms draw from numpy's global state
    model = MODELS.build(cfg.model)
    model.init_weights()
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    model.train()
    for _ in range(30):
        data = model.data_preprocessor(copy.copy(batch), training=True)
        loss_dict = model(**data, mode="loss")
        loss = sum(v for k, v in loss_dict.items() if "loss" in k)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(float(loss))
    assert all(math.isfinite(v) for v in losses)
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    print("loss ratio", last / first)
    assert last < 0.6 * first, losses
    assert min(losses[-5:]) < min(losses[:5])


def _train(cfg):
    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_train_evaluate_checkpoint_resume(tiny_cats, tmp_path):
    """Train 2 epochs, evaluate with CocoMetric, then resume from the checkpoint to epoch 3."""
    from catpose_lib.compat import checkpoint_loading

    checkpoint_loading.install()
    checkpoint_loading.mark_run_dir(tmp_path)
    cfg = _cfg(tiny_cats, tmp_path, epochs=2)
    runner = _train(cfg)
    iters_per_epoch = len(runner.train_dataloader)
    assert runner.epoch == 2 and runner.iter == 2 * iters_per_epoch
    metrics = runner.val_loop.run()
    for key in ("coco/AP", "coco/AP .5", "coco/AP .75", "coco/AR"):
        assert key in metrics and 0.0 <= metrics[key] <= 1.0, (key, metrics)
    assert (tmp_path / "epoch_2.pth").exists()
    assert (tmp_path / "last_checkpoint").read_text().strip().endswith("epoch_2.pth")

    cfg = _cfg(tiny_cats, tmp_path, epochs=3)
    cfg.resume = True
    resumed_at = {}

    from mmengine.hooks import Hook

    class Probe(Hook):
        def before_train(self, runner):
            resumed_at.update(epoch=runner.epoch, iter=runner.iter)

    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    runner.register_hook(Probe())
    runner.train()
    assert resumed_at == dict(epoch=2, iter=2 * iters_per_epoch)
    assert runner.epoch == 3 and runner.iter == 3 * iters_per_epoch


def test_resume_fails_without_the_weights_only_fix(tiny_cats, tmp_path):
    """mmengine 0.10.7's plain torch.load refuses its own checkpoint under torch >= 2.6."""
    from catpose_lib.compat import checkpoint_loading

    checkpoint_loading.install()
    checkpoint_loading.mark_run_dir(tmp_path)
    _train(_cfg(tiny_cats, tmp_path, epochs=1))
    checkpoint_loading.uninstall()
    try:
        cfg = _cfg(tiny_cats, tmp_path, epochs=2)
        cfg.resume = True
        from mmengine.runner import Runner

        with pytest.raises(Exception, match="[Ww]eights only load failed"):
            Runner.from_cfg(cfg).train()
    finally:
        checkpoint_loading.install()


def test_external_checkpoints_load_with_weights_only(tmp_path):
    """Files from outside a catpose run folder are loaded with weights_only=True."""
    from catpose_lib.compat.checkpoint_loading import load_local_checkpoint

    plain = tmp_path / "plain.pth"
    torch.save({"state_dict": {"w": torch.ones(2)}}, plain)
    assert load_local_checkpoint(plain)["state_dict"]["w"].sum() == 2

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pth"
    torch.save({"x": Evil()}, evil)
    with pytest.raises(RuntimeError, match="weights_only=True"):
        load_local_checkpoint(evil)
