"""``pretrain``: cross-species pose pretraining on the other animals (the start for cat runs)."""
import argparse
import os

from mmengine.config import DictAction

from catpose_lib.runs.pretrain import PRETRAIN_RUNS
from catpose_lib.runs.speed_defaults import DEFAULT_CHANNELS_LAST, DEFAULT_PRECISION
from catpose_lib.console import say

HELP = ("pretrain ResNet-50 / HRNet-W32 pose models on other animals (Animal-Pose dogs, sheep, "
        "horses, cows) and export the start checkpoints that cat runs take with --init")


def add_arguments(p):
    p.add_argument("--data", required=True,
                   help="the other animals: a raw Animal-Pose folder (keypoints.json + images/, e.g. "
                        "../shared/datasets/animalpose_others; imported once into the cache as one "
                        "category) or a course-layout root")
    p.add_argument("--results", required=True, help="results folder (the run lands in RESULTS/pretrain/)")
    p.add_argument("--backbone", nargs="+", default=["resnet50", "hrnet_w32"],
                   choices=tuple(PRETRAIN_RUNS), help="backbones to pretrain (default: resnet50 hrnet_w32; "
                   "the EfficientNet-Lite ones start from ImageNet)")
    p.add_argument("--zero-shot", default=None, metavar="CATS",
                   help="cat data (raw Animal-Pose folder or course root) whose val split measures "
                        "the zero-shot AP")
    p.add_argument("--out", default=None, help="folder of the start checkpoints (default: ~/.cache/catpose/pretrained)")
    p.add_argument("--budget", default="full", help="full | smoke | fraction of the 100 epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--set", nargs="+", action=DictAction, default={}, metavar="KNOB=VALUE",
                   help="experiment knob applied on top of configs/pretrain_animals.py")
    p.add_argument("--workers", type=int, default=None, help="dataloader workers")
    p.add_argument("--precision", default=DEFAULT_PRECISION, help="auto | fp32 | bf16 | fp16")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=DEFAULT_CHANNELS_LAST)
    p.add_argument("--quiet", action="store_true")


def run(args):
    if args.device == "cpu":
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    from catpose_lib.runs.pretrain import pretrain_backbones
    from catpose_lib.runs.results import FINISHED, RUNNING_ELSEWHERE

    done = pretrain_backbones(args.data, args.results, backbones=args.backbone, zero_shot=args.zero_shot,
                              budget=args.budget, device=args.device, overrides=args.set, out_dir=args.out,
                              seed=args.seed, verbose=not args.quiet, num_workers=args.workers,
                              precision=args.precision, channels_last=args.channels_last)
    # a backbone another worker is pretraining is not a failure: that worker exports its checkpoint
    failed = [r for r in done["results"] if r["status"] not in (FINISHED, RUNNING_ELSEWHERE)]
    for r in failed:
        say(f"[pretrain {r['parameter']}] {r['status']}")
    return 1 if failed else 0
