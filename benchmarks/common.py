"""Shared bits of the benchmarks: data, timing hook, a train-only config."""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYTHONWARNINGS", "ignore")


def base_parser(doc):
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--data", default="", help="dataset root (default: synthetic cats in the cache)")
    p.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    return p


def data_root(path):
    from catpose_lib.data.default_data import resolve_data_root

    return resolve_data_root(path, n_train=300, n_val=64, n_test=16, size=256)


def device_of(device):
    from catpose_lib.runs.run import resolve_device

    return resolve_device(device)


def emit(numbers: dict, json_path=None):
    from catpose_lib.runs.provenance import now_iso, provenance

    numbers = dict(numbers, measured=now_iso(), provenance=provenance(numbers.get("device", "cpu")))
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(numbers, indent=1, default=str))
    return numbers


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
