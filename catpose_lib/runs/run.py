"""Execute one run (experiment x seed) with mmengine's Runner: resumable, keyed by a hash of
its resolved config, data fingerprint and seed; failures become statuses."""
import gc
import hashlib
import json
import os
import resource
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from catpose_lib.compat import checkpoint_loading
from catpose_lib.recipe.budget import parse_budget
from catpose_lib.recipe.config import build_config
from catpose_lib.recipe.experiments import Experiment
from catpose_lib.recipe.knobs import merge_overrides
from catpose_lib.runs.provenance import data_fingerprint, now_iso, provenance
from catpose_lib.runs.results import (CUDA_OOM, FINISHED, KEPT_STATUSES, LOST_CLAIM, NOT_CONVERGE,
                                        PRUNED, RUNNING_ELSEWHERE, find_twin, read_result,
                                        result_path, run_name, summarise_history, write_block_csv,
                                        write_result)
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.console import say


def baseline_base() -> dict:
    """The base of the baseline itself and of blocks started from it (resolve_base's other
    answer is a previous block's winner)."""
    return dict(name="baseline", no=0, block="baseline", overrides={})


@dataclass
class RunRequest:
    experiment: Experiment
    data_root: str
    results_dir: str
    base: dict = field(default_factory=baseline_base)
    seed: int = 0
    budget: str = "full"
    device: str = "auto"
    scheme: str = None
    common_overrides: dict = field(default_factory=dict)  # applied to every run (e.g. quick checks)
    num_workers: int = None
    verbose: bool = True
    precision: str = DEFAULT_PRECISION          # auto | fp32 | bf16 | fp16 (see runs.precision)
    channels_last: bool = DEFAULT_CHANNELS_LAST
    image_cache: object = "auto"     # True | False | "auto" (when the data fits the budget)
    launcher: str = "none"           # "pytorch" under torchrun (mmengine's distributed runner)
    init: str = None                 # start checkpoint (whole model, e.g. the cross-species pretraining)
    config: str = None               # MMPose config file (default: the course baseline)
    progress: str = ""               # where the run stands in its block, e.g. "run 3/13" (printed)
    protocol: str = None             # a named protocol (recipe.protocols): sets budget, epoch floor, start
    quiet_when_held: bool = False    # no "being trained by ..." line (a worker polling for that run)

    @property
    def overrides(self) -> dict:
        return merge_overrides(self.base["overrides"], self.experiment.overrides, self.common_overrides)


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA device")
    if device == "cpu" and torch.cuda.is_available():
        raise RuntimeError("--device cpu on a CUDA machine: set CUDA_VISIBLE_DEVICES= to hide the GPU")
    return device


# The parts of a resolved config that decide what is trained (a run's key hashes them, with
# the data's fingerprint and the seed); hooks, logging, work dirs and loader workers do not.
TRAINED_KEYS = ("model", "codec", "train_dataloader", "val_dataloader", "val_evaluator", "optim_wrapper",
                "param_scheduler", "train_cfg", "randomness", "load_from", "auto_scale_lr", "catpose")
RUNTIME_LOADER_KEYS = ("num_workers", "persistent_workers", "pin_memory")


def run_key(cfg, fingerprint: str, seed: int) -> str:
    resolved = cfg.to_dict()
    trained = {k: resolved[k] for k in TRAINED_KEYS if k in resolved}
    for loader in ("train_dataloader", "val_dataloader"):
        for k in RUNTIME_LOADER_KEYS:
            trained.get(loader, {}).pop(k, None)
    text = json.dumps(trained, sort_keys=True, default=str) + fingerprint + str(seed)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def config_path(results_dir, block, no, seed) -> Path:
    """``results/<block>/NN_sS.py``: the resolved MMPose config of a run, beside its JSON."""
    return result_path(results_dir, block, no, seed).with_suffix(".py")


