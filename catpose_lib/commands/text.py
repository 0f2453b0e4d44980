"""``text WHAT``: print a paragraph generated from the code or the results, as markdown: the
adopt rule (the one wording, report.verdict) or each block's verdict.  scripts/readme_tables.py
keeps such paragraphs in README.md and docs/*.md current (``<!-- text: ARGS -->`` blocks)."""
from catpose_lib.errors import CatposeError
from catpose_lib.console import say

HELP = "print a generated paragraph (the adopt rule, the verdicts) as markdown: see `text --help`"
TEXTS = {
    "rule": "the adopt rule that decides each block's base, and the interval's method",
    "verdicts": "each block's verdict under the rule (needs --results)",
}


def add_arguments(p):
    p.add_argument("what", choices=tuple(TEXTS), help="; ".join(f"{k}: {v}" for k, v in TEXTS.items()))
    p.add_argument("--results", help="results folder (for 'verdicts')")


def run(args):
    from catpose_lib.report.verdict import RULE, method_sentence  # lazy: numpy (CLI speed)

    if args.what == "rule":
        say(f"{RULE}\n\n{method_sentence()}")
        return 0
    if not args.results:
        raise CatposeError("text verdicts needs --results (a results folder)")
    from catpose_lib.recipe.experiments import BLOCK_NUMBERS  # lazy, as the next (CLI speed)
    from catpose_lib.workers.blocks import study_walk  # lazy: torch/mmengine (CLI speed)

    steps = [s for s in study_walk(args.results) if s.get("verdict")]
    if not steps:
        raise CatposeError(f"no block verdicts in {args.results}: no block has a finished run")
    for s in steps:
        say(f"- **{BLOCK_NUMBERS[s['block']]} {s['block']}:** {s['verdict']['text']}")
    return 0
