"""The reference study side by side with ours: every run of the course study (its best val AP
or its outcome, ``recipe/course_study.csv``, a copy of ``../shared/reference/course_study.csv``)
against our mean +- sd over seeds, and per block whether the effects go the same direction.

The two studies' APs differ in level (other cats and keypoints, ImageNet starts, the full
budget on a GPU), so only directions are compared: each run against the run our block started
from, in each study.  Where the reference has no AP for that base (out of memory there), its
own best run of the base's block stands in (the reference's pick there).
"""
from pathlib import Path

import pandas as pd

from catpose_lib.errors import CatposeError
from catpose_lib.recipe.experiments import BLOCK_NUMBERS, BLOCKS
from catpose_lib.report.drawing import figure, save
from catpose_lib.report.verdict import finished_runs

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "recipe" / "course_study.csv"
COMPARISON_CSV = "reference_comparison.csv"  # written under RESULTS by report.paper
FAILED = {"did not converge": "did not converge", "CUDA out of memory": "out of memory"}


def load_reference(path=None):
    """The reference study's rows: ref_no (text: '26b' exists), project_no, block, parameter,
    best_AP (NaN where the run failed), outcome."""
    path = Path(path or REFERENCE_CSV)
    if not path.is_file():
        raise CatposeError(f"the reference study's table {path} does not exist")
    frame = pd.read_csv(path, dtype={"ref_no": str})
    missing = {"ref_no", "project_no", "block", "parameter", "best_AP", "outcome"} - set(frame.columns)
    if missing:
        raise CatposeError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return frame


def _direction(ap, base_ap, outcome="finished"):
    """'+' / '-' / '=' of a run against its base; 'did not converge' is '-'; None when unknown."""
    if outcome == "did not converge":
        return "-"
    if pd.isna(ap) or pd.isna(base_ap):
        return None
    return "+" if ap > base_ap else "-" if ap < base_ap else "="


def reference_comparison(results_dir, reference=None):
    """One row per reference run: ref_no, project_no, block, parameter, reference_outcome,
    reference_best_AP, best_AP (ours: mean over finished seeds), best_AP_sd, seeds, base_no
    (the run our block started from), reference_base_AP (the reference's AP of that run, or
    of its pick in that block), reference_vs_base, ours_vs_base ('+', '-', '=') and
    same_direction (True / False; empty where either is unknown)."""
    from catpose_lib.workers.blocks import study_walk  # lazy: torch/mmengine (CLI speed)

    ref = load_reference(reference)
    steps = study_walk(results_dir)
    blocks = {s["block"]: s["results"] for s in steps}
    if not any(blocks.values()):
        raise CatposeError(f"no block results in {results_dir}")
    ours = {}
    for block, results in blocks.items():
        for no in {r["no"] for r in results}:
            aps = [r["best"]["AP"] for r in finished_runs(results, no).values()]
            status = next(r["status"] for r in results if r["no"] == no)
            ours[no] = dict(block=block, aps=aps, status=status, base=next(r["base"] for r in results if r["no"] == no))
    ref_ap = {int(r.project_no): (None if pd.isna(r.best_AP) else float(r.best_AP)) for r in ref.itertuples()}

    def reference_base(base):
        if ref_ap.get(base["no"]) is not None:
            return base["no"], ref_ap[base["no"]]
        rows = ref[(ref["block"] == base["block"]) & ref["best_AP"].notna()]
        if rows.empty:
            return None, None
        best = rows.loc[rows["best_AP"].idxmax()]
        return int(best["project_no"]), float(best["best_AP"])

    def mean(values):
        return sum(values) / len(values) if values else None

    rows = []
    for r in ref.itertuples():
        no = int(r.project_no)
        mine = ours.get(no)
        aps = mine["aps"] if mine else []
        row = dict(ref_no=r.ref_no, project_no=no, block=r.block, parameter=r.parameter,
                   reference_outcome=r.outcome, reference_best_AP=ref_ap[no],
                   best_AP=mean(aps), best_AP_sd=(pd.Series(aps).std() if len(aps) > 1 else None),
                   seeds=len(aps), status=mine["status"] if mine else "not run",
                   base_no=None, reference_base_no=None, reference_base_AP=None,
                   reference_vs_base=None, ours_vs_base=None, same_direction=None)
        if mine and r.block != "baseline":
            base = mine["base"]
            base_aps = [x["best"]["AP"] for x in finished_runs(blocks.get(base["block"], []), base["no"]).values()]
            ref_base_no, ref_base_ap = reference_base(base)
            ref_dir = None if r.outcome not in ("finished", "did not converge") else \
                _direction(ref_ap[no], ref_base_ap, r.outcome)
            our_dir = _direction(row["best_AP"], mean(base_aps))
            row.update(base_no=base["no"], reference_base_no=ref_base_no, reference_base_AP=ref_base_ap,
                       reference_vs_base=ref_dir, ours_vs_base=our_dir,
                       same_direction=None if ref_dir is None or our_dir is None else ref_dir == our_dir)
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.astype({"base_no": "Int64", "reference_base_no": "Int64"})


