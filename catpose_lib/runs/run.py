"""Execute one run (experiment x seed) with mmengine's Runner: resumable, keyed by a hash of
its resolved config, data fingerprint and seed; failures become statuses."""
import copy
import gc
import os
import resource
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import torch
from mmengine.dist import get_world_size, is_main_process
from mmengine.runner import Runner

from catpose_lib import zoo
from catpose_lib.compat import checkpoint_loading
from catpose_lib.data.layout import atomic_replace, atomic_write_text
from catpose_lib.recipe.budget import parse_budget
from catpose_lib.recipe.config import build_config, portable, run_key
from catpose_lib.recipe.experiments import Experiment
from catpose_lib.recipe.knobs import merge_knobs
from catpose_lib.recipe.protocols import run_start
from catpose_lib.recipe.start import check_start_checkpoint
from catpose_lib.runs import hooks
from catpose_lib.runs.distributed import configure_distributed
from catpose_lib.runs.image_cache import use_image_cache
from catpose_lib.runs.precision import apply_speed_options
from catpose_lib.runs.provenance import data_fingerprint, now_iso, provenance
from catpose_lib.runs.results import (
    CUDA_OOM,
    FINISHED,
    NOT_CONVERGE,
    PRUNED,
    find_twin,
    kept_result,
    result_path,
    run_name,
    summarise_history,
    val_predictions_path,
    write_block_csv,
    write_result,
)
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.console import say


def baseline_base() -> dict:
    """The base of the baseline itself and of blocks started from it (resolve_base's other
    answer is a previous block's winner)."""
    return dict(name="baseline", no=0, block="baseline", knobs={})


@dataclass
class RunRequest:
    experiment: Experiment
    data_root: str
    results_dir: str
    base: dict = field(default_factory=baseline_base)
    seed: int = 0
    budget: str = "full"             # full | smoke | a fraction of the run's epochs
    min_epochs: int = 1              # floor of the epochs after the fraction
    device: str = "auto"
    scheme: str = None
    shared_knobs: dict = field(default_factory=dict)  # applied to every run (e.g. quick checks)
    num_workers: int = None
    verbose: bool = True
    precision: str = DEFAULT_PRECISION          # auto | fp32 | bf16 | fp16 (see runs.precision)
    channels_last: bool = DEFAULT_CHANNELS_LAST
    image_cache: object = "auto"     # True | False | "auto" (when the data fits the budget)
    launcher: str = "none"           # "pytorch" under torchrun (mmengine's distributed runner)
    start: str = None                # whole-model start checkpoint (e.g. the cross-species pretraining)
    starts: dict = field(default_factory=dict)  # or one per backbone (recipe.protocols.run_start)
    config: str = None               # MMPose config file (default: the course baseline)
    progress: str = ""               # where the run stands in its block, e.g. "run 3/13" (printed)
    protocol: str = None             # the protocol the settings came from (a label: recipe.protocols.expand)

    @property
    def knobs(self) -> dict:
        return merge_knobs(self.base["knobs"], self.experiment.knobs, self.shared_knobs)


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA device")
    if device == "cpu" and torch.cuda.is_available():
        raise RuntimeError("--device cpu on a CUDA machine: set CUDA_VISIBLE_DEVICES= to hide the GPU")
    return device


def config_path(results_dir, block, no, seed) -> Path:
    """``results/<block>/NN_sS.py``: the resolved MMPose config of a run, beside its JSON."""
    return result_path(results_dir, block, no, seed).with_suffix(".py")


def resolve_run(req: RunRequest) -> dict:
    """Everything a run is before it trains: its resolved config (baseline or given config
    file + base + experiment + shared knobs + budget + speed options + start checkpoint,
    checked), its key and its work dir.  ``execute`` trains it; ``config N`` prints it."""
    device = resolve_device(req.device)
    budget = parse_budget(req.budget)
    exp = req.experiment
    cfg = build_config(req.data_root, req.knobs, scheme=req.scheme, budget=budget,
                       seed=req.seed, device=device, num_workers=req.num_workers, config=req.config,
                       min_epochs=req.min_epochs)
    if req.protocol:
        cfg.catpose.protocol = req.protocol
    start = None
    start_path = run_start(req.start, req.starts, cfg, req.knobs)
    if start_path:  # checked before any training: missing file, wrong backbone
        start = check_start_checkpoint(cfg, zoo.resolve(start_path) if zoo.is_model(start_path) else start_path)
        cfg.load_from = start["path"]
    speed = apply_speed_options(cfg, device, req.precision, req.channels_last)
    speed["image_cache"] = use_image_cache(cfg, req.data_root, req.image_cache)
    configure_distributed(cfg, req.launcher, device)
    fingerprint = data_fingerprint(req.data_root)  # hashes every annotation file: once per run
    key = run_key(cfg, fingerprint + (start["sha256"] if start else ""), req.seed)
    name = run_name(exp.no, req.seed)
    work_dir = Path(req.results_dir) / exp.block / "runs" / f"{name}-{key}"
    cfg.work_dir = str(work_dir)
    cfg.log_level = "WARNING"
    cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [
        dict(type="DivergenceGuardHook"),
        dict(type="StudyHistoryHook", label=f"{exp.block} {name}" + (f", {req.progress}" if req.progress else ""),
             verbose=req.verbose),
        dict(type="CatchUpValidationHook"),
        dict(type="BestValPredictionsHook")]
    return dict(cfg=cfg, key=key, fingerprint=fingerprint, device=device, budget=budget, start=start,
                min_epochs=req.min_epochs, protocol=req.protocol,
                speed=speed, name=name, work_dir=work_dir,
                out_path=result_path(req.results_dir, exp.block, exp.no, req.seed),
                config_path=config_path(req.results_dir, exp.block, exp.no, req.seed))


