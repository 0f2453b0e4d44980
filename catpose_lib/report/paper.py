"""The study as a paper: one HTML file built from the results folder and the figures drawn
from it (not the notebooks glued together): title, abstract, method, the reference study side
by side, one section per block, the path, the final model, limitations, how to reproduce.

Every number comes from the results (run JSONs, CSVs, report records); the interpretation of
where the reference's findings do not hold is authored in ``RESULTS/reference_notes.json``,
each note stating the facts it was written for, which the paper checks against the results.
"""
import base64
import hashlib
import html
import io
import json
import re
from pathlib import Path

import pandas as pd

from catpose_lib.data.layout import annotation_path, atomic_write_text
from catpose_lib.errors import CatposeError
from catpose_lib.recipe.experiments import BASELINE, BLOCK_NUMBERS, BLOCKS
from catpose_lib.recipe.protocols import PROTOCOLS
from catpose_lib.report.block_figures import save_block_figures
from catpose_lib.report.final_analysis import ANALYSIS_JSON, analyse_val_predictions, final_val_predictions, model_of
from catpose_lib.report.final_report import COMPLEXITY_CSV, write_path
from catpose_lib.report.paths import project_root
from catpose_lib.report.reference import (
    COMPARISON_CSV,
    reference_blocks,
    reference_comparison,
    reference_figure,
)
from catpose_lib.report.starts_report import compare_starts, shown_columns
from catpose_lib.report.verdict import RULE, finished_runs, method_sentence, seed_noise, verdict_frame
from catpose_lib.runs.results import load_block_results, study_table

REPORT_NAME = "catpose_report.html"
NOTES_JSON = "reference_notes.json"
BLIND_SCORE_JSON = "blind_test_score.json"
MAX_IMAGE_BYTES = 300_000  # larger PNGs (photographs) are embedded as JPEG
TITLE = "Which findings of a cat pose study hold on real cats, without ImageNet, at a CPU budget?"
STYLE = """body{font-family:Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}h3{margin-top:1.4em}
table{border-collapse:collapse;font-size:.82em;margin:.6em 0}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#f2f2f2}figure{margin:1em 0}figure img{max-width:100%}figcaption{font-size:.85em;color:#555}
.abstract{background:#f7f7f7;padding:.6em 1em;border-left:3px solid #888}.note{color:#8a1f11}
code{font-size:.9em}"""


# ------------------------------------------------------------------ small HTML helpers

def esc(text) -> str:
    return html.escape(str(text), quote=False)


def md(text) -> str:
    """Escape, then `code` and **bold** (the only markup the texts use)."""
    out = esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def para(text) -> str:
    return f"<p>{md(text)}</p>\n"


def f3(x, sign=False) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:+.3f}" if sign else f"{x:.3f}"


def table_html(frame, float_digits=3) -> str:
    """A DataFrame as an HTML table, floats to ``float_digits`` decimals, no index."""
    return frame.to_html(index=False, border=0, na_rep="", escape=True,
                         float_format=lambda v: f"{v:.{float_digits}f}") + "\n"


def image_html(path, caption) -> str:
    """The figure embedded as a data URI (PNG, or JPEG when the PNG is large), with its caption."""
    data = Path(path).read_bytes()
    mime = "image/png"
    if len(data) > MAX_IMAGE_BYTES:
        from PIL import Image

        buf = io.BytesIO()
        with Image.open(io.BytesIO(data)) as im:
            im.convert("RGB").save(buf, format="JPEG", quality=82, optimize=True)
        data, mime = buf.getvalue(), "image/jpeg"
    return (f'<figure><img alt="{esc(caption)}" src="data:{mime};base64,{base64.b64encode(data).decode()}">'
            f"<figcaption>{md(caption)}</figcaption></figure>\n")


def warning(text) -> str:
    """A warning paragraph (the reader should check something)."""
    return f'<p class="note">{md(text)}</p>\n'


def section(sid, heading, body, level=2) -> str:
    return f'<section id="{sid}">\n<h{level}>{esc(heading)}</h{level}>\n{body}</section>\n'


