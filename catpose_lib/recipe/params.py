"""Run parameters checked before any work (notebooks and CLI alike): a wrong one fails at
once with one line that names it and what it accepts (errors.ParameterError)."""
import re
from pathlib import Path

from catpose_lib.errors import ParameterError

DEVICES = ("auto", "cpu", "cuda")
BASES = ("baseline", "best")


def parse_ints(name, value) -> list:
    """None / "" / [] -> []; 9 -> [9]; "9,10", "9 10", "9, 10" and [9, "10"] -> [9, 10]."""
    if value is None or value == "" or value == []:
        return []
    items = re.split(r"[,\s]+", value.strip()) if isinstance(value, str) else (
        [value] if isinstance(value, int) else list(value))
    try:
        return [int(i) for i in items if str(i).strip() != ""]
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a list of whole numbers, e.g. [9, 10], \"9,10\" or \"9 10\"") from None


def check_run_parameters(block=None, experiments=None, budget=None, seeds=None, device=None,
                         precision=None, base=None, data_root=None, overrides=None, protocol=None,
                         init=None) -> dict:
    """Normalised parameters; raises ParameterError on the first bad one.  ``None`` = not given."""
    from catpose_lib.recipe.budget import parse_budget
    from catpose_lib.recipe.experiments import BLOCK_NUMBERS, block_experiments, resolve_block
    from catpose_lib.recipe.knobs import check_knobs
    from catpose_lib.runs.precision import PRECISIONS

    out = {}
    if block is not None:
        try:
            out["block"] = resolve_block(block)
        except ValueError:
            raise ParameterError("block", block, "one of " + ", ".join(
                f"{n}_{b}" for b, n in BLOCK_NUMBERS.items()) + " (or its number or name), or baseline") from None
    if experiments is not None:
        ids = parse_ints("experiments", experiments)
        if ids and "block" in out:
            try:
                block_experiments(out["block"], ids)
            except ValueError as exc:
                raise ParameterError("experiments", experiments, str(exc)) from None
        out["experiments"] = ids or None
    if budget is not None:
        try:
            out["budget"] = parse_budget(budget)
        except ValueError as exc:
            raise ParameterError("budget", budget, str(exc)) from None
    if seeds is not None:
        out["seeds"] = parse_ints("seeds", seeds) or [0]
    if device is not None:
        if device not in DEVICES:
            raise ParameterError("device", device, f"one of {', '.join(DEVICES)}")
        if device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise ParameterError("device", device, "no CUDA device is visible here; use 'cpu' or 'auto'")
        out["device"] = device
    if precision is not None:
        if precision not in PRECISIONS:
            raise ParameterError("precision", precision, f"one of {', '.join(PRECISIONS)}")
        out["precision"] = precision
    if base is not None:
        if base not in BASES:
            raise ParameterError("base", base, "'baseline' or 'best' (the previous block's winner)")
        out["base"] = base
    if data_root:
        root = Path(data_root).expanduser()
        missing = [f for f in ("annotations/train.json", "annotations/val.json") if not (root / f).is_file()]
        if missing:
            raise ParameterError("data_root", str(data_root), f"a course-layout root with images/ and "
                                 f"annotations/{{train,val,test_info}}.json; {root} lacks {', '.join(missing)}")
        out["data_root"] = root
    if overrides is not None:
        if not isinstance(overrides, dict):
            raise ParameterError("overrides", overrides, "a dict of knobs, e.g. {'resnet_depth': 18}")
        try:
            check_knobs(overrides)
        except ValueError as exc:
            raise ParameterError("overrides", overrides, str(exc)) from None
        out["overrides"] = dict(overrides)
    if init:
        if not Path(str(init)).expanduser().is_file():
            raise ParameterError("init", init, "a start checkpoint file (e.g. `pretrain`'s); it does not exist")
        out["init"] = str(Path(str(init)).expanduser())
    if protocol:
        out["protocol"] = _check_protocol(protocol, out, budget, init)
    return out


def _check_protocol(name, checked, budget, init):
    """A protocol sets the budget, seeds and start: the same facts given again must agree."""
    from catpose_lib.recipe.protocols import PROTOCOLS, get_protocol
    from catpose_lib.errors import CatposeError

    try:
        proto = get_protocol(name)
    except CatposeError:
        raise ParameterError("protocol", name, f"one of {', '.join(PROTOCOLS)}") from None
    if budget is not None and checked.get("budget") not in ("full", proto.budget):
        raise ParameterError("budget", budget, f"left at 'full': protocol {proto.name!r} sets the budget "
                                               f"({proto.budget})")
    if checked.get("seeds") not in (None, [0], list(proto.seeds)):
        raise ParameterError("seeds", checked["seeds"], f"left at [0]: protocol {proto.name!r} sets the seeds "
                                                        f"({list(proto.seeds)} + {list(proto.confirm_seeds)} "
                                                        f"for the baseline and each winner)")
    if init and proto.init:
        raise ParameterError("init", init, f"empty: protocol {proto.name!r} sets each backbone's start "
                                           f"({', '.join(f'{k}: {v}' for k, v in proto.init.items())})")
    return proto
