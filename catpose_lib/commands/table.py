"""``table WHAT``: print a table of a results folder (a block, the study, its compute, its path,
the verdicts, the reference study beside it, the final model's complexity) or of the knobs."""
from catpose_lib.errors import CatposeError
from catpose_lib.recipe.experiments import BLOCKS
from catpose_lib.recipe.knobs import KNOBS
from catpose_lib.runs.results import (
    compute_frame,
    load_block_results,
    study_table,
    with_hours,
)
from catpose_lib.console import say

HELP = "print a table of the results or of the knobs (markdown with --markdown): see `table --help`"
TABLES = {
    "block": "one block's runs: No., Policy, Parameter, Final / Best mAP (epoch: mAP), seeds",
    "study": "the baseline and every block with results, one after the other",
    "compute": "runs, epochs and hours per block (or of one block), with the total",
    "path": "the recipe carried on after each block (--figure draws it)",
    "verdicts": "each block's winner and base on the unselected seeds, the interval, carried on or not",
    "reference": "every run of the reference study beside ours (--figure draws it)",
    "reference-blocks": "per block: the reference's winner and ours, rank correlation, same direction",
    "complexity": "the final model's and the baseline's complexity and runtime (notebook 07)",
    "starts": "the starts compared at block 05's recipe: val AP over seeds, compute, intervals (--figure draws it)",
    "knobs": "every knob a run, a block or --set can set, and what it does",
}


def add_arguments(p):
    p.add_argument("what", choices=tuple(TABLES), help="; ".join(f"{k}: {v}" for k, v in TABLES.items()))
    p.add_argument("block", nargs="?", default=None, help="the block, for 'block' (and optionally 'compute')")
    p.add_argument("--results", help="results folder (all tables but 'knobs')")
    p.add_argument("--markdown", action="store_true", help="print as a markdown table")
    p.add_argument("--figure", default=None, metavar="PNG",
                   help="with 'path', 'reference' or 'starts': also draw it (the report's figure)")


def run(args):
    if args.what != "knobs" and not args.results:
        raise CatposeError(f"table {args.what} needs --results (a results folder)")
    if args.what == "block":
        if not args.block:
            raise CatposeError("table block needs the block, e.g. `table block 03 --results results/real_cats`")
        results = load_block_results(args.results, args.block)
        if not results:
            raise CatposeError(f"no results for block {args.block} in {args.results}")
        table = study_table(results, _verdicts(args.results).get(results[0]["block"]))
    elif args.what == "compute":
        table = compute_table(args.results, args.block)
    elif args.what == "study":
        table = whole_study_table(args.results)
    elif args.what == "path":
        table = path_table(args.results, args.figure)
    elif args.what == "verdicts":
        table = verdicts_table(args.results)
    elif args.what == "reference":
        table = reference_table(args.results, args.figure)
    elif args.what == "reference-blocks":
        table = reference_blocks_table(args.results)
    elif args.what == "complexity":
        table = complexity_table(args.results)
    elif args.what == "starts":
        table = starts_table(args.results, args.figure)
    else:
        table = knobs_table()
    fmt = dict(floatfmt=".4f") if args.what in ("path", "verdicts", "reference", "starts") else {}  # APs as the study table
    say(table.to_markdown(index=False, **fmt) if args.markdown else table.to_string(index=False))
    return 0


def starts_table(results_dir, figure=None):
    """report.starts_report's table (printed; the report writes RESULTS/starts.json), the figure where asked."""
    from catpose_lib.report import starts_report  # lazy: scipy (CLI speed)

    table = starts_report.starts_table(results_dir)
    if figure:
        starts_report.starts_figure(table, figure)
    return table[starts_report.shown_columns(table)]


def knobs_table():
    """recipe.knobs.KNOBS as a table: the one source of docs/knobs.md's table."""
    import pandas as pd

    return pd.DataFrame([dict(knob=f"`{k}`", what=v) for k, v in KNOBS.items()])


def _per_block(results_dir, frame_of, blocks=None):
    """``frame_of(results)`` of the baseline and every block with results (or of ``blocks``),
    in study order, one frame with a Block column first."""
    import pandas as pd

    parts = []
    for block in blocks or ("baseline", *BLOCKS):
        results = load_block_results(results_dir, block)
        if results:
            parts.append(frame_of(results).assign(Block=block))
    if not parts:
        raise CatposeError(f"no block results in {results_dir}")
    table = pd.concat(parts, ignore_index=True)
    return table[["Block"] + [c for c in table.columns if c != "Block"]]


