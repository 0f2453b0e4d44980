"""The study's one adopt rule, written once: which recipe a block hands on to the next.

A block's winner (the highest mean best val AP over its finished seeds, runs.results.winner)
is picked on the seeds every run of the block has (seed 0 under protocol ``cpu``); its other
seeds (the confirm seeds) did not pick it.  Its lead over the base is measured on those
unselected seeds, against the base on the same seeds, with a 95% interval that counts the
seed noise and, where both runs kept their val predictions, the sampling of the val cats.
It is carried on only when the interval's lower bound is above 0; otherwise the base stays.

workers.blocks.study_walk (each next block's base), the block reports, the tables and the
report's text all call :func:`decide`; :data:`RULE` and :func:`method_sentence` are the
only wording of the rule (rendered into the notebooks, README and docs from here).
"""
import hashlib
import json
import math
import statistics
from pathlib import Path

from catpose_lib.data.layout import annotation_path, atomic_write_text
from catpose_lib.report.bootstrap import N_RESAMPLES, image_evals, paired_ap_difference
from catpose_lib.runs.results import FINISHED, result_path, seed_stats, val_predictions_path, winner
from catpose_lib.schemes import load_scheme

CONFIDENCE = 0.95
LEARNED_AP = 0.01  # below it a run learned nothing: no pair for the val noise (val_noise)

RULE = ("A block's winner is the run with the highest mean best val AP over its finished seeds; it is picked on "
        "the seeds every run of the block has (seed 0 under protocol `cpu`).  It is carried on to the next block "
        "only when its lead over the base is beyond the noise: the 95% interval of (winner - base), measured on "
        "the winner's other seeds (those that did not pick it) against the base on the same seeds, lies above 0.  "
        "Otherwise the base stays.  With no such interval (one seed, no noise estimate) the base stays too; a "
        "base without results is no comparison, and the winner is carried on.")

# the kinds of interval, as the records, tables and report label them
SEEDS_AND_VAL = "seeds + paired val bootstrap"
SEEDS_WIDENED = "seeds + val sd measured elsewhere"
SEEDS_ONLY = "seeds only"
NO_INTERVAL = "none"


def method_sentence(n_resamples=None) -> str:
    """The interval's method in one sentence (with the bootstrap's resamples)."""
    return (f"The interval is the difference of the two runs' mean best val AP (COCO OKS on ground-truth boxes) "
            f"over the unselected seeds +- t(0.975, df) x sqrt(seed part + val part): the seed part is the seed "
            f"variance pooled over every recipe's unselected seeds in the study (df its degrees of freedom), "
            f"scaled by (1/n + 1/m) for the winner's n and the base's m seeds; the val part is the variance of the difference over "
            f"{n_resamples or N_RESAMPLES:,} paired bootstrap resamples of the val images (each with its cats, "
            f"both runs scored on the same resample) where both runs kept their val predictions, else the median "
            f"such variance measured between runs that kept them ('{SEEDS_WIDENED}'), else 0 ('{SEEDS_ONLY}').")


# ------------------------------------------------------------------ seeds

def selection_seeds(results: list) -> list:
    """The seeds that picked a block's winner: those every experiment of the block ran (the
    protocol's seeds; the confirm seeds are the winner's others).  None in a block of one
    experiment (the baseline): nothing was picked there."""
    by_exp = {}
    for r in results:
        by_exp.setdefault(r["no"], set()).add(r["seed"])
    if len(by_exp) < 2:
        return []
    return sorted(set.intersection(*by_exp.values()))


def finished_runs(results: list, no: int) -> dict:
    """{seed: result} of an experiment's finished runs with a best AP."""
    return {r["seed"]: r for r in results if r["no"] == no and r["status"] == FINISHED and r.get("best")}


