"""Cross-species pose pretraining: a backbone of the study (ResNet-50 SimpleBaseline or
HRNet-W32) trained on the other animals of Animal-Pose with ``configs/pretrain_animals.py``
(which inherits the baseline), as an ordinary resumable run of block ``pretrain``.

After training it writes the start checkpoint that cat runs take with ``--init`` (the
weights alone, loadable with ``weights_only=True``), its sha256, and the model's zero-shot
AP on the real cats' val split.  All of it lands in the run's result JSON
(``RESULTS/pretrain/9N_sS.json``) beside the per-validation history on the held-out animals.
"""
from pathlib import Path

from catpose_lib.console import say
from catpose_lib.configs import PRETRAIN_CONFIG
from catpose_lib.data.default_data import course_layout_root
from catpose_lib.data.layout import atomic_replace
from catpose_lib.data.validate import check_dataset
from catpose_lib.errors import ParameterError
from catpose_lib.recipe.config import build_config
from catpose_lib.recipe.experiments import Experiment
from catpose_lib.recipe.params import check_run_parameters
from catpose_lib.recipe.start import sha256_file
from catpose_lib.recipe.starts import PRETRAIN_BACKBONES, STARTS_DIR, start_checkpoint_name
from catpose_lib.runs.evaluate import test_checkpoint
from catpose_lib.runs.results import FINISHED, result_path, write_result
from catpose_lib.runs.run import RunRequest, resolve_device
from catpose_lib.workers.grid import run_grid

PRETRAIN_RUNS = {
    "resnet50": Experiment(91, "pretrain", "Cross-species pretraining",
                           "ResNet-50 SimpleBaseline on dogs, sheep, horses, cows", {}),
    "hrnet_w32": Experiment(92, "pretrain", "Cross-species pretraining",
                            "HRNet-W32 on dogs, sheep, horses, cows", dict(backbone="hrnet_w32")),
    # from ImageNet (the installed packages' weights), at the study's 192 / 48 px
    "efficientnet_lite0": Experiment(93, "pretrain", "Cross-species pretraining",
                                     "EfficientNet-Lite0 from ImageNet on dogs, sheep, horses, cows",
                                     dict(backbone="efficientnet_lite0", pretrained="imagenet", head_channels=256, lr=5e-4,
                                          input_size=192, heatmap_size=48)),
    "efficientnet_lite2": Experiment(94, "pretrain", "Cross-species pretraining",
                                     "EfficientNet-Lite2 from ImageNet on dogs, sheep, horses, cows",
                                     dict(backbone="efficientnet_lite2", pretrained="imagenet", head_channels=256, lr=5e-4,
                                          input_size=192, heatmap_size=48)),
}
assert tuple(PRETRAIN_RUNS) == PRETRAIN_BACKBONES
DEFAULT_OUT = STARTS_DIR


def export_start_checkpoint(run_checkpoint, out_path, meta: dict) -> dict:
    """The weights of a run's checkpoint as a plain ``{'state_dict', 'meta'}`` file."""
    import torch

    ckpt = torch.load(run_checkpoint, map_location="cpu", weights_only=False)  # our own run's file
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_replace(out_path) as tmp:
        torch.save(dict(state_dict=ckpt["state_dict"], meta=meta), tmp)
    return dict(path=str(out_path.resolve()), sha256=sha256_file(out_path),
                megabytes=round(out_path.stat().st_size / 2**20, 1), from_checkpoint=str(run_checkpoint))


def evaluate_checkpoint(checkpoint, data_root, knobs=None, device="cpu", scheme=None,
                        num_workers=None, work_dir=None) -> dict:
    """COCO keypoint metrics of a checkpoint on a dataset's val split (GT boxes, flip test),
    with the baseline's val pipeline: mmengine's ``Runner.test``."""
    cfg = build_config(data_root, knobs or {}, scheme=scheme, device=device, num_workers=num_workers)
    return test_checkpoint(cfg, checkpoint, work_dir=work_dir)


