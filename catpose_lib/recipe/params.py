"""Run parameters checked before any work (notebooks and CLI alike): a wrong one fails at
once with one line that names it and what it accepts (errors.ParameterError)."""
import re
from pathlib import Path

from catpose_lib import zoo
from catpose_lib.data.layout import ANNOTATION_FILES
from catpose_lib.errors import CatposeError, ParameterError
from catpose_lib.recipe.budget import parse_budget
from catpose_lib.recipe.experiments import BLOCK_NUMBERS, block_experiments, resolve_block
from catpose_lib.recipe.knobs import check_knobs
from catpose_lib.recipe.protocols import PROTOCOLS, expand, get_protocol
from catpose_lib.runs.speed_defaults import PRECISIONS

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
                         precision=None, base=None, data_root=None, shared_knobs=None, protocol=None,
                         start=None) -> dict:
    """Normalised parameters; raises ParameterError on the first bad one.  ``None`` = not given.
    ``settings`` (always there): budget, seeds and start expanded with the protocol, if any
    (recipe.protocols.expand, the one place that happens)."""
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
            budget = parse_budget(budget)
        except ValueError as exc:
            raise ParameterError("budget", budget, str(exc)) from None
    if seeds is not None:
        seeds = parse_ints("seeds", seeds) or None
    if device is not None:
        if device not in DEVICES:
            raise ParameterError("device", device, f"one of {', '.join(DEVICES)}")
        if device == "cuda":
            import torch  # lazy: torch only when a CUDA device is asked for

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
        missing = [ANNOTATION_FILES[k] for k in ("train", "val") if not (root / ANNOTATION_FILES[k]).is_file()]
        if missing:
            raise ParameterError("data_root", str(data_root), f"a course-layout root with images/ and "
                                 f"{ANNOTATION_FILES['train']}, {ANNOTATION_FILES['val']}; {root} lacks {', '.join(missing)}")
        out["data_root"] = root
    if shared_knobs is not None:
        if not isinstance(shared_knobs, dict):
            raise ParameterError("shared_knobs", shared_knobs, "a dict of knobs, e.g. {'resnet_depth': 18}")
        try:
            check_knobs(shared_knobs)
        except ValueError as exc:
            raise ParameterError("shared_knobs", shared_knobs, str(exc)) from None
        out["shared_knobs"] = dict(shared_knobs)
    if start:
        start = check_start_given(start)
    if protocol:
        try:
            get_protocol(protocol)
        except CatposeError:
            raise ParameterError("protocol", protocol, f"one of {', '.join(PROTOCOLS)}") from None
    out["settings"] = expand(protocol or None, budget, seeds, start or None)
    return out


def check_start_given(start) -> str:
    """A whole-model start given by the user: a checkpoint file, or the name of a model in the
    zoo (catpose_lib.zoo: unpacked once into the cache, its path returned)."""
    path = Path(str(start)).expanduser()
    if path.is_file():
        return str(path)
    if zoo.is_model(str(start)):
        return zoo.resolve(str(start))
    raise ParameterError("start", start, "a start checkpoint file (e.g. `pretrain`'s) or a zoo model's name "
                                         f"({', '.join(zoo.names()) or 'the zoo is empty'}); it is neither")
