"""A search space as data: knob -> distribution spec, checked before any trial and sampled
with Optuna's ``trial.suggest_*``; the knobs are the study's (recipe.knobs.KNOBS).

Specs: ``["log", low, high]`` (float on a log scale), ``["float", low, high(, step)]``,
``["int", low, high(, step)]``, ``["cat", [choice, ...]]``.  Two knobs are sampled as one
number: ``scale_factor`` s means the box scale range (1 - s, 1 + s) (the course's 0.x
``scale_factor``), and a searched ``input_size`` brings ``heatmap_size = input_size / 4``
(the SimpleBaseline head upsamples stride-32 features 8x) unless the space searches it too.
"""
import json
from pathlib import Path

from catpose_lib.errors import ParameterError
from catpose_lib.recipe.knobs import check_knobs

KINDS = ("log", "float", "int", "cat")
SPEC_HELP = ('a dict of knob -> ["log", low, high], ["float", low, high(, step)], ["int", low, high(, step)] '
             'or ["cat", [choice, ...]]')

# The study's knobs in reference-study units (epochs are scaled by the budget like every run's);
# input_size 128 / 192 / 256 is the study's block 04.  Plain SGD is left out: a flat space cannot
# give SGD alone its momentum (block 06 runs it with 0.9).
DEFAULT_SPACE = {
    "lr": ["log", 1e-5, 1e-2],
    "batch_size": ["int", 16, 64, 8],
    "epochs": ["int", 100, 200, 25],
    "sigma": ["float", 1.0, 3.0],
    "rotate_factor": ["float", 0.0, 80.0],
    "scale_factor": ["float", 0.1, 0.5],
    "halfbody_prob": ["float", 0.0, 0.5],
    "shift_factor": ["float", 0.0, 0.2],
    "shift_prob": ["float", 0.0, 0.5],
    "optimizer": ["cat", ["Adam", "AdamW", "Adamax"]],
    "input_size": ["cat", [128, 192, 256]],
}

_SHORT = {"batch_size": "bs", "epochs": "ep", "rotate_factor": "rot", "scale_factor": "scale",
          "halfbody_prob": "halfbody", "shift_factor": "shift", "shift_prob": "shift p", "input_size": "px"}


def load_space(space) -> dict:
    """None / {} / "" -> the default space; a dict; JSON text; or the path of a JSON file."""
    if space is None or (isinstance(space, (str, dict)) and not space):
        return json.loads(json.dumps(DEFAULT_SPACE))
    if isinstance(space, dict):
        return dict(space)
    text = str(space).strip()
    if not text.startswith("{"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ParameterError("space", space, f"{SPEC_HELP}, as JSON text or a JSON file (no file {path})")
        text = path.read_text()
    try:
        out = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError("space", space, f"{SPEC_HELP}; not JSON: {exc}") from None
    if not isinstance(out, dict):
        raise ParameterError("space", space, SPEC_HELP)
    return out


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _spec_error(knob, spec):
    """What is wrong with one knob's spec, or None."""
    if not isinstance(spec, (list, tuple)) or not spec or spec[0] not in KINDS:
        return f"a spec starts with one of {', '.join(KINDS)}"
    kind, args = spec[0], list(spec[1:])
    if kind == "cat":
        if len(args) != 1 or not isinstance(args[0], (list, tuple)) or not args[0]:
            return 'needs ["cat", [choice, ...]] with at least one choice'
        if not all(c is None or isinstance(c, (bool, int, float, str)) for c in args[0]):
            return "choices are numbers, strings, true/false or null"
        values = list(args[0])
    else:
        if len(args) not in ((2,) if kind == "log" else (2, 3)) or not all(_number(a) for a in args):
            return f'needs ["{kind}", low, high' + ("]" if kind == "log" else "(, step)]") + " with numbers"
        low, high = args[0], args[1]
        if low > high or (kind == "log" and low <= 0) or (len(args) == 3 and args[2] <= 0):
            return ("needs " + ("0 < " if kind == "log" else "") + "low <= high"
                    + (", step > 0" if len(args) == 3 else ""))
        if kind == "int" and not all(float(a).is_integer() for a in args):
            return "an int spec has whole numbers"
        values = args[:2] + ([args[2]] if knob == "input_size" and len(args) == 3 else [])
    if knob == "scale_factor" and not all(_number(v) and 0 < v < 1 for v in values):
        return "sampled as s in (0, 1), the box scale range (1 - s, 1 + s)"
    if knob == "input_size" and not all(_number(v) and v > 0 and v % 32 == 0 for v in values):
        return "values (and step) are multiples of 32 px (ResNet's stride), e.g. [\"cat\", [128, 192, 256]]"
    return None


def check_space(space, fixed=None) -> dict:
    """The space (see :func:`load_space`), checked: one ParameterError naming the first bad knob
    or spec, or a knob both searched and fixed in ``fixed`` (the knobs given to every trial)."""
    space = load_space(space)
    try:
        check_knobs(space)
    except ValueError as exc:
        raise ParameterError("space", space, str(exc)) from None
    for knob, spec in space.items():
        problem = _spec_error(knob, spec)
        if problem:
            raise ParameterError("space", {knob: spec}, f"knob '{knob}': {problem}; {SPEC_HELP}")
    derived = ["heatmap_size"] if "input_size" in space and "heatmap_size" not in space else []
    both = sorted(set(fixed or {}) & (set(space) | set(derived)))
    if both:
        raise ParameterError("space", space, f"knob(s) {both} both searched and fixed by the knobs given to every "
                                             f"trial{' (heatmap_size follows input_size)' if derived else ''}; "
                                             f"drop them from one of the two")
    return {k: [v[0], list(v[1])] if v[0] == "cat" else list(v) for k, v in space.items()}


def suggest(trial, space) -> dict:
    """One sample of the space, as Optuna's trial.params."""
    out = {}
    for knob, (kind, *args) in space.items():
        if kind == "cat":
            out[knob] = trial.suggest_categorical(knob, list(args[0]))
        elif kind == "int":
            out[knob] = trial.suggest_int(knob, int(args[0]), int(args[1]), step=int(args[2]) if len(args) > 2 else 1)
        else:
            out[knob] = trial.suggest_float(knob, float(args[0]), float(args[1]), log=kind == "log",
                                            step=float(args[2]) if len(args) > 2 else None)
    return out


def trial_knobs(params: dict) -> dict:
    """Sampled values -> the run's knobs (scale_factor s -> (1 - s, 1 + s); heatmap_size follows
    a searched input_size)."""
    knobs = dict(params)
    if "scale_factor" in knobs:
        s = float(knobs["scale_factor"])
        knobs["scale_factor"] = (round(1 - s, 6), round(1 + s, 6))
    if "input_size" in knobs and "heatmap_size" not in knobs:
        knobs["heatmap_size"] = int(knobs["input_size"]) // 4
    return knobs


def describe(params: dict) -> str:
    """A short label of the sampled values, e.g. 'lr 0.00032, bs 24, ep 150, AdamW'."""
    parts = []
    for knob, value in params.items():
        text = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(text if knob == "optimizer" else f"{_SHORT.get(knob, knob)} {text}")
    return ", ".join(parts)


def space_max(space: dict, knob: str):
    """The largest value a knob can take in the space (None when it is not searched)."""
    if knob not in space:
        return None
    kind, *args = space[knob]
    return max(args[0]) if kind == "cat" else args[1]
