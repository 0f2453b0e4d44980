"""Run results on disk (``DIR/<block>/<run>.json``, ``DIR/<block>.csv``) and the reference
study's table: No., Policy, Parameter, Final mAP (epoch: mAP), Best mAP (epoch: mAP)."""
import json
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.recipe.experiments import resolve_block

FINISHED = "finished"
NOT_CONVERGE = "not converge"
CUDA_OOM = "CUDA out of memory"
PRUNED = "pruned"  # stopped early by an Optuna pruner (workers.search)
RUNNING_ELSEWHERE = "running elsewhere"  # another live worker trains the run (workers.grid; never written)
# statuses that a re-run keeps (a failed or OOM run is tried again)
KEPT_STATUSES = (FINISHED, NOT_CONVERGE, PRUNED)


def run_name(no: int, seed: int) -> str:
    return f"{no:02d}_s{seed}"


def result_path(results_dir, block, no, seed) -> Path:
    return Path(results_dir) / resolve_block(block) / f"{run_name(no, seed)}.json"


def val_predictions_path(result_json) -> Path:
    """``NN_sS.val.json``: the COCO keypoint results of a run's best epoch on val (runs.hooks)."""
    return Path(result_json).with_suffix(".val.json")


def write_result(path, result: dict) -> None:
    atomic_write_text(path, json.dumps(result, indent=1, default=str))


def read_result(path):
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def kept_result(path, key):
    """The result at ``path`` when it is a kept one (:data:`KEPT_STATUSES`) of run key ``key``, else None."""
    r = read_result(path)
    return r if r and r.get("key") == key and r.get("status") in KEPT_STATUSES else None


def find_twin(results_dir, key: str, exclude) -> tuple:
    """A kept result of another run with this key (same trained config, data, start and seed:
    e.g. two experiments whose epochs round to the same number under a budget), as (path,
    result), or None.  Looked for in every block of ``results_dir``."""
    for path in sorted(Path(results_dir).glob("*/[0-9]*_s[0-9]*.json")):
        if path.resolve() == Path(exclude).resolve() or path.name.endswith(".val.json"):
            continue
        result = kept_result(path, key)
        if result and not result.get("same_as"):
            return path, result
    return None


def load_block_results(results_dir, block) -> list:
    folder = Path(results_dir) / resolve_block(block)
    out = [read_result(p) for p in sorted(folder.glob("*_s*.json")) if not p.name.endswith(".val.json")]
    return sorted([r for r in out if r], key=lambda r: (r["no"], r["seed"]))


def summarise_history(history: list) -> dict:
    """final = last validation, best = highest AP (first epoch on ties)."""
    scored = [h for h in history if h.get("AP") is not None]
    if not scored:
        return dict(final=None, best=None)
    best = max(scored, key=lambda h: (h["AP"], -h["epoch"]))
    return dict(final=dict(epoch=scored[-1]["epoch"], AP=scored[-1]["AP"]),
                best=dict(epoch=best["epoch"], AP=best["AP"]))


def block_frame(results: list):
    """One row per run (seed) with the flat numbers, for CSV and plots."""
    import pandas as pd

    rows = []
    for r in results:
        rows.append(dict(
            no=r["no"], seed=r["seed"], block=r["block"], policy=r["policy"],
            parameter=_parameter(r), status=r["status"], base=r["base"]["name"],
            final_epoch=(r.get("final") or {}).get("epoch"), final_AP=(r.get("final") or {}).get("AP"),
            best_epoch=(r.get("best") or {}).get("epoch"), best_AP=(r.get("best") or {}).get("AP"),
            wall_seconds=r.get("wall_seconds"), samples_per_s=r.get("samples_per_s"),
            peak_memory_mb=r.get("peak_memory_mb"), device=r["provenance"]["device"],
            budget=r["budget"], key=r["key"]))
    return pd.DataFrame(rows)


def _parameter(result: dict) -> str:
    """The experiment's parameter, and for a run that took a twin's result (find_twin), which."""
    twin = result.get("same_as")
    if not twin:
        return result["parameter"]
    return f"{result['parameter']} (same run as {twin.split()[-1].split('_s')[0]} under this budget)"


def write_block_csv(results_dir, block) -> Path:
    """Rebuild ``<block>.csv`` from the run JSONs, one worker at a time: each worker writes its
    JSON first, so the last rebuild sees every result."""
    from filelock import FileLock

    block = resolve_block(block)
    path = Path(results_dir) / f"{block}.csv"
    locks = Path(results_dir) / block / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(str(locks / "csv.lock"), timeout=120):
        frame = block_frame(load_block_results(results_dir, block))
        atomic_write_text(path, frame.to_csv(index=False))
    return path