def seed_noise(blocks: dict) -> dict:
    """The seed sd pooled over every experiment's unselected finished seeds (two or more) in
    ``blocks`` ({block: results}): sqrt(sum of squared deviations / sum of (n - 1)).  None when
    no experiment has two unselected seeds."""
    ss, df, recipes = 0.0, 0, []
    for block, results in blocks.items():
        picked = set(selection_seeds(results))
        for no in sorted({r["no"] for r in results}):
            aps = [r["best"]["AP"] for s, r in sorted(finished_runs(results, no).items()) if s not in picked]
            if len(aps) >= 2:
                mean = sum(aps) / len(aps)
                ss += sum((a - mean) ** 2 for a in aps)
                df += len(aps) - 1
                recipes.append(dict(block=block, no=no, seeds=len(aps)))
    if df == 0:
        return None
    return dict(sd=math.sqrt(ss / df), df=df, recipes=recipes)


# ------------------------------------------------------------------ val predictions

def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_val_evals(result: dict, results_dir, val_file=None):
    """COCOeval's per-image matches of a run's kept val predictions (``NN_sS.val.json``), for
    the paired bootstrap: read from ``RESULTS/<block>/val_evals/NN_sS.json`` when that was made
    from the same predictions, else computed from ``val_file`` (default: the val annotations of
    the run's data root) and kept there, so the verdict needs the data only once.  None when the
    run kept no predictions or neither the cache nor the annotations are there."""
    import numpy as np

    preds = val_predictions_path(result_path(results_dir, result["block"], result["no"], result["seed"]))
    if not preds.is_file():
        return None
    cache = preds.parent / "val_evals" / f"{preds.name[:-len('.val.json')]}.json"
    sha = _sha256(preds)
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data.get("predictions_sha256") == sha:
            return {int(e[0]): (np.asarray(e[1], float), np.asarray(e[2], bool).reshape(len(e[2]), -1),
                                np.asarray(e[3], bool).reshape(len(e[3]), -1), int(e[4])) for e in data["images"]}
    val_file = Path(val_file) if val_file else annotation_path(result.get("data_root", ""), "val")
    if not val_file.is_file():
        return None
    evals = image_evals(val_file, preds, load_scheme(result["scheme"])["sigmas"])
    atomic_write_text(cache, json.dumps(dict(
        predictions_sha256=sha, val_sha256=_sha256(val_file),
        images=[[int(k), v[0].tolist(), v[1].astype(int).tolist(), v[2].astype(int).tolist(), int(v[3])]
                for k, v in evals.items()])))
    return evals


def _evals_of(runs: dict, seeds, results_dir, val_file):
    out = [run_val_evals(runs[s], results_dir, val_file) for s in seeds]
    return None if any(e is None for e in out) else out


def val_noise(blocks: dict, results_dir, val_file=None) -> dict:
    """The val-sampling sd of a paired AP difference, measured where runs kept predictions: for
    each block, its winner against each other experiment of the block on a seed both have
    predictions for (paired bootstrap over val images); the median of those sds, with the pairs.
    None where no such pair exists.  A run that learned nothing (best AP below
    :data:`LEARNED_AP`) is no pair: its per-image APs are all ~0, so the "paired" difference is
    the other model's own sampling sd, not that of two comparable models."""
    pairs = []
    for block, results in blocks.items():
        top = winner(seed_stats(results)) if results else None
        if top is None:
            continue
        top_runs = finished_runs(results, top)
        for no in sorted({r["no"] for r in results} - {top}):
            other = {s: r for s, r in finished_runs(results, no).items() if r["best"]["AP"] >= LEARNED_AP}
            for seed in sorted(set(top_runs) & set(other)):
                a = _evals_of(top_runs, [seed], results_dir, val_file)
                b = _evals_of(other, [seed], results_dir, val_file)
                if a and b:
                    d = paired_ap_difference(a, b)
                    pairs.append(dict(block=block, runs=[top, no], seed=seed, sd=d["sd"]))
                    break
    if not pairs:
        return None
    return dict(sd=statistics.median(p["sd"] for p in pairs), pairs=pairs)


