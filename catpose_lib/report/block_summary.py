"""What a block says: the winner, and whether it beats the base by more than the noise."""
import math

from catpose_lib.engine.results import FINISHED


def _stats(values):
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return mean, sd


def block_verdict(results: list, base_ap=None) -> dict:
    """Winner = highest mean best-AP over seeds among finished runs.

    The noise is the seed spread (sd) of the winner; with one seed it is unknown and the
    verdict says so.  ``beats_base`` is True/False only when both a base AP and a noise
    estimate exist.
    """
    by_no = {}
    for r in results:
        if r["status"] == FINISHED and r.get("best"):
            by_no.setdefault(r["no"], []).append(r)
    if not by_no:
        return dict(winner=None, text="No run of this block finished.")
    stats = {no: _stats([r["best"]["AP"] for r in runs]) for no, runs in by_no.items()}
    winner = max(stats, key=lambda n: (stats[n][0], -n))
    mean, sd = stats[winner]
    label = by_no[winner][0]["parameter"]
    base_name = by_no[winner][0]["base"]["name"]
    if base_ap is None:
        base_ap = by_no[winner][0]["base"].get("best_AP")
    verdict = dict(winner=winner, parameter=label, mean_AP=mean, sd=sd, seeds=len(by_no[winner]),
                   base=base_name, base_AP=base_ap, beats_base=None)
    text = f"Winner: run {winner:02d} ({label}), best mAP {mean:.4f}"
    text += f" ± {sd:.4f} over {len(by_no[winner])} seeds." if sd is not None else " (1 seed)."
    if base_ap is None:
        text += f" Base: {base_name}; its mAP is not in these results, so no comparison."
    elif sd is None:
        text += (f" Base {base_name}: {base_ap:.4f} (difference {mean - base_ap:+.4f}); with one "
                 "seed the noise is unknown: run several seeds before calling it an improvement.")
    else:
        beats = (mean - base_ap) > sd
        verdict["beats_base"] = beats
        text += (f" Base {base_name}: {base_ap:.4f} (difference {mean - base_ap:+.4f}, noise sd "
                 f"{sd:.4f}): {'beats' if beats else 'does not beat'} the base by more than the noise.")
    verdict["text"] = text
    return verdict
