"""``migrate RESULTS``: bring results written by an older catpose to today's format, checked."""
from catpose_lib.runs.migrate import migrate_results
from catpose_lib.console import say

HELP = "re-key and rename the results of an older catpose in place (checked; nothing is retrained)"


def add_arguments(p):
    p.add_argument("results", help="results folder (BLOCK/NN_sS.json + NN_sS.py)")


def run(args):
    done = migrate_results(args.results)
    for d in done:
        if d["status"] != "current":
            say(f"{d['path']}: {d['status']}" + (f" {d['key_before']} -> {d['key']}" if "key_before" in d else ""))
    failed = [d for d in done if d["status"] not in ("migrated", "current")]
    say(f"{len(done)} runs: {sum(d['status'] == 'migrated' for d in done)} migrated, "
        f"{sum(d['status'] == 'current' for d in done)} already current, {len(failed)} left as they were")
    return 1 if failed else 0