# ------------------------------------------------------------------ the rule

def adopt(interval) -> bool:
    """The rule itself: carried on only when the interval of (winner - base) lies above 0."""
    return bool(interval is not None and interval.get("low") is not None and interval["low"] > 0)


def compare(winner_runs: dict, base_runs: dict, picked, noise=None, widen=None, results_dir=None,
            val_file=None) -> dict:
    """(winner - base) on the winner's unselected seeds: the means, the difference and its
    interval (:func:`method_sentence`).  ``winner_runs`` / ``base_runs``: {seed: result};
    ``picked``: the seeds that picked the winner; ``noise``: :func:`seed_noise`; ``widen``:
    :func:`val_noise`, used where a run of the comparison kept no val predictions."""
    from scipy import stats

    unselected = sorted(set(winner_runs) - set(picked))
    out = dict(unselected_seeds=unselected, winner_unselected=None, base_seeds=[], base_unselected=None,
               difference=None, interval=dict(low=None, high=None, kind=NO_INTERVAL, method=""))
    if not unselected:
        out["interval"]["method"] = ("no unselected seeds: every seed of the winner took part in picking it "
                                     "(run the protocol's confirm seeds)")
        return out
    w = [winner_runs[s]["best"]["AP"] for s in unselected]
    base_seeds = sorted(set(base_runs) & set(unselected)) or sorted(base_runs)
    out.update(winner_unselected=sum(w) / len(w), base_seeds=base_seeds)
    if not base_seeds:
        out["interval"]["method"] = "the base has no finished run here"
        return out
    b = [base_runs[s]["best"]["AP"] for s in base_seeds]
    out.update(base_unselected=sum(b) / len(b), difference=sum(w) / len(w) - sum(b) / len(b))
    if noise is None:
        out["interval"]["method"] = "no seed noise estimate: no recipe in the study has two unselected seeds"
        return out
    seed_var = noise["sd"] ** 2 * (1 / len(w) + 1 / len(b))
    boot = None
    if results_dir is not None:
        a = _evals_of(winner_runs, unselected, results_dir, val_file)
        c = _evals_of(base_runs, base_seeds, results_dir, val_file) if a else None
        if a and c:
            boot = paired_ap_difference(a, c)
    if boot:
        kind, val_sd = SEEDS_AND_VAL, boot["sd"]
        how = f"paired bootstrap over {boot['images']} val images, {boot['resamples']} resamples: sd {val_sd:.3f}"
    elif widen:
        kind, val_sd = SEEDS_WIDENED, widen["sd"]
        how = (f"val sd {val_sd:.3f}, the median paired-bootstrap sd of {len(widen['pairs'])} pair(s) of runs "
               f"with val predictions")
    else:
        kind, val_sd = SEEDS_ONLY, 0.0
        how = "val sampling not counted: neither run kept its val predictions, and no pair of runs did"
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, noise["df"])) * math.sqrt(seed_var + val_sd ** 2)
    out["interval"] = dict(
        low=out["difference"] - half, high=out["difference"] + half, kind=kind, se_seed=math.sqrt(seed_var),
        se_val=val_sd, df=noise["df"], seed_sd=noise["sd"],
        method=(f"{kind}: seed sd {noise['sd']:.3f} pooled over {len(noise['recipes'])} recipes' unselected seeds "
                f"(df {noise['df']}); {how}"))
    return out


def _seeds(seeds) -> str:
    return ", ".join(str(s) for s in seeds)


