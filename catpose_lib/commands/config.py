"""``config N``: print the resolved MMPose config of run N without training (like MMPose's
tools/misc/print_config.py), as `run` would train it with the same options."""
import argparse
import os

from mmengine.config import DictAction

from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.console import say

HELP = "print the resolved MMPose config of run N (0 = baseline) without training"


def add_arguments(p):
    p.add_argument("no", type=int, help="run number (0 = baseline, 1-34 = the study's runs)")
    p.add_argument("--data", default="", help="dataset root (default: the synthetic cats)")
    p.add_argument("--results", default="results", help="results folder (read for --base best)")
    p.add_argument("--base", default="baseline", choices=("baseline", "best"))
    p.add_argument("--budget", default="full", help="full | smoke | fraction of the epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", nargs="+", action=DictAction, default={}, metavar="KNOB=VALUE",
                   help="protocol knobs applied to the run (e.g. resnet_depth=18)")
    p.add_argument("--init", default=None, help="start checkpoint (checked against the model)")
    p.add_argument("--protocol", default=None, help="a named protocol (budget, epoch floor, start), e.g. cpu")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    p.add_argument("--precision", default=DEFAULT_PRECISION, choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=DEFAULT_CHANNELS_LAST)


def run(args):
    if args.device == "cpu":
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    from catpose_lib.data.default_data import resolve_data_root
    from catpose_lib.recipe.experiments import get_experiment
    from catpose_lib.recipe.params import check_run_parameters
    from catpose_lib.runs.run import RunRequest, resolve_run
    from catpose_lib.workers.blocks import resolve_base

    p = check_run_parameters(budget=args.budget, device=args.device, precision=args.precision,
                             overrides=args.set, data_root=args.data or None, protocol=args.protocol,
                             init=args.init)
    exp = get_experiment(args.no)
    base = resolve_base(exp.block, "baseline" if exp.no == 0 else args.base, args.results)
    req = RunRequest(experiment=exp, data_root=str(resolve_data_root(args.data)), results_dir=args.results,
                     base=base, seed=args.seed, budget=p["budget"], device=args.device, common_overrides=p["overrides"],
                     precision=args.precision, channels_last=args.channels_last, init=args.init, verbose=False,
                     protocol=args.protocol)
    run_ = resolve_run(req)
    say(f"# run {exp.no:02d} ({exp.block}): {exp.parameter}\n"
        f"# base: {base['name']} {base['overrides']}\n# experiment knobs: {exp.overrides}\n"
        f"# protocol {args.protocol or 'none'}; knobs for every run: {p['overrides']}; budget {run_['budget']}; "
        f"{run_['cfg'].train_cfg.max_epochs} epochs; seed {args.seed}; "
        f"start checkpoint: {run_['init']['path'] + ' sha256 ' + run_['init']['sha256'] if run_['init'] else 'none'}\n"
        f"# run key {run_['key']} (train: python -m catpose_lib run {exp.block} --experiments {exp.no} ...)")
    say(run_["cfg"].pretty_text)
    return 0
