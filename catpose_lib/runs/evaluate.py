"""COCO keypoint metrics of a checkpoint under a given config: mmengine's ``Runner.test`` (the
config's test loader and evaluator, its flip test), in a throwaway work dir."""
import tempfile
from pathlib import Path


def test_checkpoint(cfg, checkpoint, work_dir=None) -> dict:
    """``{'AP': ..., 'AP50': ..., ...}`` of ``checkpoint`` with ``cfg`` (not changed)."""
    from mmengine.runner import Runner

    from catpose_lib.compat import checkpoint_loading  # lazy: torch/mmengine (CLI speed)

    checkpoint_loading.install()
    cfg = cfg.copy()
    with tempfile.TemporaryDirectory(prefix="catpose-eval-", dir=work_dir) as tmp:
        cfg.work_dir = tmp
        cfg.load_from = str(checkpoint)
        cfg.resume = False
        cfg.log_level = "WARNING"
        cfg.experiment_name = f"eval-{Path(tmp).name}"
        cfg.visualizer.name = f"visualizer-{cfg.experiment_name}"
        metrics = Runner.from_cfg(cfg).test()
    return {k.replace("coco/", ""): round(float(v), 6) for k, v in metrics.items()}