def decide(results: list, base_runs: dict, base_name: str, noise=None, widen=None, results_dir=None,
           val_file=None) -> dict:
    """A block's verdict under :data:`RULE`: its winner (runs.results.winner), the seeds that
    picked it, the winner and the base on the other seeds, the interval of the difference
    (:func:`compare`), whether the winner is adopted, and the text that says so.
    ``base_runs``: {seed: result} of the recipe the block started from (empty: none measured)."""
    stats = seed_stats(results)
    top = winner(stats)
    if top is None:
        return dict(winner=None, adopted=False, text="No run of this block finished: the base stays.")
    s = stats.loc[top]
    mean, n = float(s["best_mean"]), int(s["seeds"])
    sd = None if n < 2 or math.isnan(s["best_sd"]) else float(s["best_sd"])
    picked = selection_seeds(results)
    winner_runs = finished_runs(results, top)
    base_aps = [r["best"]["AP"] for r in base_runs.values()]
    base_ap = sum(base_aps) / len(base_aps) if base_aps else None
    # experiments given the confirm seeds besides the winner (one that led on the picking seeds and
    # lost its place once averaged): those seeds also ranked the winner against them
    confirmed = sorted(no for no in {r["no"] for r in results} - {top}
                       if set(finished_runs(results, no)) - set(picked) and picked)
    v = dict(winner=top, parameter=s["parameter"], mean_AP=mean, sd=sd, seeds=n, picked_on=picked,
             also_confirmed=confirmed, base=base_name, base_AP=base_ap, base_seeds_all=len(base_aps))
    v.update(compare(winner_runs, base_runs, picked, noise, widen, results_dir, val_file))
    iv = v["interval"]
    v["beats_base"] = None if iv["low"] is None else iv["low"] > 0
    v["adopted"] = True if base_ap is None else adopt(iv)
    text = (f"Winner: run {top:02d} ({s['parameter']}), best val AP {mean:.3f}"
            + (f" ± {sd:.3f} over {n} seeds" if sd is not None else " (1 seed)")
            + (f", picked on seed(s) {_seeds(picked)}" if picked else ", the block's only run")
            + (f" (the other seeds also ranked it above run(s) {', '.join(f'{c:02d}' for c in confirmed)}, "
               f"confirmed too)." if confirmed else "."))
    if base_ap is None:
        text += f" Base {base_name}: no results here, so no comparison; the winner is carried on."
    elif v["winner_unselected"] is None:
        text += f" It has no seed that did not pick it: the lead over {base_name} ({base_ap:.3f}) is not measured"
    elif v["difference"] is None:
        text += f" The base {base_name} has no finished run to compare with"
    else:
        text += (f" On seed(s) {_seeds(v['unselected_seeds'])}: {v['winner_unselected']:.3f} against "
                 f"{v['base_unselected']:.3f} for the base ({base_name}) on seed(s) {_seeds(v['base_seeds'])}, "
                 f"difference {v['difference']:+.3f}")
        if iv["low"] is not None:
            text += f", 95% interval [{iv['low']:+.3f}, {iv['high']:+.3f}] ({iv['kind']})"
    if base_ap is not None:
        if v["adopted"]:
            text += f": beyond the noise, so run {top:02d} is carried on to the next block."
        elif iv["low"] is not None:
            text += f": not beyond the noise, so the base ({base_name}) stays."
        else:
            text += f" ({iv['method']}): the base ({base_name}) stays."
    v["text"] = text + " (Best val AP: COCO OKS on ground-truth boxes.)"
    return v


def verdict_frame(v: dict):
    """A verdict as a one-row table: winner, the seeds that picked it, the winner and the base on
    the other seeds, the difference, its 95% interval and kind, carried on."""
    import pandas as pd

    iv = v.get("interval") or {}

    def signed(x):
        return "n/a" if x is None else f"{x:+.3f}"

    return pd.DataFrame([{"winner": f"{v['winner']:02d}" if v.get("winner") is not None else "",
                          "picked on seed(s)": ", ".join(map(str, v.get("picked_on") or [])),
                          "winner, unselected seeds": v.get("winner_unselected"),
                          "base, same seeds": v.get("base_unselected"), "difference": v.get("difference"),
                          "95% interval": f"[{signed(iv.get('low'))}, {signed(iv.get('high'))}]"
                          if iv.get("low") is not None else "none",
                          "interval kind": iv.get("kind"), "carried on": v.get("adopted")}])
