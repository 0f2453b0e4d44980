"""Add a finished run to the zoo (``python -m catpose_lib pack RESULT_JSON --name NAME``).

The run's best checkpoint is packed (``packing``), its resolved config written portable
(``model_config``), and both copies -- the unpacked weights and the packed ones -- scored on
the run's val split with ``Runner.test`` under that config.  A packed copy that loses more
than ``MAX_AP_LOSS`` is refused (``force`` writes it anyway, with a warning in its
provenance).  With a blind test set the packed model predicts its boxes too.  The model
folder is built aside and moved into the zoo only when everything succeeded.
"""
import shutil
import tempfile
from pathlib import Path

from catpose_lib.console import say as console_say
from catpose_lib.data.layout import annotation_path, atomic_write_json, blind_test_file
from catpose_lib.errors import CatposeError, DataError, ParameterError
from catpose_lib.recipe.config import with_data
from catpose_lib.recipe.start import read_state_dict, sha256_file
from catpose_lib.runs.evaluate import test_checkpoint
from catpose_lib.runs.predict import init_from_config, predict_boxes
from catpose_lib.runs.provenance import data_fingerprint, now_iso
from catpose_lib.runs.results import FINISHED, read_result
from catpose_lib.runs.run import resolve_device
from catpose_lib.zoo import CONFIG, MAX_FILE_BYTES, NAME_PATTERN, PROVENANCE, WEIGHTS, ZOO_ROOT, find
from catpose_lib.zoo.model_config import load_model_config, write_portable_config
from catpose_lib.zoo.packing import MODE_NOTES, MODES, pack_state, read_packed, state_sha256

MAX_AP_LOSS = 0.01             # val AP the packed copy may lose against the unpacked one
PART_BYTES = 22 * 2**20        # 23.1 MB a part: under MAX_FILE_BYTES with room to spare
BLIND_PREDICTIONS = "result_keypoints_test.json"


def check_request(result_json, name, zoo_root, data_root=None, test_root=None, replace=False, mode="int8"):
    """Everything checked before any work: the name, the run (finished, its checkpoint and
    resolved config present), the val data, the blind test set, the destination."""
    if not NAME_PATTERN.match(str(name)):
        raise ParameterError("name", name, "lowercase letters, digits and _ . - (at most 64), starting with a "
                                           "letter or digit")
    if mode not in MODES:
        raise ParameterError("mode", mode, f"one of {', '.join(MODES)}")
    result_json = Path(result_json)
    result = read_result(result_json)
    if not result or "status" not in result:
        raise DataError("not a run's result JSON (results/<study>/<block>/NN_sS.json)", file=result_json)
    if result["status"] != FINISHED:
        raise DataError(f"the run is not finished (status: {result['status']})", file=result_json)
    checkpoint = Path(result.get("checkpoint") or "")
    if not result.get("checkpoint") or not checkpoint.is_file():
        raise DataError(f"its best checkpoint {result.get('checkpoint')} is missing (run folders stay on the "
                        "machine that trained them)", file=result_json)
    config = result_json.with_suffix(".py")
    if not config.is_file():
        raise DataError(f"its resolved config {config.name} is not beside it", file=result_json)
    data = Path(str(data_root or result["data_root"])).expanduser()
    if not annotation_path(data, "val").is_file():
        raise ParameterError("data", str(data), "the run's data (course layout with annotations/val.json); "
                                                "pass --data where it lies on this machine")
    blind = blind_test_file(test_root, "test_root") if test_root else None
    dest = Path(zoo_root) / name
    if dest.exists() and not replace:
        raise ParameterError("name", name, f"a new name: {dest} exists (pass --replace to rebuild it)")
    return dict(result=result, result_json=result_json, checkpoint=checkpoint, config=config, data=data,
                blind=blind, dest=dest)


