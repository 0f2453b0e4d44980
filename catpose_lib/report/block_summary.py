"""What a block says: the winner, and whether it beats the base by more than the noise."""
import math

from catpose_lib.runs.results import carried_on, seed_stats, winner


def block_verdict(results: list, base_ap=None, base_sd=None) -> dict:
    """Winner = highest mean best-AP over seeds among finished runs (runs.results.winner).

    The noise is the larger seed spread (sd) of the winner and of the base; with one seed of
    the winner it is unknown and the verdict says so.  ``beats_base`` is True/False only when
    both a base AP and a noise estimate exist.
    """
    stats = seed_stats(results)
    top = winner(stats)
    if top is None:
        return dict(winner=None, text="No run of this block finished.")
    s = stats.loc[top]
    mean, seeds = float(s["best_mean"]), int(s["seeds"])
    sd = None if seeds < 2 or math.isnan(s["best_sd"]) else float(s["best_sd"])
    noise = None if sd is None else max(sd, base_sd or 0.0)
    first = next(r for r in results if r["no"] == top)
    label, base_name = s["parameter"], first["base"]["name"]
    if base_ap is None:
        base_ap = first["base"].get("best_AP")
    verdict = dict(winner=top, parameter=label, mean_AP=mean, sd=sd, seeds=seeds,
                   base=base_name, base_AP=base_ap, beats_base=None)
    text = f"Winner: run {top:02d} ({label}), best mAP {mean:.4f}"
    text += f" ± {sd:.4f} over {seeds} seeds." if sd is not None else " (1 seed)."
    if base_ap is None:
        text += f" Base: {base_name}; its mAP is not in these results, so no comparison."
    elif sd is None:
        text += (f" Base {base_name}: {base_ap:.4f} (difference {mean - base_ap:+.4f}); with one "
                 "seed the noise is unknown: run several seeds before calling it an improvement.")
    else:
        beats = (mean - base_ap) > noise
        verdict.update(beats_base=beats, base_sd=base_sd, noise=noise)
        spread = f"base sd {base_sd:.4f}" if base_sd is not None else "base: one seed"
        text += (f" Base {base_name}: {base_ap:.4f} (difference {mean - base_ap:+.4f}, noise sd "
                 f"{noise:.4f} = the larger of the winner's and the base's; {spread}): "
                 f"{'beats' if beats else 'does not beat'} the base by more than the noise.")
    if base_ap is not None:  # base=best carries on the best known recipe (workers.blocks.study_walk)
        verdict["adopted"] = carried_on(mean, base_ap)
        text += (f" The next block starts from run {top:02d}." if verdict["adopted"] else
                 f" Its winner lost to the base: the next block starts from {base_name} again.")
    verdict["text"] = text
    return verdict
