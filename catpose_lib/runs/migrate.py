"""Results written by catpose before format 2, brought to it in place, checked: each run's old
key is first recomputed from its stored config (it must match), then the run is re-keyed with
today's :func:`recipe.config.run_key` (no paths in it), its config rewritten in portable form,
its fields renamed (one name per concept) and its work folder, if any, renamed to the new key.
Nothing is retrained; a run whose old key does not reproduce is left as it was and reported.

Format 2 renames: overrides -> knobs, experiment_overrides -> experiment_knobs,
common_overrides -> shared_knobs, base.overrides -> base.knobs, init -> start, protocol (a
dict) -> its name, with min_epochs beside it."""
import hashlib
import json
from pathlib import Path

from mmengine.config import Config

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.recipe.config import RUNTIME_LOADER_KEYS, portable, run_key
from catpose_lib.runs.results import write_block_csv

FORMAT = 2
_V1_KEYS = ("model", "codec", "train_dataloader", "val_dataloader", "val_evaluator", "optim_wrapper",
            "param_scheduler", "train_cfg", "randomness", "load_from", "auto_scale_lr", "catpose")
_RENAMES = {"overrides": "knobs", "experiment_overrides": "experiment_knobs", "common_overrides": "shared_knobs",
            "init": "start"}


def run_key_v1(cfg, fingerprint: str, seed: int) -> str:
    """The key before format 2 (it hashed absolute paths: data root, start, metainfo file)."""
    resolved = cfg.to_dict()
    trained = {k: resolved[k] for k in _V1_KEYS if k in resolved}
    for loader in ("train_dataloader", "val_dataloader"):
        for k in RUNTIME_LOADER_KEYS:
            trained.get(loader, {}).pop(k, None)
    text = json.dumps(trained, sort_keys=True, default=str) + fingerprint + str(seed)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _load_v1_config(path: Path):
    text = path.read_text().replace("catpose_lib.engine.registered", "catpose_lib.runs.registered")
    return Config.fromstring(text, ".py")


def _rename(d: dict) -> dict:
    out = {_RENAMES.get(k, k): v for k, v in d.items()}
    if isinstance(out.get("base"), dict):
        out["base"] = _rename(out["base"])
    protocol = out.get("protocol")
    if isinstance(protocol, dict):
        out["protocol"] = protocol.get("name")
        out.setdefault("min_epochs", protocol.get("min_epochs", 1))
    out.setdefault("min_epochs", 1)
    return out


def _header(r: dict, new_key: str) -> str:
    base, start = r.get("base") or {}, r.get("start")
    lines = [f"run {r['no']:02d} ({r['block']}), seed {r['seed']}: {r['parameter']}; key {new_key} "
             f"(format {FORMAT}; before: {r['key_before']})",
             "knobs, in layers (a later layer wins; recipe/knobs.py says what each does):",
             f"  base   {base.get('name')}: {base.get('knobs', {})}",
             f"  run    {r['no']:02d}: {r.get('experiment_knobs', {})}",
             f"  shared (every run): {r.get('shared_knobs', {})}",
             f"settings: budget {r['budget']}, epoch floor {r.get('min_epochs', 1)}"
             + (f", protocol {r['protocol']}" if r.get("protocol") else "") + f", seed {r['seed']}",
             "start (load_from at run time): " + (f"{Path(start['path']).name} sha256 {start['sha256']}"
                                                 if start else "none"),
             f"data (data_root at run time): fingerprint {r['data_fingerprint']}"]
    return "".join(f"# {line}\n" for line in lines)


def migrate_run(json_path: Path) -> dict:
    """One run's result + config to format 2; returns what happened (old and new key)."""
    r = json.loads(json_path.read_text())
    if r.get("format", 1) >= FORMAT:
        return dict(path=str(json_path), status="current", key=r["key"])
    cfg_path = json_path.with_suffix(".py")
    if not cfg_path.exists():
        return dict(path=str(json_path), status="no config: left as is")
    cfg = _load_v1_config(cfg_path)
    start_sha = (r.get("init") or {}).get("sha256") or ""
    old = run_key_v1(cfg, r["data_fingerprint"] + start_sha, r["seed"])
    if old != r["key"]:
        return dict(path=str(json_path), status=f"old key does not reproduce ({old} != {r['key']}): left as is")
    new = run_key(cfg, r["data_fingerprint"] + start_sha, r["seed"])
    out = _rename(r)
    out.update(key=new, key_before=r["key"], format=FORMAT)
    work = Path(r["work_dir"]) if r.get("work_dir") else None
    if work is not None and work.name.endswith(r["key"]):
        target = work.with_name(work.name[: -len(r["key"])] + new)
        if work.exists() and not target.exists():
            work.rename(target)
        out["work_dir"] = str(target)
        if out.get("checkpoint"):
            out["checkpoint"] = str(target / Path(out["checkpoint"]).name)
    atomic_write_text(cfg_path, _header(out, new) + portable(cfg).pretty_text)
    atomic_write_text(json_path, json.dumps(out, indent=1, default=str))
    return dict(path=str(json_path), status="migrated", key_before=r["key"], key=new)


def migrate_results(results_dir) -> list:
    """Every run of a results folder (``BLOCK/NN_sS.json``, search blocks included), then the
    report records' run keys and the blocks' CSVs."""
    results_dir = Path(results_dir)
    done = [migrate_run(p) for p in sorted(results_dir.glob("**/[0-9]*_s[0-9]*.json"))
            if "runs" not in p.relative_to(results_dir).parts and not p.name.endswith(".val.json")]
    new_keys = {d["key_before"]: d["key"] for d in done if d["status"] == "migrated"}
    for record in sorted((results_dir / "reports").glob("*.json")):
        text = record.read_text()
        migrated = json.loads(text, object_hook=lambda d: _rename_record(d, new_keys))
        atomic_write_text(record, json.dumps(migrated, indent=1, default=str))
    for block in sorted({Path(d["path"]).parent for d in done}):
        try:
            write_block_csv(results_dir, str(block.relative_to(results_dir)))
        except ValueError:  # runs outside a block folder (a copied set of runs): no block CSV
            pass
    return done


def _rename_record(d: dict, new_keys: dict) -> dict:
    out = {_RENAMES.get(k, k): v for k, v in d.items()}
    if isinstance(out.get("key"), str) and out["key"] in new_keys:
        out["key"] = new_keys[out["key"]]
    return out