def relative(path) -> str:
    """A path as the reader's checkout names it (relative to the project), never a home folder."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(project_root()))
    except ValueError:
        return p.name


# ------------------------------------------------------------------ what the paper reads

def _json(path):
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


def read_notes(results_dir) -> dict:
    """{block: note} of ``RESULTS/reference_notes.json`` (empty when absent)."""
    notes = _json(Path(results_dir) / NOTES_JSON) or {}
    return {k: v for k, v in notes.items() if k in BLOCKS}


def note_mismatches(note: dict, facts: dict) -> list:
    """The facts a note was written for that the results no longer say: [(fact, note's, now)]."""
    return [(k, v, facts.get(k)) for k, v in (note.get("assumes") or {}).items() if facts.get(k) != v]


def blind_score(results_dir) -> dict:
    """``RESULTS/blind_test_score.json`` (the blind-test AP, scored independently), with
    ``current`` False when the predictions it scored are not today's result_keypoints_test.json."""
    score = _json(Path(results_dir) / BLIND_SCORE_JSON)
    if not score:
        return None
    preds = Path(results_dir) / score.get("predictions", "result_keypoints_test.json")
    score["current"] = preds.is_file() and hashlib.sha256(preds.read_bytes()).hexdigest() == score.get(
        "predictions_sha256")
    return score


def split_table(results_dir):
    path = Path(results_dir) / "dataset" / "splits.csv"
    return pd.read_csv(path) if path.is_file() else None


# ------------------------------------------------------------------ building

def build_paper(results_dir, figures_dir, out_dir, data_root=None, title=TITLE, reference=None) -> Path:
    """Draw the figures from ``results_dir`` into ``figures_dir`` (the block figures, the path,
    the reference comparison and, with ``data_root``, the final model's val analysis), write
    ``RESULTS/reference_comparison.csv`` and ``final_path.csv``, and render the paper into
    ``out_dir/catpose_report.html``."""
    from catpose_lib.workers.blocks import study_walk  # lazy: torch/mmengine (CLI speed)

    results_dir, figures_dir = Path(results_dir), Path(figures_dir)
    steps = study_walk(results_dir, val_file=annotation_path(data_root, "val") if data_root else None)
    if not steps[0]["results"]:
        raise CatposeError(f"report: {results_dir} has no baseline results (baseline/00_s*.json)")
    blocks = {s["block"]: s["results"] for s in steps}
    comparison = reference_comparison(results_dir, reference)
    atomic_write_text(results_dir / COMPARISON_CSV, comparison.to_csv(index=False, float_format="%.4f"))
    ref_blocks = reference_blocks(comparison, results_dir)
    ref_fig = reference_figure(comparison, figures_dir / "reference_vs_ours.png")
    path_table, _, path_fig = write_path(results_dir, figures_dir)
    block_figs = {}
    for step in steps[1:]:
        base = step["results"][0]["base"]
        base_runs = list(finished_runs(blocks.get(base.get("block"), []), base.get("no")).values())
        block_figs[step["block"]] = save_block_figures(step["results"], figures_dir, step["block"], base_runs,
                                                       base["name"])
    lite_runs = [r for r in blocks.get("backbone", []) if r["no"] in (35, 36)]
    starts = compare_starts(results_dir, figures_dir / "starts.png") if lite_runs else None
    final_record = _json(results_dir / "reports" / "07_final_report.json") or {}
    analysis = (_final_analysis(results_dir, figures_dir, data_root, final_record, blocks)
                or _json(results_dir / ANALYSIS_JSON))
    ctx = dict(results_dir=results_dir, figures_dir=figures_dir, steps=steps, blocks=blocks, comparison=comparison,
               ref_blocks=ref_blocks, notes=read_notes(results_dir), path=path_table, analysis=analysis,
               final_record=final_record, blind=blind_score(results_dir), noise=seed_noise(blocks),
               starts=starts)
    body = "".join([
        f"<h1>{esc(title)}</h1>\n",
        section("abstract", "Abstract", _abstract(ctx)),
        section("method", "Method", _method(ctx)),
        section("reference", "The reference study side by side", _reference(ctx, ref_fig)),
        *[section(f"block-{BLOCK_NUMBERS[s['block']]}-{s['block']}",
                  f"Block {BLOCK_NUMBERS[s['block']]}: {s['block']}", _block(ctx, s, block_figs[s["block"]]))
          for s in steps[1:]],
        section("path", "The path from the baseline to the final recipe", _path(ctx, path_fig)),
        section("final-model", "The final model", _final(ctx)),
        section("limitations", "Limitations", _limitations(ctx)),
        section("reproduce", "How to reproduce", _reproduce(ctx, data_root)),
    ])
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n")
    out = Path(out_dir) / REPORT_NAME
    atomic_write_text(out, page)
    return out


def _final_analysis(results_dir, figures_dir, data_root, final_record, blocks):
    """The final model's val analysis drawn afresh when the data and its val predictions are here."""
    final = final_record.get("final")
    if not data_root or not final or not annotation_path(data_root, "val").is_file():
        return None
    run = next((r for rs in blocks.values() for r in rs if (r["no"], r["seed"]) == (final["no"], final["seed"])), None)
    preds = final_val_predictions(results_dir, run, data_root) if run else None
    if preds is None:
        return None
    return analyse_val_predictions(data_root, preds, run["scheme"], figures_dir / "07_final_report", results_dir,
                                   model_of(run))


# ------------------------------------------------------------------ sections

def _final_recipe(ctx):
    last = ctx["steps"][-1]["recipe"]
    runs = finished_runs(ctx["blocks"][last["block"]], last["no"])
    return last, runs


def _protocol(ctx):
    names = {r.get("protocol") for rs in ctx["blocks"].values() for r in rs if r.get("protocol")}
    return PROTOCOLS.get(next(iter(names))) if len(names) == 1 else None


def _abstract(ctx):
    base = ctx["steps"][0]["recipe"]
    final, runs = _final_recipe(ctx)
    won = next((s for s in ctx["steps"][1:] if s["adopted"] and s["winner"]["no"] == final["no"]), None)
    v = (won or {}).get("verdict") or {}
    splits = split_table(ctx["results_dir"])
    proto = _protocol(ctx)
    carried = [s for s in ctx["steps"][1:] if s["adopted"]]
    text = ["**Question.** Which findings of the reference study of cat pose estimation (a course study: "
            "a ResNet-50 SimpleBaseline improved block by block, 32 runs) hold on real cats, without ImageNet "
            "weights, at a CPU budget?  And beyond it (block 05's runs 35-36): how far do ImageNet weights from the "
            "package registry (EfficientNet-Lite2) take it?"]
    if splits is not None:
        rows = {r.split: r for r in splits.itertuples()}
        tr, va = rows.get("train"), rows.get("val")
        data = (f"**Data.** Animal-Pose cats, 20 keypoints: {tr.images:,} train images ({tr.instances:,} cats) and "
                f"{va.images} val images ({va.instances} cats), the val split choosing every recipe")
        blind = _blind_counts(ctx["results_dir"])
        data += (f"; a blind test set of {blind[1]} images ({blind[0]} cats) whose keypoints are withheld from "
                 f"this project." if blind else ".")
        text.append(data)
    if proto:
        text.append(f"**Protocol.** `{proto.name}`: {proto.description}.  Every AP in this report is COCO OKS AP "
                    f"on ground-truth boxes (the model is given each cat's annotated box; no detector).")
    text.append(
        f"**Main result.** The baseline scores {f3(base['best_AP'])} ± {f3(base.get('best_sd'))} best val AP "
        f"({base['seeds']} seeds).  Under the adopt rule (a winner is carried on only when its lead over the base "
        f"is beyond the noise, measured on the seeds that did not pick it) {len(carried)} of "
        f"{len(ctx['steps']) - 1} blocks carried their winner on, and the final recipe is run {final['no']:02d} "
        f"({runs[min(runs)]['parameter'] if runs else ''}): {f3(final['best_AP'])} ± {f3(final.get('best_sd'))} "
        f"val AP over {final['seeds']} seeds"
        + (f", {f3(v.get('winner_unselected'))} on the seeds that did not pick it." if v.get("winner_unselected")
           else "."))
    changed = [s for s in ctx["steps"][1:] if not s["adopted"] and s["verdict"].get("base_AP") is not None
               and s["winner"]["best_AP"] > s["verdict"]["base_AP"]]
    if changed:
        text.append("Winners with a higher mean than their base that the rule did not carry on: "
                    + "; ".join(f"block {BLOCK_NUMBERS[s['block']]} run {s['winner']['no']:02d} "
                                f"({f3(s['winner']['best_AP'] - s['verdict']['base_AP'], True)} on all seeds, "
                                f"{f3(s['verdict']['difference'], True)} on the unselected ones)" for s in changed)
                    + ".")
    blind = ctx["blind"]
    if blind:
        model = blind.get("model") or {}
        text.append(f"**Blind test.** The model predicted on the blind test set (run {model.get('no', 0):02d} seed "
                    f"{model.get('seed')}) scores AP {f3(blind['AP'])} (AP50 {f3(blind.get('AP50'))}, AP75 "
                    f"{f3(blind.get('AP75'))}) there, scored independently against the withheld keypoints (this "
                    f"package cannot score it, by design), against {f3(blind.get('val_AP'))} val AP for the same "
                    f"model" + ("" if blind["current"] else "; those scores are for earlier predictions than the "
                                                            "committed result_keypoints_test.json") + ".")
        now = (ctx["final_record"] or {}).get("final") or {}
        if now.get("no") is not None and (now.get("no"), now.get("seed")) != (model.get("no"), model.get("seed")):
            text.append(f"Today's final model (run {now['no']:02d} seed {now['seed']}, val AP {f3(now.get('AP'))}) "
                        f"predicted the blind test set too (`result_keypoints_test.json`): not scored yet.")
    holds = {}
    for block, note in ctx["notes"].items():
        holds.setdefault(note.get("holds", "?"), []).append(BLOCK_NUMBERS.get(block, block))
    if holds:
        text.append("**The reference's findings here.** " + "; ".join(
            f"{k}: block{'s' if len(v) > 1 else ''} {', '.join(sorted(v))}" for k, v in sorted(holds.items())) + ".")
    return '<div class="abstract">' + "".join(para(t) for t in text) + "</div>\n"


def _blind_counts(results_dir):
    path = Path(results_dir) / "result_keypoints_test.json"
    if not path.is_file():
        return None
    preds = json.loads(path.read_text())
    return len(preds), len({p["image_id"] for p in preds})


def _method(ctx):
    out = []
    splits = split_table(ctx["results_dir"])
    out.append("<h3>Data and splits</h3>\n")
    if splits is not None:
        s = splits.copy()
        s["split"] = s["split"].replace({"test": "test_info (the val boxes)"})
        out.append(table_html(s[["split", "images", "instances", "labelled_keypoints", "labelled_per_instance"]]))
        out.append(para("The raw data has no test split, so the course layout's `test_info.json` holds the val "
                        "images' boxes: predictions on it (`result_keypoints.json`) are val predictions.  "
                        "**Test** in this report means only the blind test set, which no run saw or was chosen on."))
    out.append("<h3>Ground-truth boxes</h3>\n")
    out.append(para("The model is top-down: each cat's annotated box (enlarged by 25%) is cropped and resized, and "
                    "the network predicts one heatmap per keypoint.  Every AP is COCO OKS AP (xtcocotools' "
                    "COCOeval with the Animal-Pose sigmas, the mean over OKS thresholds 0.50-0.95) on the val "
                    "split's ground-truth boxes: detection errors are not counted, so a system with a detector "
                    "would score lower."))
    proto = _protocol(ctx)
    if proto:
        out.append("<h3>The protocol</h3>\n")
        out.append(para(f"Protocol `{proto.name}` for every run: {proto.description}.  Budget {proto.budget} of each "
                        f"run's epochs with a floor of {proto.min_epochs} (learning-rate steps and warm-up scaled "
                        f"along); the baseline is {BASELINE.parameter}, so it trains 3 epochs.  Seeds "
                        f"{', '.join(map(str, proto.seeds))} for every run, "
                        f"{', '.join(map(str, proto.confirm_seeds))} added for the baseline and each block's winner."))
    starts = _starts(ctx["results_dir"])
    if starts is not None:
        out.append("<h3>Cross-species starts</h3>\n")
        out.append(para("ImageNet weights cannot be downloaded here, so each backbone starts from its own pretraining "
                        "on other animals (dogs, sheep, horses, cows of Animal-Pose, never cats): held-out AP on "
                        "those animals and zero-shot AP on the cats' val split (ground-truth boxes):"))
        out.append(table_html(starts))
    out.append("<h3>Seeds and metric</h3>\n")
    multi = [(b, no, len(finished_runs(rs, no))) for b, rs in ctx["blocks"].items()
             for no in sorted({r["no"] for r in rs}) if len(finished_runs(rs, no)) > 1]
    out.append(para("Each run reports its best val AP over its validation epochs (one per epoch) and its last "
                    "epoch's; the study compares best AP.  Runs with several seeds: "
                    + ", ".join(f"{no:02d} ({n})" for _, no, n in multi) + "; every other run has seed 0 only."))
    out.append("<h3>The adopt rule</h3>\n")
    out.append(para(RULE))
    out.append(para(method_sentence()))
    noise = ctx["noise"]
    if noise:
        out.append(para(f"Here the pooled seed sd is {noise['sd']:.3f} (df {noise['df']}, from "
                        + ", ".join(f"run {r['no']:02d}" for r in noise["recipes"]) + ").  "
                        + ("No run kept its val predictions, so every interval below is 'seeds only': the sampling "
                           "of the val cats is not counted in it (see the limitations)."
                           if all(((s.get("verdict") or {}).get("interval") or {}).get("kind") in (None, "seeds only",
                                                                                                   "none")
                                  for s in ctx["steps"][1:]) else "")))
    return "".join(out)


def _starts(results_dir):
    rows = [{"start": r["parameter"], "epochs": (r.get("best") or {}).get("epoch"),
             "held-out AP (other animals)": (r.get("best") or {}).get("AP"),
             "zero-shot AP (cats val)": (r.get("zero_shot") or {}).get("AP")}
            for r in load_block_results(results_dir, "pretrain")]
    return pd.DataFrame(rows) if rows else None


def _reference(ctx, ref_fig):
    summary = ctx["ref_blocks"].copy()
    summary["rank_correlation"] = summary["rank_correlation"].map(lambda v: "" if v != v or v is None else f"{v:.2f}")
    out = [para("The reference study ran every setting once, on its own cat set (1,000 train / 128 val images, 17 "
                "keypoints), from ImageNet weights, at full length on a GPU; its APs differ from ours in level, so "
                "only directions are compared: each run against the run our block started from, in each study "
                "(where the reference has no AP for that run, its best run of that block stands in).  "
                f"`{COMPARISON_CSV}` holds every reference row beside ours; per block:"),
           table_html(summary.drop(columns=["number"])),
           image_html(ref_fig, "Reference best val AP (x) against ours (y: mean ± 1 sd over seeds, COCO OKS on "
                               "ground-truth boxes), one point per run; x marks runs without an AP in the reference.")]
    return "".join(out)


def _block(ctx, step, figs):
    block, v = step["block"], step["verdict"]
    results = step["results"]
    base = results[0]["base"]
    out = [para(f"{results[0]['policy']}: runs {', '.join(f'{no:02d}' for no in sorted({r['no'] for r in results}))}, "
                f"each one change to the base {base['name']}.  Best and final val AP (COCO OKS, ground-truth boxes), "
                f"epoch: mean ± sd over the finished seeds:"),
           table_html(study_table(results, v, digits=3))]
    iv = v.get("interval") or {}
    rows = verdict_frame(v)
    out += [para("**Verdict.** " + v["text"]), table_html(rows)]
    if iv.get("method"):
        out.append(para(f"Interval: {iv['method']}."))
    out.append(image_html(figs["ap_per_run"], f"Block {BLOCK_NUMBERS[block]}: best val AP per run (dots: seeds; "
                                              f"bars: ± 1 sd) against the base {base['name']} (dashed, ± 1 sd band)."))
    out.append(image_html(figs["ap_curves"], "Val AP per epoch, mean over seeds with a ± 1 sd band, the base dashed."))
    out.append(image_html(figs["loss_curves"], "Train loss per epoch, one panel per heatmap size (their losses are "
                                               "on different scales)."))
    out.append(_block_reference(ctx, block))
    if block == "backbone" and ctx.get("starts"):
        out.append(_starts_compared(ctx["starts"]))
    return "".join(out)


def _starts_compared(starts) -> str:
    """Block 05's starts (report.starts_report): runs 35 / 36 beyond the reference study."""
    t = starts["table"]
    cols = shown_columns(t)
    notes = [f"{r['start']}: {r['pretrain_note']}" for _, r in t.iterrows() if r.get("pretrain_note")]
    t = t.copy()
    for c in t:
        if c.endswith("interval"):  # numbers to 3 decimals, as everywhere in the report
            t[c] = t[c].map(lambda v: f"[{v[0]:.3f}, {v[1]:.3f}]" if isinstance(v, list) else "")
    out = [para("**The starts compared** (runs 35 and 36, beyond the reference study): each start fine-tuned at "
                "this block's recipe, three seeds where finished; zero-shot AP is the start's own on the cats' val "
                "split; hours are thread-hours of a 2-core CPU.  Differences to the study's two starts are on "
                "all seeds (no seed picked a start), with 95% intervals as the adopt rule computes them."
                + (" " + "; ".join(notes) + "." if notes else "")),
           table_html(t[cols])]
    if starts.get("figure"):
        out.append(image_html(starts["figure"], "Fine-tuned val AP (mean ± sd over seeds) against the compute of "
                                                "the start plus one fine-tuning."))
    return "".join(out)


def _block_reference(ctx, block):
    comp = ctx["comparison"]
    part = comp[comp["block"] == block]
    if part.empty:
        return ""
    rows = part.assign(
        reference=[(f3(r.reference_best_AP) if r.reference_outcome == "finished" else r.reference_outcome)
                   for r in part.itertuples()],
        ours=[(f"{f3(r.best_AP)}" + (f" ± {f3(r.best_AP_sd)}" if r.seeds > 1 else "")) if r.seeds else r.status
              for r in part.itertuples()],
        direction=[f"{r.reference_vs_base or '?'} / {r.ours_vs_base or '?'}" for r in part.itertuples()])
    out = ["<h3>The reference's result beside it</h3>\n",
           table_html(rows[["ref_no", "project_no", "parameter", "reference", "ours", "seeds", "direction",
                            "same_direction"]].rename(columns={"direction": "vs base (reference / ours)"}))]
    summary = ctx["ref_blocks"]
    facts = summary[summary["block"] == block].iloc[0].to_dict() if (summary["block"] == block).any() else {}
    note = ctx["notes"].get(block)
    if note:
        out.append(para(f"**The reference's finding:** {note.get('finding', '')}  **Here:** {note.get('holds', '?')}."))
        for key, label in (("why", "Why we think so"), ("experiment", "The experiment that would tell")):
            if note.get(key):
                out.append(para(f"**{label}:** {note[key]}"))
        stale = note_mismatches(note, facts)
        if stale:
            out.append(warning("This note was written for other results: " + "; ".join(
                f"{k} was {v}, is now {now}" for k, v, now in stale) + ".  Check it."))
    return "".join(out)


def _path(ctx, path_fig):
    t = ctx["path"].copy()
    t["interval"] = [("" if lo != lo or lo is None else f"[{lo:+.3f}, {hi:+.3f}] ({kind})")
                     for lo, hi, kind in zip(t["low"], t["high"], t["interval"])]
    cols = ["step", "run", "parameter", "mAP", "sd", "seeds", "winner", "winner_mAP", "winner_unselected",
            "base_unselected", "interval", "adopted"]
    t = t[cols].rename(columns={"mAP": "best val AP (mean)", "winner_mAP": "winner (all seeds)",
                                "winner_unselected": "winner (unselected)", "base_unselected": "base (same seeds)",
                                "adopted": "carried on"})
    return (para("The recipe each block hands on (its mean best val AP over its seeds, ground-truth boxes), with "
                 "the block's own winner and the interval that decided it:")
            + table_html(t) + image_html(path_fig, "The recipe carried on after each block (± 1 sd over seeds); "
                                                   "x: a winner the rule did not carry on."))


def _final(ctx):
    final, runs = _final_recipe(ctx)
    a, rec = ctx["analysis"], ctx["final_record"]
    out = [para(f"The adopt rule's final recipe is run {final['no']:02d}: best val AP {f3(final['best_AP'])} ± "
                f"{f3(final.get('best_sd'))} over {final['seeds']} seeds (ground-truth boxes).")]
    model = (a or {}).get("model") or rec.get("final")
    if model:
        out.append(para(f"The model analysed here and predicted on the blind test set is run {model['no']:02d} seed "
                        f"{model['seed']} (its recorded best val AP {f3(model.get('AP'))}), the one notebook 07 "
                        f"kept."))
        if model["no"] != final["no"]:
            out.append(warning(
                f"It is not from the rule's final recipe (run {final['no']:02d}): notebook 07 chose it under the "
                f"study's earlier rule (the highest mean), and the runs' checkpoints were not kept.  Re-running "
                f"notebook 07 with run {final['no']:02d}'s checkpoint (or retraining it) predicts the val and blind "
                f"boxes again; until then the analysis below is run {model['no']:02d}'s."))
    if a:
        sw = a["swap"]
        out.append(para(f"Its saved val predictions (`{a['predictions']}`, {a['cats']} cats in {a['images']} images) "
                        f"score AP {f3(a['AP'])} when scored here with COCOeval (95% bootstrap interval over the val "
                        f"images [{f3(a['AP_low'])}, {f3(a['AP_high'])}], sd {f3(a['AP_sd'])}); median per-cat OKS "
                        f"{f3(a['oks_median'])}.  A left / right keypoint is predicted closer to its mirrored "
                        f"keypoint's true position than to its own in {f3(sw['rate'])} of {sw['eligible']} cases "
                        f"(95% interval [{f3(sw['low'])}, {f3(sw['high'])}]); per pair:"))
        pairs = pd.DataFrame(sw["pairs"])
        out.append(table_html(pairs))
        figs = a["figures"]
        out.append(image_html(_fig(figs["overlays"]), "Val cats: ground truth against the predictions; colours: "
                                                      "the cat's left, right and centre keypoints (the key below)."))
        out.append(image_html(_fig(figs["failures"]), "The val cats with the lowest OKS, each panel the same square "
                                                      "extent around the cat; every predicted keypoint drawn."))
        per = pd.DataFrame(a["per_keypoint"])
        out.append(para(f"Per keypoint, PCK@{a['pck_threshold']:g} (a prediction within {a['pck_threshold']:g} x "
                        f"the box size of the truth) with its 95% Wilson interval over the labelled cats:"))
        out.append(table_html(per))
        out.append(image_html(_fig(figs["per_keypoint_pck"]), "Per-keypoint PCK with 95% intervals, val."))
    blind = ctx["blind"]
    if blind:
        out.append(para(f"**Blind test.** AP {f3(blind['AP'])}, AP50 {f3(blind.get('AP50'))}, AP75 "
                        f"{f3(blind.get('AP75'))}, AR {f3(blind.get('AR'))} on {blind.get('boxes')} boxes of "
                        f"{blind.get('images')} images, scored independently against the withheld keypoints "
                        f"(`{blind.get('predictions')}`; this package cannot score the blind set, by design)."))
    complexity = Path(ctx["results_dir"]) / COMPLEXITY_CSV
    if complexity.is_file():
        out.append(para("Complexity and CPU inference speed (one thread, the val boxes, image loading included):"))
        out.append(table_html(pd.read_csv(complexity)))
    return "".join(out)


def _fig(path):
    p = Path(path)
    return p if p.is_absolute() else project_root() / p


def _limitations(ctx):
    items = []
    steps = [s for s in ctx["steps"][1:] if s.get("verdict") and s["verdict"].get("interval", {}).get("low")
             is not None]
    adopted = [s for s in steps if s["adopted"]]
    if adopted:
        close = min(adopted, key=lambda s: s["verdict"]["interval"]["low"])
        items.append(f"The closest carried-on verdict is block {BLOCK_NUMBERS[close['block']]}'s: its interval's "
                     f"lower bound is {f3(close['verdict']['interval']['low'], True)}.  A slightly larger noise "
                     f"estimate (e.g. the two runs' own seed sds instead of the pooled one) would keep its base, and "
                     f"every later block started from its winner.")
    kinds = {s["verdict"]["interval"]["kind"] for s in steps}
    if kinds == {"seeds only"}:
        sd = (ctx["analysis"] or {}).get("AP_sd")
        items.append("No run of the committed study kept its val predictions, so the intervals count the seeds, not "
                     "the sampling of the val cats"
                     + (f": for scale, one model's AP varies with an sd of {f3(sd)} over bootstrap resamples of the val "
                        f"images; the paired difference of two similar models varies less, as their errors on a "
                        f"cat are correlated, and runs trained from now on keep their predictions for it."
                        if sd else "."))
    items.append("Every run other than the baseline and the winners has one seed; rankings among them (e.g. batch "
                 "sizes) are within a few seed sds of each other.")
    items.append("Under the protocol each run trains 3-6 epochs: the blocks measure which change helps a short "
                 "fine-tune from a cross-species start, not the reference's full-length training from ImageNet.")
    a = ctx["analysis"]
    if a and a.get("model", {}).get("AP") is not None and abs(a["AP"] - a["model"]["AP"]) > 0.002:
        items.append(f"The final model's saved val predictions score {f3(a['AP'])} here against the "
                     f"{f3(a['model']['AP'])} its run recorded during training: they were predicted afterwards "
                     f"(MMPose's inference_topdown on the val boxes), not kept from the run's own validation; the "
                     f"difference was not investigated.")
    items.append("Best-epoch selection and the choice of each block's winner both use the val split; only the blind "
                 "test score is free of that selection.")
    return "<ul>" + "".join(f"<li>{md(i)}</li>" for i in items) + "</ul>\n"


def _reproduce(ctx, data_root):
    res, fig = relative(ctx["results_dir"]), relative(ctx["figures_dir"])
    cmds = [
        "make setup",
        "python -m catpose_lib import-animalpose ...   # the cats in the course layout (see README)",
        f"papermill notebooks/01_augmentation.ipynb {res}/notebooks/01_augmentation.ipynb -p protocol cpu "
        f"-p data_root DATA -p results_dir {res} -p figures_dir {fig}   # and 02-06, then 07",
        f"papermill notebooks/03_lr_batch.ipynb OUT.ipynb -p train False -p results_dir {res} "
        f"-p figures_dir {fig}   # render a finished block again, training nothing",
        f"python -m catpose_lib table reference --results {res}",
        f"python -m catpose_lib report --results {res} --figures {fig} --data-root DATA --out results/report",
    ]
    return (para("Every number and figure here is read from the results folder; the report rebuilds from it "
                 "(the val annotations are needed only to redraw the final model's figures):")
            + "<pre>" + esc("\n".join(cmds)) + "</pre>\n")