def resolve_run(req: RunRequest) -> dict:
    """Everything a run is before it trains: its resolved config (baseline or given config
    file + base + experiment + protocol knobs + budget + speed options + start checkpoint,
    checked), its key and its work dir.  ``execute`` trains it; ``config N`` prints it."""
    from catpose_lib.recipe.protocols import get_protocol, protocol_init

    device = resolve_device(req.device)
    protocol = get_protocol(req.protocol)
    budget = parse_budget(protocol.budget if protocol else req.budget)
    exp = req.experiment
    cfg = build_config(req.data_root, req.overrides, scheme=req.scheme, budget=budget,
                       seed=req.seed, device=device, num_workers=req.num_workers, config=req.config,
                       min_epochs=protocol.min_epochs if protocol else 1)
    if protocol:
        cfg.catpose.protocol = protocol.name
    init = None
    init_path = req.init or protocol_init(protocol, cfg, req.overrides)
    if init_path:  # checked before any training: missing file, wrong backbone
        from catpose_lib.recipe.start import check_start_checkpoint

        init = check_start_checkpoint(cfg, init_path)
        cfg.load_from = init["path"]
    from catpose_lib.runs.distributed import configure_distributed
    from catpose_lib.runs.image_cache import use_image_cache
    from catpose_lib.runs.precision import apply_speed_options

    speed = apply_speed_options(cfg, device, req.precision, req.channels_last)
    speed["image_cache"] = use_image_cache(cfg, req.data_root, req.image_cache)
    configure_distributed(cfg, req.launcher, device)
    fingerprint = data_fingerprint(req.data_root)  # hashes every annotation file: once per run
    key = run_key(cfg, fingerprint + (init["sha256"] if init else ""), req.seed)
    name = run_name(exp.no, req.seed)
    work_dir = Path(req.results_dir) / exp.block / "runs" / f"{name}-{key}"
    cfg.work_dir = str(work_dir)
    cfg.log_level = "WARNING"
    cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [
        dict(type="DivergenceGuardHook"),
        dict(type="StudyHistoryHook", label=f"{exp.block} {name}" + (f", {req.progress}" if req.progress else ""),
             verbose=req.verbose),
        dict(type="CatchUpValidationHook")]
    return dict(cfg=cfg, key=key, fingerprint=fingerprint, device=device, budget=budget, init=init,
                protocol=protocol.record() if protocol else None,
                speed=speed, name=name, work_dir=work_dir,
                out_path=result_path(req.results_dir, exp.block, exp.no, req.seed),
                config_path=config_path(req.results_dir, exp.block, exp.no, req.seed))


def execute(req: RunRequest) -> dict:
    """Run (or skip, or resume) one experiment x seed; returns its result dict.  Unless torchrun
    launches it, the run is claimed first (workers.claims), so that any number of workers on one
    results folder train it once; a run that a live worker holds is skipped."""
    run = resolve_run(req)
    key, device, budget = run["key"], run["device"], run["budget"]
    exp, name, work_dir, out_path = req.experiment, run["name"], run["work_dir"], run["out_path"]
    done = _finished_result(out_path, key, exp, name, req.verbose)
    if done:
        return done
    if req.launcher != "none":  # a torchrun job is one worker: its ranks train the run together
        return _train_and_record(req, run)
    twin = find_twin(req.results_dir, key, out_path)
    if twin:
        return _record_twin(req, run, *twin)
    from catpose_lib.workers.claims import RunClaim, check_same_data, describe

    check_same_data(req.results_dir, req.data_root, run["fingerprint"])
    claim = RunClaim(work_dir, req.data_root, run["fingerprint"])
    if not claim.acquire():
        if req.verbose and not req.quiet_when_held:
            say(f"[{exp.block} {name}] being trained by {describe(claim.holder)}: skipped")
        return dict(no=exp.no, ref_no=exp.ref_no, name=name, block=exp.block, policy=exp.policy,
                    parameter=exp.parameter, seed=req.seed, budget=budget, key=key, base=req.base,
                    status=RUNNING_ELSEWHERE, claimed_by=claim.holder, skipped=True,
                    provenance=dict(device=device))
    try:
        # another worker may have finished the run between the first look and the claim
        done = _finished_result(out_path, key, exp, name, req.verbose)
        if done:
            return done
        if claim.taken_over and req.verbose:
            say(f"[{exp.block} {name}] taking over from {describe(claim.taken_over)} (gone)")
        return _train_and_record(req, run, claim)
    finally:
        claim.release()


