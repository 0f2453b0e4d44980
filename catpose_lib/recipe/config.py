"""Build the resolved MMPose config of one run: baseline + base overrides + experiment
overrides + dataset + budget + runtime options."""
import copy
from pathlib import Path

from catpose_lib.configs import BASELINE_CONFIG
from catpose_lib.recipe.budget import apply_budget
from catpose_lib.recipe.knobs import apply_overrides
from catpose_lib.schemes import SCHEME_COUNTS, SCHEME_NAMES, root_scheme, scheme_file


def build_config(data_root, overrides=None, scheme=None, budget="full", seed=0,
                 work_dir=None, device="cpu", num_workers=None, config=None, min_epochs=1):
    """The resolved mmengine Config for one run.

    ``overrides`` are experiment knobs (base + experiment merged); ``scheme`` defaults to
    the dataset's own; ``budget`` is full | smoke | fraction; ``config`` is the MMPose config
    file to start from (default: the course baseline).
    """
    from mmengine.config import Config

    data_root = str(Path(data_root).resolve())
    scheme = scheme or root_scheme(data_root)
    if scheme not in SCHEME_NAMES:
        raise ValueError(f"unknown scheme {scheme!r}")
    import catpose_lib.runs.registered  # noqa: F401  (hooks, transforms, wrappers)

    cfg = Config.fromfile(str(config or BASELINE_CONFIG))
    cfg.custom_imports = dict(imports=["catpose_lib.runs.registered"], allow_failed_imports=False)
    metainfo = dict(from_file=scheme_file(scheme))
    n_kpt = SCHEME_COUNTS[scheme]
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = data_root + "/"
        loader.dataset.metainfo = metainfo
        if num_workers is not None:
            loader.num_workers = num_workers
            loader.persistent_workers = num_workers > 0
    cfg.model.head.out_channels = n_kpt
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        evaluator.ann_file = str(Path(data_root) / "annotations" / "val.json")
    apply_overrides(cfg, overrides or {})
    # the test loader is a copy of the val loader made when the file was read: give it the
    # val pipeline the knobs edited (input size), or Runner.test crops at the file's 128 px
    cfg.test_dataloader.dataset.pipeline = copy.deepcopy(cfg.val_dataloader.dataset.pipeline)
    apply_budget(cfg, budget, min_epochs)
    cfg.randomness = dict(seed=int(seed), deterministic=False)
    if device == "cpu":
        cfg.env_cfg.dist_cfg = dict(backend="gloo")
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    cfg.catpose = dict(scheme=scheme, budget=str(budget), seed=int(seed))
    return cfg
