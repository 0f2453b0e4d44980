"""Budgets: ``full`` = the reference study's epochs, ``smoke`` = a tiny run for tests, or a
fraction that scales epochs, LR steps and warm-up together."""
from catpose_lib.recipe.knobs import set_epochs, set_warmup_iters

SMOKE_EPOCHS = 2


def parse_budget(budget) -> str:
    """Normalise 'full' | 'smoke' | a fraction in (0, 1] to a string key."""
    if isinstance(budget, str) and budget in ("full", "smoke"):
        return budget
    try:
        f = float(budget)
    except (TypeError, ValueError):
        raise ValueError(f"budget must be 'full', 'smoke' or a fraction in (0, 1], not {budget!r}") from None
    if not 0 < f <= 1:
        raise ValueError(f"budget fraction must be in (0, 1], not {f}")
    return "full" if f == 1 else f"{f:g}"


def apply_budget(cfg, budget, min_epochs: int = 1) -> None:
    """Scale the resolved config's schedule in place; a fraction keeps at least ``min_epochs``
    (a protocol's floor, never more than the run's own epochs)."""
    budget = parse_budget(budget)
    if budget == "full":
        return
    epochs = cfg.train_cfg.max_epochs
    if budget == "smoke":
        new_epochs, f = SMOKE_EPOCHS, SMOKE_EPOCHS / epochs
    else:
        f = float(budget)
        new_epochs = max(1, round(epochs * f))
        if new_epochs < min_epochs:  # the floor lengthens the warm-up with the run
            new_epochs = min(epochs, int(min_epochs))
            f = new_epochs / epochs
    set_epochs(cfg, new_epochs)
    for sched in cfg.param_scheduler:
        if sched['type'] == 'LinearLR' and not sched.get('by_epoch', True):
            set_warmup_iters(sched, round((sched['end'] - sched.get('begin', 0)) * f))
