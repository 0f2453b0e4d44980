"""``table BLOCK``: print the reference study's table of a block."""

HELP = "print a block's table: No., Policy, Parameter, Final mAP (epoch: mAP), Best mAP (epoch: mAP)"


def add_arguments(p):
    p.add_argument("block")
    p.add_argument("--results", required=True)
    p.add_argument("--markdown", action="store_true", help="print as a markdown table")


def run(args):
    from catpose_lib.engine.results import load_block_results, study_table
    from catpose_lib.errors import CatposeError

    results = load_block_results(args.results, args.block)
    if not results:
        raise CatposeError(f"no results for block {args.block} in {args.results}")
    table = study_table(results)
    print(table.to_markdown(index=False) if args.markdown else table.to_string(index=False))
    return 0
