"""Run results on disk (``DIR/<block>/<run>.json``, ``DIR/<block>.csv``) and the reference
study's table: No., Policy, Parameter, Final mAP (epoch: mAP), Best mAP (epoch: mAP)."""
import json
import math
from pathlib import Path

from catpose_lib.data.layout import atomic_write_text
from catpose_lib.engine.experiments import resolve_block

FINISHED = "finished"
NOT_CONVERGE = "not converge"
CUDA_OOM = "CUDA out of memory"
# statuses that a re-run keeps (a failed or OOM run is tried again)
KEPT_STATUSES = (FINISHED, NOT_CONVERGE)


def run_name(no: int, seed: int) -> str:
    return f"{no:02d}_s{seed}"


def result_path(results_dir, block, no, seed) -> Path:
    return Path(results_dir) / resolve_block(block) / f"{run_name(no, seed)}.json"


def write_result(path, result: dict) -> None:
    atomic_write_text(path, json.dumps(result, indent=1, default=str))


def read_result(path):
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def load_block_results(results_dir, block) -> list:
    folder = Path(results_dir) / resolve_block(block)
    out = [read_result(p) for p in sorted(folder.glob("*.json"))]
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
            parameter=r["parameter"], status=r["status"], base=r["base"]["name"],
            final_epoch=(r.get("final") or {}).get("epoch"), final_AP=(r.get("final") or {}).get("AP"),
            best_epoch=(r.get("best") or {}).get("epoch"), best_AP=(r.get("best") or {}).get("AP"),
            wall_seconds=r.get("wall_seconds"), samples_per_s=r.get("samples_per_s"),
            peak_memory_mb=r.get("peak_memory_mb"), device=r["provenance"]["device"],
            budget=r["budget"], key=r["key"]))
    return pd.DataFrame(rows)


def write_block_csv(results_dir, block) -> Path:
    block = resolve_block(block)
    frame = block_frame(load_block_results(results_dir, block))
    path = Path(results_dir) / f"{block}.csv"
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def _fmt(entry) -> str:
    return f"{entry['epoch']}: {entry['AP']:.4f}"


def study_table(results: list):
    """The reference study's table.  With several seeds per run: mean +- std, and a ``~``
    mark on the best value where the runs' difference to the block's best is within the
    spread (std) of either."""
    import pandas as pd

    by_no = {}
    for r in results:
        by_no.setdefault(r["no"], []).append(r)
    rows = []
    best_stats = {}
    for no, runs in sorted(by_no.items()):
        first = runs[0]
        ok = [r for r in runs if r["status"] == FINISHED and r.get("best")]
        if not ok:
            status = next((r["status"] for r in runs if r["status"] != FINISHED), first["status"])
            rows.append({"No.": no, "Policy": first["policy"], "Parameter": first["parameter"],
                         "Final mAP (epoch: mAP)": status, "Best mAP (epoch: mAP)": status,
                         "Seeds": len(runs)})
            continue
        if len(ok) == 1:
            final, best = _fmt(ok[0]["final"]), _fmt(ok[0]["best"])
            best_stats[no] = (ok[0]["best"]["AP"], 0.0)
        else:
            finals = [r["final"]["AP"] for r in ok]
            bests = [r["best"]["AP"] for r in ok]
            fe = ok[0]["final"]["epoch"]
            be = round(sum(r["best"]["epoch"] for r in ok) / len(ok))
            final = f"{fe}: {_mean(finals):.4f} ± {_std(finals):.4f}"
            best = f"~{be}: {_mean(bests):.4f} ± {_std(bests):.4f}"
            best_stats[no] = (_mean(bests), _std(bests))
        rows.append({"No.": no, "Policy": first["policy"], "Parameter": first["parameter"],
                     "Final mAP (epoch: mAP)": final, "Best mAP (epoch: mAP)": best,
                     "Seeds": len(ok)})
    table = pd.DataFrame(rows)
    if best_stats and any(s > 0 for _, s in best_stats.values()):
        top_no = max(best_stats, key=lambda n: best_stats[n][0])
        top_mean, top_std = best_stats[top_no]
        marks = []
        for no in table["No."]:
            if no in best_stats and no != top_no:
                mean, std = best_stats[no]
                marks.append("within noise of best" if top_mean - mean <= max(std, top_std) else "")
            else:
                marks.append("best" if no == top_no else "")
        table["vs best"] = marks
    return table


def _mean(xs):
    return sum(xs) / len(xs)


def _std(xs):
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
