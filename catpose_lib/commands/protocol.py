"""``protocol NAME``: what a protocol sets, and the study's cost under it before running it."""
from dataclasses import asdict

from catpose_lib.console import say
from catpose_lib.recipe.protocols import PROTOCOLS, expand, get_protocol, study_cost

HELP = "show a named protocol (budget, epoch floor, starts, seeds) and estimate the study's hours under it"


def add_arguments(p):
    p.add_argument("name", nargs="?", default="cpu", choices=tuple(PROTOCOLS), help="protocol name (default %(default)s)")
    p.add_argument("--seconds-per-epoch", type=float, default=80.0,
                   help="a measured epoch (train + validation) of the baseline, ResNet-50 at 128 px, on "
                        "your data and machine (default %(default)s: the real cats on 2 CPU cores)")


def run(args):
    proto = get_protocol(args.name)
    say(f"{'description':>14}: {proto.description}")
    for key, value in asdict(expand(args.name)).items():  # what every run of the study gets
        say(f"{key:>14}: {value}")
    say(f"\nthe study under '{proto.name}' at {args.seconds_per_epoch:g} s per baseline epoch "
        f"(later blocks assumed to inherit 150 epochs, 256 px, HRNet-W32: the dearest path):")
    say(study_cost(args.name, args.seconds_per_epoch).to_string(index=False))
    return 0