def _spearman(x, y):
    if len(x) < 3:
        return None
    return round(float(pd.Series(list(x)).rank().corr(pd.Series(list(y)).rank())), 2)


def reference_blocks(comparison, results_dir):
    """Per block: the reference's winner and ours, whether they are the same run, the rank
    correlation of the settings (Spearman, runs with an AP in both), how many runs go the same
    direction against the base, the reference's failures and what those runs did here, and
    whether each study's winner beat its base (ours: the adopt rule)."""
    from catpose_lib.workers.blocks import study_walk  # lazy: torch/mmengine (CLI speed)

    verdicts = {s["block"]: s for s in study_walk(results_dir)}
    rows = []
    for block in BLOCKS:
        part = comparison[comparison["block"] == block]
        if part.empty:
            continue
        ref_ok = part[part["reference_best_AP"].notna()]
        ref_top = int(ref_ok.loc[ref_ok["reference_best_AP"].idxmax(), "project_no"]) if not ref_ok.empty else None
        step = verdicts.get(block)
        ours_top = step["winner"]["no"] if step else None
        both = part[part["reference_best_AP"].notna() & part["best_AP"].notna()]
        judged = part[part["same_direction"].notna()]
        failures = [f"{int(r.project_no)}: {FAILED.get(r.reference_outcome, r.reference_outcome)} there, "
                    + (f"{r.best_AP:.3f} here" if r.best_AP == r.best_AP and r.best_AP is not None else r.status + " here")
                    for r in part.itertuples() if r.reference_outcome != "finished"]
        ref_base = None if ref_ok.empty else part["reference_base_AP"].dropna()
        ref_beats = None
        if ref_top is not None and ref_base is not None and not ref_base.empty:
            ref_beats = bool(ref_ok["reference_best_AP"].max() > ref_base.iloc[0])
        rows.append(dict(block=block, number=BLOCK_NUMBERS[block], runs=len(part),
                         reference_winner=ref_top, winner=ours_top,
                         same_winner=None if ref_top is None or ours_top is None else ref_top == ours_top,
                         rank_correlation=_spearman(both["reference_best_AP"], both["best_AP"]),
                         same_direction=f"{int(judged['same_direction'].sum())} of {len(judged)}",
                         reference_winner_beats_base=ref_beats,
                         winner_carried_on=step["adopted"] if step else None,
                         reference_failures="; ".join(failures)))
    return pd.DataFrame(rows)


def reference_figure(comparison, out):
    """Reference best AP (x) against ours (y, mean +- sd over seeds), one point per run,
    coloured by block; the reference's failed runs on a strip left of its axis."""
    from matplotlib import colormaps

    fig = figure(9, 5.2)
    ax = fig.subplots()

    colors = colormaps["tab10"]
    blocks = [b for b in ("baseline", *BLOCKS) if (comparison["block"] == b).any()]
    ok = comparison["reference_best_AP"].notna()
    fail_x = (comparison.loc[ok, "reference_best_AP"].min() if ok.any() else 0.1) - 0.06
    for i, block in enumerate(blocks):
        part = comparison[(comparison["block"] == block) & comparison["best_AP"].notna()]
        if part.empty:
            continue
        x = part["reference_best_AP"].fillna(fail_x).to_numpy(float)
        y = part["best_AP"].to_numpy(float)
        sd = part["best_AP_sd"].fillna(0).to_numpy(float)
        failed = part["reference_best_AP"].isna().to_numpy()
        ax.errorbar(x[~failed], y[~failed], yerr=sd[~failed], fmt="o", ms=5, capsize=3, color=colors(i),
                    label=f"{BLOCK_NUMBERS.get(block, '00')} {block}")
        if failed.any():
            ax.errorbar(x[failed], y[failed], yerr=sd[failed], fmt="x", ms=6, capsize=3, color=colors(i))
        for xi, yi, no in zip(x, y, part["project_no"]):
            ax.annotate(f"{int(no)}", (xi, yi), xytext=(3, 2), textcoords="offset points", fontsize=6)
    if (~ok).any():
        ax.axvline(fail_x + 0.03, color="grey", lw=0.6, ls=":")
        ax.annotate("x: no AP in the reference\n(did not converge / out of memory)", (fail_x, 0.0),
                    xycoords=("data", "axes fraction"), xytext=(0, 4), textcoords="offset points", fontsize=6,
                    ha="center", va="bottom", rotation=90)
    ax.set_xlabel("reference study: best val AP (its cats, 17 keypoints, ImageNet start, full budget)", fontsize=8)
    ax.set_ylabel("ours: best val AP, mean ± 1 sd over seeds\n(COCO OKS, ground-truth boxes)", fontsize=8)
    ax.set_title("The reference study against ours, one point per run", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlim(left=fail_x - 0.03)
    ax.grid(alpha=0.3)
    return save(fig, out, dpi=110)