def execute(req: RunRequest, run: dict = None) -> dict:
    """Run (or skip, or resume) one experiment x seed; returns its result dict.  ``run``: its
    :func:`resolve_run`, when known.  Many workers: workers.grid hands each run to one of them."""
    run = run or resolve_run(req)
    exp, name, out_path = req.experiment, run["name"], run["out_path"]
    done = _finished_result(out_path, run["key"], exp, name, req.verbose)
    if done:
        return done
    twin = find_twin(req.results_dir, run["key"], out_path) if req.launcher == "none" else None
    return _record_twin(req, run, *twin) if twin else _train_and_record(req, run)


def _finished_result(out_path, key, exp, name, verbose):
    previous = kept_result(out_path, key)
    if previous:
        if verbose:
            say(f"[{exp.block} {name}] already done ({previous['status']}): skipped")
        previous["skipped"] = True
        return previous
    return None


def _record_twin(req: RunRequest, run: dict, twin_path, twin: dict) -> dict:
    """This run is another run already trained (same key): its result is that run's numbers
    under this experiment's name, marked ``same_as``, not a second training of one config."""
    exp, name = req.experiment, run["name"]
    result = dict(twin, no=exp.no, ref_no=exp.ref_no, name=name, block=exp.block, policy=exp.policy,
                  parameter=exp.parameter, base=req.base, experiment_knobs=exp.knobs,
                  shared_knobs=req.shared_knobs, knobs=req.knobs,
                  same_as=f"{twin['block']} {twin['name']}", same_as_path=str(twin_path),
                  started=now_iso(), ended=now_iso(), wall_seconds=0.0, train_seconds=0.0, skipped=False)
    if req.verbose:
        say(f"[{exp.block} {name}] same trained config, data, start and seed as {result['same_as']} "
            f"(key {run['key']}): its result is taken, not trained again")
    _save(req, run, run["cfg"], result)
    return result


def _train_and_record(req: RunRequest, run: dict) -> dict:
    cfg, key, device, budget, start, speed = (run[k] for k in ("cfg", "key", "device", "budget", "start", "speed"))
    exp, name, work_dir, out_path = req.experiment, run["name"], run["work_dir"], run["out_path"]
    checkpoint_loading.mark_run_dir(work_dir)
    checkpoint_loading.install()
    cfg.experiment_name = f"{name}-{key}-{time.time_ns()}"
    cfg.visualizer.name = f"visualizer-{cfg.experiment_name}"
    resumed = _resume_point(work_dir)
    cfg.resume = resumed
    result = dict(
        no=exp.no, ref_no=exp.ref_no, name=name, block=exp.block, policy=exp.policy,
        parameter=exp.parameter, seed=req.seed, budget=budget, key=key, base=req.base,
        experiment_knobs=exp.knobs, shared_knobs=req.shared_knobs,
        knobs=req.knobs, scheme=cfg.catpose.scheme,
        data_root=str(Path(req.data_root).resolve()), data_fingerprint=run["fingerprint"],
        max_epochs=cfg.train_cfg.max_epochs, batch_size=cfg.train_dataloader.batch_size,
        work_dir=str(work_dir), resumed=resumed, started=now_iso(), speed=speed,
        launcher=req.launcher, start=start, min_epochs=req.min_epochs, protocol=run["protocol"],
        config=str(req.config) if req.config else "baseline",
        provenance=provenance(device))
    if req.verbose:
        extra = f", knobs for every run {req.shared_knobs}" if req.shared_knobs else ""
        where = f", {req.progress}" if req.progress else ""
        say(f"[{exp.block} {name}{where}] {'resuming' if resumed else 'starting'}: {exp.parameter} "
            f"(base {req.base['name']}, {cfg.train_cfg.max_epochs} epochs, budget {budget}{extra})")
    status, message = _train(_without_start(cfg) if resumed else cfg, device)
    history = hooks.read_history(work_dir)
    result.update(summarise_history(history))
    result.update(status=status, message=message, history=history, ended=now_iso(),
                  checkpoint=_best_checkpoint(work_dir))
    seconds = sum(h.get("train_seconds") or 0 for h in history)
    samples = sum((h.get("samples_per_s") or 0) * (h.get("train_seconds") or 0) for h in history)
    result.update(wall_seconds=round(time.time() - _iso_seconds(result["started"]), 1),
                  train_seconds=round(seconds, 1),
                  samples_per_s=round(samples / seconds, 2) if seconds else None,
                  peak_memory_mb=_peak_memory_mb(device), peak_memory_kind=(
                      "cuda max allocated" if device == "cuda" else "process peak RSS"))
    result["world_size"] = get_world_size()
    if not is_main_process():
        return result
    best_val = work_dir / hooks.BEST_VAL_PREDICTIONS
    if best_val.exists():  # the best epoch's val predictions beside the result (runs.results.val_predictions_path)
        atomic_write_text(val_predictions_path(out_path), best_val.read_text())
        result["val_predictions"] = val_predictions_path(out_path).name
    _save(req, run, cfg, result)
    if status in (FINISHED, PRUNED):  # neither resumes: only the best checkpoint is kept
        _prune_checkpoints(work_dir, keep=result["checkpoint"])
    return result