def path_table(results_dir, figure=None):
    """The study's path so far (report.final_report.study_path); ``figure``:
    drawn as notebook 07 draws it, so the README can show the path before the study ends."""
    from catpose_lib.report.final_report import (  # lazy: torch/mmengine (CLI speed)
        path_figure,
        study_path,
    )

    table, _ = study_path(results_dir)
    if table.empty:
        raise CatposeError(f"no study path in {results_dir}: the baseline has no finished run")
    if figure:
        path_figure(table, figure)
    return table.assign(**{"block winner": [f"{w}: {ap:.4f}" for w, ap in zip(table["winner"], table["winner_mAP"])]})[
        ["step", "run", "parameter", "mAP", "seeds", "block winner", "adopted", "vs baseline"]].rename(
        columns={"mAP": "best mAP (mean over seeds)"})


def complexity_table(results_dir):
    """Notebook 07's model complexity and runtime (baseline vs final), as it wrote them."""
    from pathlib import Path

    import pandas as pd

    from catpose_lib.report.final_report import COMPLEXITY_CSV  # lazy: torch/mmengine (CLI speed)

    path = Path(results_dir) / COMPLEXITY_CSV
    if not path.is_file():
        raise CatposeError(f"{path} does not exist: run notebooks/07_final_report.ipynb with results_dir {results_dir}")
    return pd.read_csv(path)


def _verdicts(results_dir) -> dict:
    """{block: its verdict under the adopt rule} (workers.blocks.study_walk)."""
    from catpose_lib.workers.blocks import study_walk  # lazy: torch/mmengine (CLI speed)

    return {s["block"]: s["verdict"] for s in study_walk(results_dir) if s.get("verdict")}


def whole_study_table(results_dir):
    """The baseline and every block with results, in study order, one table with a Block column;
    each block's winner marked with the adopt rule's verdict."""
    verdicts = _verdicts(results_dir)
    return _per_block(results_dir, lambda results: study_table(results, verdicts.get(results[0]["block"]))).fillna("")


def verdicts_table(results_dir):
    """Per block: the winner, the seeds that picked it, the winner and the base on the other
    seeds, the difference, its 95% interval and kind, and whether the rule carried it on."""
    import pandas as pd

    rows = []
    for block, v in _verdicts(results_dir).items():
        iv = v.get("interval") or {}
        rows.append({"block": block, "winner": v.get("winner"), "picked on": ", ".join(map(str, v.get("picked_on") or [])),
                     "winner (all seeds)": v.get("mean_AP"), "winner (unselected)": v.get("winner_unselected"),
                     "base": v.get("base"), "base (same seeds)": v.get("base_unselected"),
                     "difference": v.get("difference"), "low": iv.get("low"), "high": iv.get("high"),
                     "interval": iv.get("kind"), "carried on": v.get("adopted")})
    if not rows:
        raise CatposeError(f"no block verdicts in {results_dir}: no block has a finished run")
    return pd.DataFrame(rows)


def reference_table(results_dir, figure=None):
    """report.reference.reference_comparison (as ``RESULTS/reference_comparison.csv`` holds it)."""
    from catpose_lib.report.reference import reference_comparison, reference_figure  # lazy (CLI speed)

    table = reference_comparison(results_dir)
    if figure:
        reference_figure(table, figure)
    return _blank_missing(table)


def reference_blocks_table(results_dir):
    from catpose_lib.report.reference import reference_blocks, reference_comparison  # lazy (CLI speed)

    return _blank_missing(reference_blocks(reference_comparison(results_dir), results_dir))


def _blank_missing(table):
    """Missing values printed blank; a nullable integer column (run numbers) takes '' as object."""
    ints = [c for c in table.columns if str(table[c].dtype) == "Int64"]
    return table.astype({c: object for c in ints}).fillna("")


def compute_table(results_dir, block=None):
    """Runs, epochs trained and hours of each block (or of one), with a total row."""
    table = _per_block(results_dir, compute_frame, [block] if block else None)
    table.loc[len(table)] = dict(Block="total", **table[["runs", "epochs", "seconds"]].sum())
    return with_hours(table)[["Block", "runs", "epochs", "hours", "s_per_epoch"]]
