"""Does an Optuna search find a better recipe than the grid for the same compute?  The grid is
block 03 (learning rate x batch size: the study's 12 runs); the search is `search` (TPE, median
pruning) over the study's knobs (the default space without the resolution, which the protocol
fixes).  Same compute = the same number of training epochs in total: the search stops before
its trials' epochs could pass the grid's (every run is the same model at the same resolution,
so an epoch costs about the same in both; both wall times are reported beside).

  python benchmarks/search_vs_grid.py            # synthetic cats (200 train, 48 val, 160 px),
                                                 # ResNet-18 at 64 px from scratch, budget 0.08
  python benchmarks/search_vs_grid.py --quick    # tiny data, 2 grid runs, smoke budget: a check

Both start from the baseline, with the same protocol knobs, budget and seed, in one results
folder (RESULTS/lr_batch/ and RESULTS/search/vs_grid/); runs and trials already there are
skipped (the script resumes).  Writes the numbers to --json
(results/benchmarks/search_vs_grid.json) and the best AP against the epochs spent to --figure
(figures/benchmarks/search_vs_grid.png).
"""
import json
import sys
from pathlib import Path

from common import base_parser, emit
from mmengine.config import DictAction

REPO = Path(__file__).resolve().parents[1]

BENCH_DATA = dict(n_train=200, n_val=48, n_test=48, size=160)   # block 03's first demo setting
BENCH_MODEL = dict(resnet_depth=18, input_size=64, heatmap_size=16)
QUICK_DATA = dict(n_train=16, n_val=8, n_test=4, size=96)
QUICK_GRID = [9, 15]


def epochs_of(result) -> int:
    return max((h["epoch"] for h in result.get("history") or []), default=0)


def best_so_far(aps, epochs):
    """(cumulative epochs, best AP so far) after each run, in the order they ran."""
    points, spent, best = [], 0, 0.0
    for ap, e in zip(aps, epochs):
        spent, best = spent + e, max(best, ap or 0.0)
        points.append((spent, best))
    return points


def run_grid(args, root, fixed):
    from catpose_lib.workers.blocks import run_block

    runs = run_block("lr_batch", root, args.results, experiments=QUICK_GRID if args.quick else None,
                     budget=args.budget, seeds=[args.seed], device=args.device, base="baseline", shared_knobs=fixed,
                     num_workers=args.workers, verbose=not args.quiet, start=args.init)
    rows = [dict(no=r["no"], parameter=r["parameter"], status=r["status"], epochs=epochs_of(r),
                 best_AP=(r.get("best") or {}).get("AP"), wall_seconds=r.get("wall_seconds")) for r in runs]
    done = [r for r in rows if r["best_AP"] is not None]
    top = max(done, key=lambda r: r["best_AP"]) if done else None
    return dict(runs=rows, best_AP=top and top["best_AP"], best_run=top and top["no"],
                epochs=sum(r["epochs"] for r in rows), wall_seconds=round(sum(r["wall_seconds"] or 0 for r in rows), 1),
                curve=best_so_far([r["best_AP"] for r in rows], [r["epochs"] for r in rows]))


def run_search_arm(args, root, fixed, epochs):
    from catpose_lib.runs.results import read_result
    from catpose_lib.workers.search import run_search
    from catpose_lib.workers.search_space import DEFAULT_SPACE

    space = {k: v for k, v in DEFAULT_SPACE.items()
             if k not in fixed and not (k == "input_size" and "heatmap_size" in fixed)}
    done = run_search(root, args.results, study="vs_grid", space=space, n_trials=None,
                      max_total_epochs=epochs, pruner=args.pruner, budget=args.budget, seed=args.seed,
                      sampler_seed=args.sampler_seed, n_startup_trials=args.startup_trials, device=args.device,
                      shared_knobs=fixed, num_workers=args.workers, verbose=not args.quiet, start=args.init)
    study = done["study"]
    trials = []
    for t in study.trials:
        run = read_result(t.user_attrs["result"]) if t.user_attrs.get("result") else {}
        trials.append(dict(number=t.number, state=t.state.name, value=t.value if t.state.name == "COMPLETE" else None,
                           params=t.params, epochs=t.user_attrs.get("epochs_trained", 0),
                           wall_seconds=(run or {}).get("wall_seconds")))
    complete = [t for t in trials if t["value"] is not None]
    top = max(complete, key=lambda t: t["value"]) if complete else None
    return dict(space=space, trials=trials, best_AP=top and top["value"], best_trial=top and top["number"],
                best_params=top and top["params"], n_trials=len(trials),
                pruned=sum(t["state"] == "PRUNED" for t in trials), epochs=done["trained_epochs"],
                wall_seconds=round(sum(t["wall_seconds"] or 0 for t in trials), 1), storage=done["storage"],
                curve=best_so_far([t["value"] for t in trials], [t["epochs"] for t in trials]))