def rebuild_commands(result, result_json, name, test_root=None, mode="int8") -> dict:
    """The commands that remake the run and this zoo model."""
    block, sets = result["block"], result.get("shared_knobs") or {}
    if block == "pretrain":
        from catpose_lib.runs.pretrain import PRETRAIN_RUNS  # lazy: torch/mmengine (CLI speed)

        backbone = next((b for b, e in PRETRAIN_RUNS.items() if e.no == result["no"]), "?")
        train = (f"python -m catpose_lib pretrain --data OTHER_ANIMALS --results RESULTS --backbone {backbone} "
                 f"--seed {result['seed']} --budget {result['budget']}")
    else:
        protocol = result.get("protocol")
        train = (f"python -m catpose_lib run {block} --data {result['data_root']} --results RESULTS "
                 + ("" if block == "baseline" else f"--experiments {result['no']} ")
                 + f"--seeds {result['seed']} "
                 + (f"--protocol {protocol}" if protocol else f"--budget {result['budget']}")
                 + ("" if protocol or not result.get("start") else f" --start {result['start']['path']}"))
    if sets:
        train += " --set " + " ".join(f"{k}={v}" for k, v in sets.items())
    pack = (f"python -m catpose_lib pack RESULTS/{block}/{result_json.name} --name {name}"
            + (f" --test-root {test_root}" if test_root else "") + (" --fp16" if mode == "fp16" else ""))
    return dict(train=train, pack=pack,
                note="the run trains from its block's base (run.base) and, under a protocol, from the protocol's "
                     "start checkpoint; the previous blocks' results must be in RESULTS (their winners are the "
                     "bases). config.py is the run's resolved config, made portable.")


def _eval_config(config_path, data_root):
    cfg = with_data(load_model_config(config_path), data_root)
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    return cfg


def pack_run(result_json, name, zoo_root=None, data_root=None, mode="int8", max_loss=MAX_AP_LOSS, force=False,
             replace=False, test_root=None, device="auto", verbose=True) -> dict:
    """Pack a finished run into ``zoo_root/name``; returns its provenance record."""
    import torch

    zoo_root = Path(zoo_root or ZOO_ROOT)
    req = check_request(result_json, name, zoo_root, data_root, test_root, replace, mode)
    device = resolve_device(device)
    result, dest = req["result"], req["dest"]
    say = console_say if verbose else (lambda *a, **k: None)
    zoo_root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.staging.", dir=zoo_root))
    stage.chmod(0o755)  # mkdtemp makes it 0700
    try:
        write_portable_config(req["config"], stage / CONFIG, header=(
            f"catpose zoo model {name}: the portable config of run {result['block']} {result['name']} "
            f"(key {result['key']}), as its results folder keeps it"))
        state = read_state_dict(req["checkpoint"])
        state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
        parts = pack_state(state, stage / WEIGHTS, PART_BYTES, mode, meta=dict(zoo_model=name, run_key=result["key"]))
        packed = read_packed(stage / WEIGHTS)
        with tempfile.TemporaryDirectory(prefix="catpose-pack-") as tmp:
            plain, packed_path = Path(tmp) / "unpacked.pth", Path(tmp) / "packed.pth"
            torch.save(dict(state_dict=state, meta={}), plain)
            torch.save(packed, packed_path)
            val = _val_loss(stage / CONFIG, req["data"], plain, packed_path, mode, max_loss, force, say, name)
            blind = None
            if req["blind"]:
                blind = _predict_blind(stage / CONFIG, packed_path, req["blind"], stage / BLIND_PREDICTIONS, device)
                say(f"[pack {name}] blind test set: {blind['instances']} instances on {blind['images']} images")
        record = dict(
            name=name, created=now_iso(),
            weights=_weights_record(parts, packed["state_dict"], mode),
            config=dict(file=CONFIG, sha256=sha256_file(stage / CONFIG), resolved_from=str(req["config"])),
            source_checkpoint=dict(path=str(req["checkpoint"]), sha256=sha256_file(req["checkpoint"]),
                                   bytes=req["checkpoint"].stat().st_size, state_sha256=state_sha256(state)),
            val=dict(val, data_matches_run=data_fingerprint(req["data"]) == result.get("data_fingerprint")),
            blind_test=blind,
            run=_run_record(result, req["result_json"]),
            rebuild=rebuild_commands(result, req["result_json"], name, test_root, mode))
        atomic_write_json(stage / PROVENANCE, record, indent=1)
        too_big = [p.name for p in stage.iterdir() if p.stat().st_size > MAX_FILE_BYTES]
        if too_big:
            raise CatposeError(f"zoo model {name}: {', '.join(too_big)} over {MAX_FILE_BYTES} bytes")
        _move_into_place(stage, dest)
        find(dest)  # readable as a zoo model
        size = sum(f["bytes"] for f in record["weights"]["parts"].values()) / 1e6
        say(f"[pack {name}] {dest}: {len(parts)} part(s), {size:.1f} MB; val AP {val['AP_unpacked']:.4f} unpacked "
            f"-> {val['AP_packed']:.4f} packed (loss {val['AP_loss']:+.4f})")
        return record
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _val_loss(config, data, plain, packed, mode, max_loss, force, say, name) -> dict:
    """Val AP of the unpacked and the packed weights under the zoo config (Runner.test); a
    CatposeError when the packed copy loses more than ``max_loss`` unless ``force``."""
    cfg = _eval_config(config, data)
    say(f"[pack {name}] val AP of the unpacked weights ({data}) ...")
    before = test_checkpoint(cfg, plain)
    say(f"[pack {name}] val AP of the packed weights ({MODE_NOTES[mode]}) ...")
    after = test_checkpoint(cfg, packed)
    loss = round(before["AP"] - after["AP"], 6)
    warning = None
    if loss > max_loss:
        warning = (f"packing ({MODE_NOTES[mode]}) loses {loss:.4f} val AP "
                   f"({before['AP']:.4f} -> {after['AP']:.4f}), more than {max_loss}")
        if not force:
            raise CatposeError(f"{warning}: refused (try --fp16, or --force to keep it anyway)")
        say(f"[pack {name}] WARNING: {warning}; kept because of --force")
    return dict(data_root=str(Path(data).resolve()), split="val", AP_unpacked=before["AP"], AP_packed=after["AP"],
                AP_loss=loss, max_loss=max_loss, metrics_unpacked=before, metrics_packed=after, warning=warning)


