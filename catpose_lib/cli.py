"""catpose: cat pose estimation studies on top of MMPose.

Run ``python -m catpose_lib COMMAND --help`` for a command's options.
"""
import argparse
import importlib
import sys

from catpose_lib import __version__
from catpose_lib.console import library_log
from catpose_lib.errors import CatposeError

# command name -> module in catpose_lib.commands.  Each module defines HELP (one line),
# add_arguments(parser) and run(args) -> exit status; heavy imports happen inside run().
COMMANDS = {
    "synth": "synth",
    "import-animalpose": "import_animalpose",
    "check": "check",
    "stats": "stats",
    "run": "run",
    "config": "config",
    "table": "table",
    "text": "text",
    "predict": "predict",
    "pack": "pack",
    "pretrain": "pretrain",
    "search": "search",
    "report": "report",
    "protocol": "protocol",
    "migrate": "migrate",
    "study": "study",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m catpose_lib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"catpose {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"catpose_lib.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"catpose_lib.commands.{module_name}":
                raise
            continue  # command not available in this build
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with library_log(args.command):  # metric printouts and warnings: a log named at the end
            return int(args.func(args) or 0)
    except CatposeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