def pretrain(data_root, results_dir, backbone="resnet50", zero_shot_root=None, out_dir=None,
             budget="full", seed=0, device="auto", shared_knobs=None, verbose=True, **run_options) -> dict:
    """Pretrain one backbone (resumable; a finished run is not trained again), export its
    start checkpoint and measure its zero-shot AP on ``zero_shot_root``'s val split."""
    if backbone not in PRETRAIN_RUNS:
        raise ValueError(f"backbone must be one of {', '.join(PRETRAIN_RUNS)}, not {backbone!r}")
    check_dataset(data_root, scheme="animalpose20")
    if zero_shot_root:
        check_dataset(zero_shot_root, scheme="animalpose20")
    exp = PRETRAIN_RUNS[backbone]
    req = RunRequest(experiment=exp, data_root=str(data_root), results_dir=str(results_dir),
                     seed=int(seed), budget=budget, device=device, config=str(PRETRAIN_CONFIG),
                     shared_knobs=dict(shared_knobs or {}), verbose=verbose,
                     base=dict(name="pretrain_animals.py", knobs={}), **run_options)
    (result,) = run_grid([req], wait=False, verbose=verbose)  # a backbone another worker pretrains: skipped
    if result["status"] != FINISHED or not result.get("checkpoint"):
        return result
    out = Path(out_dir) if out_dir else DEFAULT_OUT
    meta = dict(catpose_pretrain=backbone, run_key=result["key"], seed=int(seed), budget=result["budget"],
                data_root=result["data_root"], best=result["best"], knobs=result["knobs"])
    previous = result.get("start_checkpoint") or {}
    target = out / start_checkpoint_name(backbone, seed)
    if not (previous.get("path") == str(target.resolve()) and target.exists()
            and previous.get("from_checkpoint") == result["checkpoint"]):
        result["start_checkpoint"] = export_start_checkpoint(result["checkpoint"], target, meta)
    if zero_shot_root and (result.get("zero_shot") or {}).get("sha256") != result["start_checkpoint"]["sha256"]:
        metrics = evaluate_checkpoint(result["start_checkpoint"]["path"], zero_shot_root, result["knobs"],
                                      device=resolve_device(device), num_workers=req.num_workers)
        result["zero_shot"] = dict(data_root=str(Path(zero_shot_root).resolve()), split="val",
                                   sha256=result["start_checkpoint"]["sha256"], **metrics)
    if verbose:
        zs = result.get("zero_shot", {}).get("AP")
        say(f"[pretrain {backbone}] held-out animals best AP {result['best']['AP']:.4f} "
            f"(epoch {result['best']['epoch']})" + (f", zero-shot cats val AP {zs:.4f}" if zs is not None else "")
            + f"; start checkpoint {result['start_checkpoint']['path']} "
            f"(sha256 {result['start_checkpoint']['sha256'][:12]})")
    write_result(result_path(results_dir, exp.block, exp.no, seed), result)
    return result


def pretrain_backbones(data, results_dir, backbones=tuple(PRETRAIN_RUNS), zero_shot=None, budget="full",
                       device="auto", shared_knobs=None, **options) -> dict:
    """What the `pretrain` command and notebook pretrain run: the parameters checked before
    any work, raw Animal-Pose folders imported once into the cache (the other animals as one
    category), then :func:`pretrain` for each backbone.  ``options`` go to :func:`pretrain`."""
    p = check_run_parameters(budget=budget, device=device, precision=options.get("precision"),
                             shared_knobs=dict(shared_knobs or {}))
    if isinstance(backbones, str):  # papermill's `-p backbones resnet50` (or "resnet50,hrnet_w32")
        backbones = [b.strip() for b in backbones.split(",") if b.strip()]
    unknown = [b for b in backbones if b not in PRETRAIN_RUNS]
    if unknown or not backbones:
        raise ParameterError("backbones", list(backbones), f"some of {', '.join(PRETRAIN_RUNS)}")
    others = course_layout_root(data, one_category="animal")
    cats = course_layout_root(zero_shot) if zero_shot else None
    results = [pretrain(others, results_dir, backbone=b, zero_shot_root=cats, budget=p["settings"].budget, device=device,
                        shared_knobs=p["shared_knobs"], **options) for b in backbones]
    return dict(data_root=others, zero_shot_root=cats, backbones=list(backbones), results=results)