def figure(grid, search, path, title):
    from catpose_lib.report.drawing import figure as new_figure, save

    fig = new_figure(6.5, 4)
    ax = fig.subplots()
    for name, arm in (("grid: block 03, 12 runs" if len(grid["runs"]) == 12 else "grid: block 03", grid),
                      (f"search: {search['n_trials']} trials, {search['pruned']} pruned", search)):
        xs, ys = zip(*([(0, 0.0)] + arm["curve"]))
        ax.step(xs, ys, where="post", marker="o", ms=3, label=f"{name} (best {arm['best_AP'] or 0:.4f})")
    ax.set_xlabel("training epochs spent (all runs / trials)")
    ax.set_ylabel("best COCO OKS AP so far (val)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return save(fig, path, dpi=120)


def main(argv=None):
    p = base_parser(__doc__.splitlines()[0])
    p.add_argument("--results", default=None, help="runs and trials (default: ~/.cache/catpose/bench/search_vs_grid)")
    p.add_argument("--budget", default="0.08", help="fraction of the reference study's epochs (default: %(default)s, "
                                                     "12 of 150)")
    p.add_argument("--set", nargs="+", action=DictAction, default=None, metavar="KNOB=VALUE",
                   help="protocol knobs of every run and trial, as `run --set` (default: "
                        "resnet_depth=18 input_size=64 heatmap_size=16)")
    p.add_argument("--pruner", default="median", choices=("median", "hyperband", "none"))
    p.add_argument("--seed", type=int, default=0, help="training seed of every run and trial")
    p.add_argument("--sampler-seed", type=int, default=0, help="TPE's seed")
    p.add_argument("--startup-trials", type=int, default=5, help="random trials before TPE")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--figure", default=None)
    p.add_argument("--init", default=None, help="start checkpoint of every run and trial (e.g. the demo start: "
                                                 "`python scripts/demo.py start-unpack`)")
    p.add_argument("--synthetic", type=json.loads, default=None, metavar="JSON",
                   help=f"synthetic data parameters (default {json.dumps(BENCH_DATA)}), e.g. the demo's "
                        "with \"difficulty\": \"easy\"")
    p.add_argument("--quick", action="store_true",
                   help="tiny data, grid runs 9 and 15, smoke budget: checks the script")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    from catpose_lib.data.default_data import CACHE, resolve_data_root

    fixed = dict(BENCH_MODEL if args.set is None else args.set)
    if args.quick:
        args.budget = "smoke"
    out = CACHE / "bench" / ("search_vs_grid_quick" if args.quick else "search_vs_grid")
    args.results = args.results or str(out)
    json_path = args.json or (out / "search_vs_grid.json" if args.quick else
                              REPO / "results" / "benchmarks" / "search_vs_grid.json")
    figure_path = args.figure or (out / "search_vs_grid.png" if args.quick else
                                  REPO / "figures" / "benchmarks" / "search_vs_grid.png")
    root = resolve_data_root(args.data, **(QUICK_DATA if args.quick else args.synthetic or BENCH_DATA))

    grid = run_grid(args, root, fixed)
    search = run_search_arm(args, root, fixed, grid["epochs"])
    numbers = dict(
        data_root=str(root), budget=args.budget, shared_knobs=fixed, seed=args.seed, pruner=args.pruner,
        start=args.init, synthetic=None if args.data else (QUICK_DATA if args.quick else args.synthetic or BENCH_DATA),
        quick=args.quick, compute="training epochs in total (the search stops before passing the grid's)",
        grid=grid, search=search, device=args.device,
        search_minus_grid_AP=(search["best_AP"] or 0.0) - (grid["best_AP"] or 0.0))
    emit(numbers, json_path)
    title = (f"Search vs grid, same training epochs ({grid['epochs']} grid, {search['epochs']} search), "
             f"budget {args.budget}\n{', '.join(f'{k}={v}' for k, v in fixed.items())}")
    figure(grid, search, figure_path, title)
    print(f"grid   best AP {grid['best_AP']} (run {grid['best_run']}), {len(grid['runs'])} runs, "
          f"{grid['epochs']} epochs, {grid['wall_seconds']} s")
    print(f"search best AP {search['best_AP']} (trial {search['best_trial']}: {search['best_params']}), "
          f"{search['n_trials']} trials ({search['pruned']} pruned), {search['epochs']} epochs, "
          f"{search['wall_seconds']} s")
    print(f"-> {json_path}\n-> {figure_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
