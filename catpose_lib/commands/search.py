"""``search``: Optuna search over the study's knobs (TPE, per-epoch pruning), trials as runs."""
from catpose_lib.console import say
from catpose_lib.commands.options import add_scheme, add_shared_knobs, add_speed, hide_gpu_for_cpu, speed_options

HELP = "Optuna search over the study's knobs (TPE, pruning per epoch); each trial a run in RESULTS/search/<study>/"


def add_arguments(p):
    p.add_argument("--data", required=True, help="dataset root (course layout)")
    p.add_argument("--results", required=True, help="results folder (trials land in RESULTS/search/<study>/)")
    p.add_argument("--study", default="search", help="study name (default: %(default)s)")
    p.add_argument("--space", default="", metavar="JSON_OR_FILE",
                   help='search space, knob -> spec, e.g. \'{"lr": ["log", 1e-5, 1e-2], "batch_size": '
                        '["int", 16, 64, 8], "optimizer": ["cat", ["Adam", "AdamW"]]}\' (default: docs/search.md\'s)')
    p.add_argument("--trials", type=int, default=20,
                   help="trials the study holds when done, all workers together (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--max-epochs-total", type=int, default=None,
                   help="stop before the trials' training epochs could pass this (compute budget)")
    p.add_argument("--pruner", default="median", choices=("median", "hyperband", "none"))
    p.add_argument("--budget", default=None, help="full | smoke | fraction of each trial's epochs (e.g. 0.1); default full")
    p.add_argument("--seed", type=int, default=0, help="training seed of every trial")
    p.add_argument("--sampler-seed", type=int, default=None,
                   help="TPE's seed (one per worker; default: random)")
    p.add_argument("--startup-trials", type=int, default=10, help="random trials before TPE (default: %(default)s)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="Optuna storage shared by the workers, e.g. postgresql://user:pw@host/db "
                        "(default: sqlite:///RESULTS/search/<study>.db)")
    add_scheme(p)
    add_shared_knobs(p, "every trial, not searched")
    add_speed(p)
    p.add_argument("--start", "--init", dest="start", default=None, metavar="PATH",
                   help="whole-model start checkpoint of every trial (mmengine's load_from)")
    p.add_argument("--quiet", action="store_true")


def run(args):
    hide_gpu_for_cpu(args)
    from catpose_lib.report.search_report import trials_table  # lazy: torch/mmengine (CLI speed)
    from catpose_lib.workers.search import run_search  # lazy: torch/mmengine (CLI speed)

    done = run_search(args.data, args.results, study=args.study, space=args.space, n_trials=args.trials,
                      pruner=args.pruner, budget=args.budget, seed=args.seed, sampler_seed=args.sampler_seed,
                      storage=args.storage, timeout=args.timeout, max_total_epochs=args.max_epochs_total,
                      n_startup_trials=args.startup_trials, device=args.device, scheme=args.scheme,
                      shared_knobs=args.shared_knobs, verbose=not args.quiet, start=args.start,
                      **speed_options(args))
    study = done["study"]
    say(trials_table(study).to_string(index=False))
    if not any(t.state.name == "COMPLETE" for t in study.trials):
        say(f"study '{args.study}' ({done['storage']}): no finished trial yet")
        return 1
    best = study.best_trial
    say(f"best: trial {best.number}, AP {best.value:.4f}, {best.params} "
        f"(study '{args.study}', {done['storage']}, {done['trained_epochs']} training epochs)")
    return 0
