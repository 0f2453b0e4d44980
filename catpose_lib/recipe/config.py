"""The resolved MMPose config of one run: baseline + base knobs + experiment knobs + shared
knobs + dataset + budget (:func:`build_config`); its portable form, without runtime keys or
absolute paths (:func:`portable`: what a run's ``NN_sS.py`` holds and its key hashes), and the
data put back in (:func:`with_data`)."""
import copy
import hashlib
import json
from pathlib import Path

from catpose_lib.configs import BASELINE_CONFIG
from catpose_lib.data.layout import annotation_path
from catpose_lib.data.validate import root_scheme
from catpose_lib.recipe.budget import apply_budget
from catpose_lib.recipe.knobs import apply_knobs
from catpose_lib.schemes import SCHEME_COUNTS, SCHEME_NAMES, scheme_file


def build_config(data_root, knobs=None, scheme=None, budget="full", seed=0,
                 work_dir=None, device="cpu", num_workers=None, config=None, min_epochs=1):
    """The resolved mmengine Config for one run.

    ``knobs`` are experiment knobs (base + experiment merged); ``scheme`` defaults to
    the dataset's own; ``budget`` is full | smoke | fraction; ``config`` is the MMPose config
    file to start from (default: the course baseline).
    """
    from mmengine.config import Config

    data_root = str(Path(data_root).resolve())
    scheme = scheme or root_scheme(data_root)
    if scheme not in SCHEME_NAMES:
        raise ValueError(f"unknown scheme {scheme!r}")
    import catpose_lib.runs.registered  # noqa: F401  lazy: registers hooks, transforms, models (torch, mmpose)  # lazy: torch/mmengine (CLI speed)

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
        evaluator.ann_file = str(annotation_path(data_root, "val"))
    apply_knobs(cfg, knobs or {})
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


# where and how a run executes, not what it trains: left out of the portable config
RUNTIME_KEYS = ("work_dir", "experiment_name", "launcher", "resume", "log_level", "load_from", "data_root")
# the parts of a config that decide what is trained (a run's key hashes them, with the data's
# fingerprint, the start's sha256 and the seed); loader workers do not
TRAINED_KEYS = ("model", "codec", "train_dataloader", "val_dataloader", "val_evaluator", "optim_wrapper",
                "param_scheduler", "train_cfg", "randomness", "auto_scale_lr", "catpose")
RUNTIME_LOADER_KEYS = ("num_workers", "persistent_workers", "pin_memory")
LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
EVALUATORS = ("val_evaluator", "test_evaluator")
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]


def _portable_path(path: str) -> str:
    """A metainfo file as MMPose resolves it (``configs/...`` inside mmpose), or relative to the
    folder holding catpose_lib."""
    if "/.mim/configs/" in path:
        return "configs/" + path.split("/.mim/configs/", 1)[1]
    p = Path(path)
    return str(p.relative_to(_PACKAGE_PARENT)) if p.is_absolute() and _PACKAGE_PARENT in p.parents else path


def portable(cfg):
    """The run's config without runtime keys (work dir, names, start path: its sha256 is in the
    key) and without absolute paths: dataset roots empty, annotation files relative to the data
    root, metainfo named as MMPose finds it.  :func:`with_data` makes it runnable again."""
    cfg = copy.deepcopy(cfg)
    for key in RUNTIME_KEYS:
        cfg.pop(key, None)
    for loader in LOADERS:
        if cfg.get(loader):
            ds = cfg[loader].dataset
            ds.data_root = ""
            if ds.get("metainfo", {}).get("from_file"):
                ds.metainfo.from_file = _portable_path(ds.metainfo.from_file)
    for name in EVALUATORS:
        ev = cfg.get(name)
        if ev and ev.get("ann_file"):
            ev.ann_file = "annotations/" + Path(ev.ann_file).name
    if cfg.get("visualizer"):
        cfg.visualizer.pop("name", None)
    for hook in cfg.get("custom_hooks", []):
        for runtime in ("label", "verbose"):
            hook.pop(runtime, None)
    return cfg


def with_data(cfg, data_root):
    """A portable config (or a run's ``NN_sS.py``) pointed at a dataset root."""
    cfg = copy.deepcopy(cfg)
    root = str(Path(data_root).expanduser().resolve())
    for loader in LOADERS:
        if cfg.get(loader):
            cfg[loader].dataset.data_root = root + "/"
            cfg[loader].dataset.metainfo = dict(from_file=scheme_file(cfg.catpose.scheme))
    for name in EVALUATORS:
        if cfg.get(name) and cfg[name].get("ann_file"):
            cfg[name].ann_file = str(Path(root) / "annotations" / Path(cfg[name].ann_file).name)
    return cfg


def run_key(cfg, fingerprint: str, seed: int) -> str:
    """12 hex digits of what a run trains: its portable config's trained parts, the data's
    fingerprint (+ the start's sha256) and the seed.  Paths do not enter: the same run on
    another machine has the same key."""
    resolved = portable(cfg).to_dict()
    trained = {k: resolved[k] for k in TRAINED_KEYS if k in resolved}
    for loader in ("train_dataloader", "val_dataloader"):
        for k in RUNTIME_LOADER_KEYS:
            trained.get(loader, {}).pop(k, None)
    text = json.dumps(trained, sort_keys=True, default=str) + fingerprint + str(seed)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
