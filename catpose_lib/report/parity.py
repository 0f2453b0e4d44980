"""Is a speed setting (e.g. bf16 + channels-last) AP-neutral?  Compare the same runs (data,
seeds, budget, knobs) trained with a reference setting and with a candidate setting,
against the noise measured between seeds."""
from statistics import mean

from catpose_lib.runs.results import FINISHED


def _by_seed(results, label):
    out = {}
    for r in results:
        if r["status"] != FINISHED or not r.get("best"):
            raise ValueError(f"{label}: run {r['name']} is '{r['status']}', not finished with an AP")
        out[r["seed"]] = r
    return out


def compare_settings(reference: list, candidate: list, reference_name="fp32",
                     candidate_name="bf16") -> dict:
    """Per seed final/best AP and seconds per train epoch for both settings, the mean AP
    differences (candidate - reference), and the noise: the largest AP spread between seeds
    within one setting.  ``unchanged`` is True when both |differences| are within the noise,
    None when the noise cannot be measured (fewer than 2 seeds)."""
    ref, cand = _by_seed(reference, reference_name), _by_seed(candidate, candidate_name)
    seeds = sorted(set(ref) & set(cand))
    if not seeds:
        raise ValueError(f"no seed was run with both {reference_name} and {candidate_name}")

    def epoch_seconds(r):
        secs = [h["train_seconds"] for h in r["history"] if h.get("train_seconds")]
        return mean(secs) if secs else None

    rows = [dict(seed=s, **{f"{name}_{what}": runs[s][what]["AP"]
                            for name, runs in ((reference_name, ref), (candidate_name, cand))
                            for what in ("final", "best")},
                 **{f"{name}_s_per_epoch": epoch_seconds(runs[s])
                    for name, runs in ((reference_name, ref), (candidate_name, cand))})
            for s in seeds]
    out = dict(seeds=seeds, rows=rows)
    for what in ("final", "best"):
        out[f"delta_{what}"] = (mean(r[f"{candidate_name}_{what}"] for r in rows)
                                - mean(r[f"{reference_name}_{what}"] for r in rows))
    if len(seeds) >= 2:
        out["noise"] = max(max(r[f"{name}_{what}"] for r in rows) - min(r[f"{name}_{what}"] for r in rows)
                           for name in (reference_name, candidate_name) for what in ("final", "best"))
        out["unchanged"] = all(abs(out[f"delta_{w}"]) <= out["noise"] for w in ("final", "best"))
    else:
        out["noise"], out["unchanged"] = None, None
    ref_s = [r[f"{reference_name}_s_per_epoch"] for r in rows]
    cand_s = [r[f"{candidate_name}_s_per_epoch"] for r in rows]
    out["speedup"] = (mean(ref_s) / mean(cand_s)) if all(ref_s) and all(cand_s) else None
    return out