def _save(req: RunRequest, run: dict, cfg, result: dict) -> None:
    """A run's resolved config and result JSON, then its block's CSV rebuilt from the JSONs."""
    write_config(run["config_path"], cfg, config_header(req, run))
    write_result(run["out_path"], result)
    write_block_csv(req.results_dir, req.experiment.block)


def config_header(req: RunRequest, run: dict) -> str:
    """What the config below is made of, as comments: the knob layers (later wins), the settings,
    the start and the data."""
    exp, start = req.experiment, run.get("start")
    lines = [f"run {exp.no:02d} ({exp.block}), seed {req.seed}: {exp.parameter}; key {run['key']}",
             "knobs, in layers (a later layer wins; recipe/knobs.py says what each does):",
             f"  base   {req.base['name']}: {req.base['knobs']}",
             f"  run    {exp.no:02d}: {exp.knobs}",
             f"  shared (every run): {req.shared_knobs}",
             f"settings: budget {run['budget']}, epoch floor {req.min_epochs}"
             + (f", protocol {req.protocol}" if req.protocol else "") + f", seed {req.seed}",
             "start (load_from at run time): " + (f"{Path(start['path']).name} sha256 {start['sha256']}"
                                                 if start else "none"),
             f"data (data_root at run time): fingerprint {run['fingerprint']}"]
    return "".join(f"# {line}\n" for line in lines)


def write_config(path, cfg, header="") -> None:
    """The run's portable resolved config as MMPose/mmengine Python (recipe.config.portable; what
    ``config N`` prints), under ``header``."""
    atomic_write_text(path, header + portable(cfg).pretty_text)


def _without_start(cfg):
    """The config a resumed run trains: mmengine resumes *from load_from* when both are set,
    so the start checkpoint goes (the work dir's last checkpoint holds the weights); the
    resolved config written beside the result keeps it."""
    cfg = copy.deepcopy(cfg)
    cfg.load_from = None
    return cfg


def _train(cfg, device):
    runner = None
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        runner = Runner.from_cfg(cfg)
        runner.train()
        return FINISHED, ""
    except torch.cuda.OutOfMemoryError as exc:
        return CUDA_OOM, str(exc).splitlines()[0] if str(exc) else ""
    except hooks.NotConvergeError as exc:
        return NOT_CONVERGE, str(exc)
    except hooks.TrialPrunedError as exc:  # an Optuna pruner stopped the trial (workers.search)
        return PRUNED, str(exc)
    except Exception as exc:  # a failed run is a result; the sweep goes on
        if os.environ.get("CATPOSE_RAISE"):
            raise
        tb = traceback.format_exc(limit=3)
        return f"failed: {type(exc).__name__}: {exc}"[:500], tb
    finally:
        del runner
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()


def _resume_point(work_dir) -> bool:
    """Whether the run resumes: mmengine's ``last_checkpoint`` names an existing checkpoint.  A
    worker killed while it saved can leave it naming a file that is not there (seen with three
    workers, one SIGKILLed): then the newest ``epoch_*.pth`` left is named instead, or, with
    none, the run starts afresh (mmengine would fail on the missing file)."""
    pointer = Path(work_dir) / "last_checkpoint"
    if not pointer.exists():
        return False
    if Path(pointer.read_text().strip()).is_file():
        return True
    left = sorted(Path(work_dir).glob("epoch_*.pth"), key=lambda p: int(p.stem.split("_")[1]))
    if not left:
        pointer.unlink()
        return False
    with atomic_replace(pointer) as tmp:
        Path(tmp).write_text(str(left[-1]))
    return True


def _best_checkpoint(work_dir):
    best = sorted(Path(work_dir).glob("best_coco_AP_epoch_*.pth"), key=os.path.getmtime)
    return str(best[-1]) if best else None


def _prune_checkpoints(work_dir, keep):
    """A finished run keeps only its best checkpoint (prediction, transfer)."""
    for ckpt in Path(work_dir).glob("epoch_*.pth"):
        if str(ckpt) != keep:
            ckpt.unlink()
    (Path(work_dir) / "last_checkpoint").unlink(missing_ok=True)


def _peak_memory_mb(device):
    if device == "cuda":
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _iso_seconds(iso):
    return datetime.fromisoformat(iso).timestamp()
