"""``config N``: print run N's resolved MMPose config without training (like MMPose's
tools/misc/print_config.py), in the portable form its results folder keeps, or (``--diff``)
as a diff against its base's config: what the run changes."""
import difflib

from catpose_lib.commands.options import add_settings, add_shared_knobs, add_speed, hide_gpu_for_cpu
from catpose_lib.data.default_data import resolve_data_root
from catpose_lib.recipe.config import portable
from catpose_lib.recipe.experiments import Experiment, get_experiment
from catpose_lib.recipe.params import BASES, check_run_parameters
from catpose_lib.console import say

HELP = "print the resolved MMPose config of run N (0 = baseline) without training; --diff: against its base"


def add_arguments(p):
    p.add_argument("no", type=int, help="run number (0 = baseline, 1-36 = the study's runs)")
    p.add_argument("--data", default="", help="dataset root (default: the synthetic cats)")
    p.add_argument("--results", default="results", help="results folder (read for --base best)")
    p.add_argument("--base", default="baseline", choices=BASES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--diff", action="store_true", help="print a unified diff against the base's config instead")
    add_settings(p, seeds=False)
    add_shared_knobs(p, "the run")
    add_speed(p, device_default="cpu")


def run(args):
    hide_gpu_for_cpu(args)
    from catpose_lib.runs.run import RunRequest, config_header, resolve_run  # lazy: torch/mmengine (CLI speed)
    from catpose_lib.workers.blocks import resolve_base  # lazy: torch/mmengine (CLI speed)

    p = check_run_parameters(budget=args.budget, device=args.device, precision=args.precision,
                             shared_knobs=args.shared_knobs, data_root=args.data or None, protocol=args.protocol,
                             start=args.start)
    exp = get_experiment(args.no)
    base = resolve_base(exp.block, "baseline" if exp.no == 0 else args.base, args.results)

    def resolved(experiment):
        req = RunRequest(experiment=experiment, data_root=str(resolve_data_root(args.data)),
                         results_dir=args.results, base=base, seed=args.seed, device=args.device,
                         shared_knobs=p["shared_knobs"], precision=args.precision, channels_last=args.channels_last,
                         num_workers=args.workers, verbose=False, **p["settings"].run_options())
        run_ = resolve_run(req)
        return req, run_, portable(run_["cfg"]).pretty_text

    req, run_, text = resolved(exp)
    if not args.diff:
        say(config_header(req, run_) + text, end="")
        return 0
    _, base_run, base_text = resolved(Experiment(base.get("no", 0), base.get("block", "baseline"),
                                                 "base", base["name"], {}))
    say("".join(difflib.unified_diff(base_text.splitlines(keepends=True), text.splitlines(keepends=True),
                                     f"base {base['name']} (key {base_run['key']})",
                                     f"run {exp.no:02d} {exp.parameter} (key {run_['key']})")), end="")
    return 0