def seed_stats(results: list):
    """One row per experiment: its finished seeds' best and final AP as mean and sd (pandas
    ``groupby``), the epochs, and the status of an experiment with no finished seed.  The
    one place where seeds are averaged: tables, verdicts, bases and the final report read it."""
    import pandas as pd

    frame = block_frame(results)
    if frame.empty:
        return pd.DataFrame(columns=["policy", "parameter", "seeds", "best_mean", "best_sd", "final_mean",
                                     "final_sd", "final_epoch", "best_epoch", "status"])
    ok = frame[(frame["status"] == FINISHED) & frame["best_AP"].notna()]
    stats = ok.groupby("no").agg(seeds=("seed", "size"), best_mean=("best_AP", "mean"), best_sd=("best_AP", "std"),
                                 final_mean=("final_AP", "mean"), final_sd=("final_AP", "std"),
                                 final_epoch=("final_epoch", "first"), best_epoch=("best_epoch", "mean"))
    labels = frame.groupby("no").agg(policy=("policy", "first"), parameter=("parameter", "first"),
                                     runs=("seed", "size"),
                                     status=("status", lambda st: next((x for x in st if x != FINISHED), st.iloc[0])))
    out = labels.join(stats, how="left")
    out["seeds"] = out["seeds"].fillna(0).astype(int)
    out.loc[out["seeds"] > 0, "status"] = FINISHED
    return out


def winner(stats):
    """The experiment number with the highest mean best AP over its finished seeds (the lower
    number on ties), or None when none finished; ``stats`` is :func:`seed_stats`' frame."""
    done = stats[stats["seeds"] > 0]
    if done.empty:
        return None
    return int(done.sort_values(["best_mean"], ascending=False, kind="stable").index[0])


def _fmt(epoch, mean, sd, seeds, approx=False, digits=4) -> str:
    if seeds == 1:
        return f"{int(epoch)}: {mean:.{digits}f}"
    return f"{'~' if approx else ''}{int(round(epoch))}: {mean:.{digits}f} ± {sd:.{digits}f}"


def study_table(results: list, verdict=None, digits=4):
    """The reference study's table: final and best val AP per experiment, mean +- sd over its
    finished seeds (``digits`` decimals).  ``verdict`` (report.verdict.decide's, for these
    results): a Verdict column marks the block's winner and whether the adopt rule carried it on."""
    import pandas as pd

    stats = seed_stats(results)
    rows = []
    for no, s in stats.iterrows():
        if s["seeds"] == 0:
            final = best = s["status"]
        else:
            final = _fmt(s["final_epoch"], s["final_mean"], s["final_sd"], s["seeds"], digits=digits)
            best = _fmt(s["best_epoch"], s["best_mean"], s["best_sd"], s["seeds"], approx=True, digits=digits)
        rows.append({"No.": no, "Policy": s["policy"], "Parameter": s["parameter"],
                     "Final mAP (epoch: mAP)": final, "Best mAP (epoch: mAP)": best,
                     "Seeds": int(s["seeds"]) or int(s["runs"])})
    table = pd.DataFrame(rows)
    if verdict and verdict.get("winner") is not None:
        mark = "winner, carried on" if verdict["adopted"] else "winner, base stays"
        table["Verdict"] = [mark if no == verdict["winner"] else "" for no in table["No."]]
    return table


def compute_seconds(result: dict) -> float:
    """Seconds a run cost, over every segment of a resumed run: the sum of its epochs'
    training and validation seconds (history), or, in a history without validation times,
    the result's wall time (its last segment only, when it was resumed).  A run that took a
    twin's result (``same_as``) cost nothing: its twin's seconds are counted once."""
    if result.get("same_as"):
        return 0.0
    history = result.get("history") or []
    if history and all(h.get("val_seconds") is not None for h in history):
        return sum((h.get("train_seconds") or 0) + h["val_seconds"] for h in history)
    return max(result.get("wall_seconds") or 0, sum(h.get("train_seconds") or 0 for h in history))


def compute_frame(results: list):
    """The compute of some runs: runs trained (not those that took a twin's result), epochs
    trained, seconds (:func:`compute_seconds`)."""
    import pandas as pd

    trained = [r for r in results if not r.get("same_as")]  # a twin's epochs are its twin's
    epochs = sum(len(r.get("history") or []) for r in trained)
    seconds = sum(compute_seconds(r) for r in trained)
    return pd.DataFrame([dict(runs=len(trained), epochs=epochs, seconds=seconds)])


def with_hours(frame):
    """``compute_frame``'s seconds as hours and seconds per epoch, rounded for a table."""
    return frame.assign(hours=(frame["seconds"] / 3600).round(2),
                        s_per_epoch=(frame["seconds"] / frame["epochs"].where(frame["epochs"] > 0)).round(1))
