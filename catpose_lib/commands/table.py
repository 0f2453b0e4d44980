"""``table BLOCK``: print the reference study's table of a block."""

from catpose_lib.console import say

HELP = ("print a block's table: No., Policy, Parameter, Final mAP (epoch: mAP), Best mAP (epoch: mAP); "
        "'study' prints every block's, one after the other; 'path' the recipe carried on after each block; "
        "'complexity' the final report's model complexity and runtime")


def add_arguments(p):
    p.add_argument("block", help="a block, 'study' for the baseline and every block with results, or 'path' "
                                 "for the path from the baseline through the blocks done so far, 'complexity' for notebook 07's "
                                 "final_complexity.csv")
    p.add_argument("--results", required=True)
    p.add_argument("--markdown", action="store_true", help="print as a markdown table")
    p.add_argument("--compute", action="store_true",
                   help="print the compute instead: runs, epochs and hours per block, and the total")
    p.add_argument("--figure", default=None, metavar="PNG", help="with 'path': also draw it (notebook 07's figure)")


def run(args):
    from catpose_lib.runs.results import load_block_results, study_table
    from catpose_lib.errors import CatposeError

    if args.compute:
        table = compute_table(args.results, None if args.block == "study" else args.block)
    elif args.block == "study":
        table = whole_study_table(args.results)
    elif args.block == "path":
        table = path_table(args.results, args.figure)
    elif args.block == "complexity":
        table = complexity_table(args.results)
    else:
        results = load_block_results(args.results, args.block)
        if not results:
            raise CatposeError(f"no results for block {args.block} in {args.results}")
        table = study_table(results)
    fmt = dict(floatfmt=".4f") if args.block == "path" else {}  # its mAPs, as the study table prints them
    say(table.to_markdown(index=False, **fmt) if args.markdown else table.to_string(index=False))
    return 0


def _per_block(results_dir, frame_of, blocks=None):
    """``frame_of(results)`` of the baseline and every block with results (or of ``blocks``),
    in study order, one frame with a Block column first."""
    import pandas as pd

    from catpose_lib.recipe.experiments import BLOCKS
    from catpose_lib.runs.results import load_block_results
    from catpose_lib.errors import CatposeError

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
    from catpose_lib.errors import CatposeError
    from catpose_lib.report.final_report import path_figure, study_path

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

    from catpose_lib.errors import CatposeError
    from catpose_lib.report.final_report import COMPLEXITY_CSV

    path = Path(results_dir) / COMPLEXITY_CSV
    if not path.is_file():
        raise CatposeError(f"{path} does not exist: run notebooks/07_final_report.ipynb with results_dir {results_dir}")
    return pd.read_csv(path)


def whole_study_table(results_dir):
    """The baseline and every block with results, in study order, one table with a Block column."""
    from catpose_lib.runs.results import study_table

    return _per_block(results_dir, study_table).fillna("")


def compute_table(results_dir, block=None):
    """Runs, epochs trained and hours of each block (or of one), with a total row."""
    from catpose_lib.runs.results import compute_frame, with_hours

    table = _per_block(results_dir, compute_frame, [block] if block else None)
    table.loc[len(table)] = dict(Block="total", **table[["runs", "epochs", "seconds"]].sum())
    return with_hours(table)[["Block", "runs", "epochs", "hours", "s_per_epoch"]]