def _weights_record(parts, state, mode) -> dict:
    return dict(packing=MODE_NOTES[mode], mode=mode,
                parts={Path(p).name: dict(sha256=sha256_file(p), bytes=Path(p).stat().st_size) for p in parts},
                unpacked_state_sha256=state_sha256(state), tensors=len(state),
                parameters=int(sum(t.numel() for t in state.values() if t.is_floating_point())))


def _predict_blind(config, checkpoint, ann_file, out, device) -> dict:
    records = predict_boxes(init_from_config(config, checkpoint, device), ann_file)
    atomic_write_json(out, records)
    return dict(file=Path(out).name, sha256=sha256_file(out), instances=len(records),
                images=len({r["image_id"] for r in records}), test_set=str(Path(ann_file).parent.parent),
                boxes_sha256=sha256_file(ann_file))


def _run_record(result, result_json) -> dict:
    keys = ("name", "block", "no", "seed", "key", "policy", "parameter", "knobs", "shared_knobs", "scheme",
            "budget", "data_root", "data_fingerprint", "max_epochs", "batch_size", "best", "final", "speed",
            "train_seconds", "same_as")
    run = {k: result[k] for k in keys if k in result}
    run.update(result_json=str(result_json), base=(result.get("base") or {}).get("name"),
               protocol=result.get("protocol"), min_epochs=result.get("min_epochs"),
               start={k: (result.get("start") or {}).get(k) for k in ("path", "sha256")} if result.get("start") else None,
               provenance={k: v for k, v in (result.get("provenance") or {}).items() if k != "env"})
    return run


def _move_into_place(stage: Path, dest: Path) -> None:
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        dest.rename(old)
    stage.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