def _finished_result(out_path, key, exp, name, verbose):
    previous = read_result(out_path)
    if previous and previous.get("key") == key and previous.get("status") in KEPT_STATUSES:
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
                  parameter=exp.parameter, base=req.base, experiment_overrides=exp.overrides,
                  common_overrides=req.common_overrides, overrides=req.overrides,
                  same_as=f"{twin['block']} {twin['name']}", same_as_path=str(twin_path),
                  started=now_iso(), ended=now_iso(), wall_seconds=0.0, train_seconds=0.0, skipped=False)
    if req.verbose:
        say(f"[{exp.block} {name}] same trained config, data, start and seed as {result['same_as']} "
            f"(key {run['key']}): its result is taken, not trained again")
    _save(req, run, run["cfg"], result)
    return result


def _train_and_record(req: RunRequest, run: dict, claim=None) -> dict:
    cfg, key, device, budget, init, speed = (run[k] for k in ("cfg", "key", "device", "budget", "init", "speed"))
    exp, name, work_dir, out_path = req.experiment, run["name"], run["work_dir"], run["out_path"]
    checkpoint_loading.mark_run_dir(work_dir)
    checkpoint_loading.install()
    cfg.experiment_name = f"{name}-{key}-{time.time_ns()}"
    cfg.visualizer.name = f"visualizer-{cfg.experiment_name}"
    resumed = (work_dir / "last_checkpoint").exists()
    cfg.resume = resumed
    result = dict(
        no=exp.no, ref_no=exp.ref_no, name=name, block=exp.block, policy=exp.policy,
        parameter=exp.parameter, seed=req.seed, budget=budget, key=key, base=req.base,
        experiment_overrides=exp.overrides, common_overrides=req.common_overrides,
        overrides=req.overrides, scheme=cfg.catpose.scheme,
        data_root=str(Path(req.data_root).resolve()), data_fingerprint=run["fingerprint"],
        max_epochs=cfg.train_cfg.max_epochs, batch_size=cfg.train_dataloader.batch_size,
        work_dir=str(work_dir), resumed=resumed, started=now_iso(), speed=speed,
        launcher=req.launcher, init=init, protocol=run["protocol"],
        config=str(req.config) if req.config else "baseline",
        provenance=provenance(device))
    if req.verbose:
        extra = f", overrides for every run {req.common_overrides}" if req.common_overrides else ""
        where = f", {req.progress}" if req.progress else ""
        say(f"[{exp.block} {name}{where}] {'resuming' if resumed else 'starting'}: {exp.parameter} "
            f"(base {req.base['name']}, {cfg.train_cfg.max_epochs} epochs, budget {budget}{extra})")
    status, message = _train(_without_start(cfg) if resumed else cfg, device)
    history = _read_history(work_dir)
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
    from mmengine.dist import get_world_size, is_main_process

    result["world_size"] = get_world_size()
    if not is_main_process():
        return result
    if claim is not None and not claim.still_ours():
        # our heartbeat stalled past the lease and another worker took the run over: its result counts
        result.update(status=LOST_CLAIM, message=f"run taken over by another worker ({claim.path})")
        return result
    _save(req, run, cfg, result)
    if status in (FINISHED, PRUNED):  # neither resumes: only the best checkpoint is kept
        _prune_checkpoints(work_dir, keep=result["checkpoint"])
    return result


def _save(req: RunRequest, run: dict, cfg, result: dict) -> None:
    """A run's resolved config and result JSON, then its block's CSV rebuilt from the JSONs."""
    write_config(run["config_path"], cfg)
    write_result(run["out_path"], result)
    write_block_csv(req.results_dir, req.experiment.block)


def write_config(path, cfg) -> None:
    """The resolved config as MMPose/mmengine Python (what ``config N`` prints)."""
    from catpose_lib.data.layout import atomic_write_text

    atomic_write_text(path, f"# resolved config of this run (run key in the result JSON beside it)\n{cfg.pretty_text}")


def _without_start(cfg):
    """The config a resumed run trains: mmengine resumes *from load_from* when both are set,
    so the start checkpoint goes (the work dir's last checkpoint holds the weights); the
    resolved config written beside the result keeps it."""
    import copy

    cfg = copy.deepcopy(cfg)
    cfg.load_from = None
    return cfg


def _train(cfg, device):
    import torch
    from mmengine.runner import Runner

    from catpose_lib.runs import hooks  # noqa: F401  (registers the hooks)
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


def _read_history(work_dir):
    from catpose_lib.runs.hooks import read_history

    return read_history(work_dir)


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
        import torch

        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _iso_seconds(iso):
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
