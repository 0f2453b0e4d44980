"""The command-line options several commands share, each defined once with its choices taken
from the package's constants (no heavy imports: the CLI builds every parser for --help)."""
import argparse
import os

from mmengine.config import DictAction

from catpose_lib.recipe.params import DEVICES
from catpose_lib.recipe.protocols import PROTOCOLS
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION, PRECISIONS
from catpose_lib.schemes import SCHEME_NAMES

IMAGE_CACHE = {"auto": "auto", "on": True, "off": False}


def add_scheme(p):
    p.add_argument("--scheme", default=None, choices=SCHEME_NAMES, help="keypoint scheme (default: the dataset's)")


def add_shared_knobs(p, what="every run"):
    p.add_argument("--set", dest="shared_knobs", nargs="+", action=DictAction, default={}, metavar="KNOB=VALUE",
                   help=f"shared knobs: applied to {what} (e.g. resnet_depth=18; `docs/knobs.md`)")


def add_settings(p, seeds=True):
    """Budget, seeds, start and protocol: None = not given (a protocol then sets them)."""
    p.add_argument("--budget", default=None, help="full | smoke | fraction of the epochs (default: the "
                                                  "protocol's, else full)")
    if seeds:
        p.add_argument("--seeds", default=None, help="seeds, e.g. 0,1,2 (default: the protocol's, else 0)")
    p.add_argument("--start", "--init", dest="start", default=None, metavar="PATH",
                   help="whole-model start checkpoint of every run (mmengine's load_from; e.g. `pretrain`'s), "
                        "checked against the model and recorded by sha256")
    p.add_argument("--protocol", default=None, choices=tuple(PROTOCOLS),
                   help="a named protocol (docs/protocols.md): sets budget, epoch floor, each backbone's "
                        "start and the seeds")


def add_speed(p, device_default="auto"):
    p.add_argument("--device", default=device_default, choices=DEVICES)
    p.add_argument("--precision", default=DEFAULT_PRECISION, choices=PRECISIONS,
                   help="mixed precision (auto = bf16 where the CPU/GPU supports it; default %(default)s)")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=DEFAULT_CHANNELS_LAST,
                   help="channels-last memory format (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="dataloader workers")
    p.add_argument("--image-cache", default="auto", choices=tuple(IMAGE_CACHE),
                   help="decoded-image cache (auto = when the dataset fits the memory budget)")


def speed_options(args) -> dict:
    """RunRequest fields of the speed options."""
    return dict(precision=args.precision, channels_last=args.channels_last, num_workers=args.workers,
                image_cache=IMAGE_CACHE[args.image_cache])


def hide_gpu_for_cpu(args):
    """--device cpu on a GPU machine: hide the GPU before torch starts."""
    if args.device == "cpu":
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
