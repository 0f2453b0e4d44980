"""Named protocols: how much of the reference study every run gets, from which start, with
which seeds.  One name (``--protocol cpu``, ``-p protocol cpu``) fixes them for the whole study,
and every result records it, so a reader knows what the numbers were trained with.

``full`` is the reference study (every epoch; the user's own start, if any) and stays the
default on a GPU.  ``cpu`` fits the study into about 10 CPU-hours on 2 cores: the
cross-species start of each backbone (``pretrain``), a fraction of the epochs with a floor,
one seed per run and two more for each block's winner and the baseline.
"""
from dataclasses import asdict, dataclass, field

from catpose_lib import zoo
from catpose_lib.errors import CatposeError, ParameterError
from catpose_lib.recipe.budget import parse_budget
from catpose_lib.recipe.experiments import BLOCKS, STUDY
from catpose_lib.recipe.knobs import merge_knobs
from catpose_lib.recipe.starts import PRETRAIN_BACKBONES, STARTS_DIR, start_checkpoint_name


@dataclass(frozen=True)
class Protocol:
    name: str
    budget: str                      # 'full' or a fraction of every run's epochs
    min_epochs: int = 1              # floor of a run's epochs after the fraction
    seeds: tuple = (0,)              # every run
    confirm_seeds: tuple = ()        # more seeds for the baseline and each block's winner
    starts: dict = field(default_factory=dict)  # backbone -> whole-model start checkpoint
    description: str = ""

    def record(self) -> dict:
        out = asdict(self)
        out["starts"] = {k: str(v) for k, v in self.starts.items()}
        return out


def _pretrained(protocol, backbone):
    """A protocol's start of a backbone: the zoo's ``start-<backbone>-<protocol>`` where it ships
    (catpose_lib.zoo), else where `make study` pretrains it (at the protocol's length)."""
    shipped = f"start-{backbone}-{protocol}"
    return shipped if zoo.is_model(shipped) else str(STARTS_DIR / protocol / start_checkpoint_name(backbone))


PROTOCOLS = {
    # the reference study's epochs on a GPU, from the same starts (pretrained at full length on a GPU)
    "full": Protocol("full", "full", seeds=(0,), confirm_seeds=(1, 2),
                     starts={b: _pretrained("full", b) for b in PRETRAIN_BACKBONES},
                     description="a GPU: every run's full epochs; the start of the run's backbone; seeds 1 "
                                 "and 2 added for the baseline and each block's winner"),
    # sized with study_cost(): ~9.6 CPU-hours on 2 cores if every later block inherits 256 px and HRNet
    "cpu": Protocol("cpu", "0.03", min_epochs=3, seeds=(0,), confirm_seeds=(1, 2),
                    starts={b: _pretrained("cpu", b) for b in PRETRAIN_BACKBONES},
                    description="2 CPU cores: 3% of each run's epochs, at least 3; the cross-species "
                                "start of the run's backbone; seeds 1 and 2 added for the baseline and "
                                "each block's winner"),
    # `make demo` (scripts/demo.py): the floor gives the baseline (lr 1e-5, 1 of its 20 epochs at 5%)
    # as many epochs as block 03's runs, so that the lr is what differs between them
    "demo": Protocol("demo", "0.05", min_epochs=8,
                     description="`make demo`: 5% of each run's epochs, at least 8 (8 of 150, 10 of 200, "
                                 "9 of 175; the baseline 8 of 20); the start given by --init; one seed"),
}


def get_protocol(name):
    if name is None or isinstance(name, Protocol):
        return name
    if name not in PROTOCOLS:
        raise CatposeError(f"protocol {name!r} is unknown; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


@dataclass(frozen=True)
class Settings:
    """What every run of a study gets, as explicit values: budget, epoch floor, seeds, start.
    :func:`expand` is the one place a protocol becomes these values; every result records them."""
    budget: str = "full"
    min_epochs: int = 1
    seeds: tuple = (0,)
    confirm_seeds: tuple = ()        # added for the baseline and each block's winner
    start: str = None                # one whole-model start for every run
    starts: dict = field(default_factory=dict)  # or one per backbone (a protocol's)
    protocol: str = None             # the protocol these came from, if any

    @property
    def all_seeds(self) -> tuple:
        return tuple(self.seeds) + tuple(s for s in self.confirm_seeds if s not in self.seeds)

    def run_options(self) -> dict:
        """The per-run part, as RunRequest fields (seeds are the caller's loop)."""
        return dict(budget=self.budget, min_epochs=self.min_epochs, start=self.start,
                    starts=dict(self.starts), protocol=self.protocol)


def expand(protocol=None, budget=None, seeds=None, start=None) -> Settings:
    """Settings from what was given (None = not given): a protocol's values, or budget 'full',
    seed 0 and no start.  A value given beside a protocol must be the protocol's own."""
    proto = get_protocol(protocol)
    if proto is None:
        return Settings(budget="full" if budget is None else budget,
                        seeds=(0,) if seeds is None else tuple(seeds), start=start)
    if budget is not None and budget != proto.budget:
        raise ParameterError("budget", budget, f"not given: protocol {proto.name!r} sets it ({proto.budget})")
    if seeds is not None and tuple(seeds) != tuple(proto.seeds):
        raise ParameterError("seeds", list(seeds), f"not given: protocol {proto.name!r} sets them "
                                                   f"({list(proto.seeds)} + {list(proto.confirm_seeds)} for "
                                                   f"the baseline and each winner)")
    if start and proto.starts:
        raise ParameterError("start", start, f"not given: protocol {proto.name!r} sets each backbone's start "
                                             f"({', '.join(f'{k}: {v}' for k, v in proto.starts.items())})")
    return Settings(budget=proto.budget, min_epochs=proto.min_epochs, seeds=tuple(proto.seeds),
                    confirm_seeds=tuple(proto.confirm_seeds), start=start, starts=dict(proto.starts),
                    protocol=proto.name)


def backbone_name(cfg) -> str:
    """The study's name of a resolved config's backbone: resnet50, resnet18, hrnet_w32, ..."""
    bb = cfg.model.backbone
    if bb.type == "ResNet":
        return f"resnet{bb.depth}"
    if bb.type == "HRNet":
        return f"hrnet_w{bb.extra.stage2.num_channels[0]}"
    if bb.type == "EfficientNetLite":
        return f"efficientnet_{bb.arch}"
    return str(bb.type).lower()


def run_start(start, starts, cfg, knobs=None):
    """A run's whole-model start: the one given for every run, else the one for its backbone
    (None: none).  A run whose knobs set ``pretrained`` (backbone weights only, e.g. ImageNet)
    takes no per-backbone start."""
    if start:
        return start
    if not starts or (knobs or {}).get("pretrained"):
        return None
    name = backbone_name(cfg)
    if name not in starts:
        raise CatposeError(f"no start checkpoint for backbone {name} (there are: {', '.join(starts)}); "
                           f"pretrain one or give --start")
    return starts[name]


# Training cost of one epoch relative to ResNet-50 at 128 px (forward + backward, bf16 +
# channels-last, 2 cores, measured: ResNet-50 17.6 / 5.5 samples/s at 128 / 256 px, HRNet-W32
# 13.8 / 4.0); other sizes scale with the pixels.
# EfficientNet-Lite2 with 3 x 256 deconvs: 15.5 / 8.6 samples/s at 192 / 256 px (the 128 px value
# follows from the pixel interpolation below); Lite0 is counted as Lite2, an upper bound.
RELATIVE_COST = {("resnet50", 128): 1.0, ("resnet50", 256): 17.6 / 5.5,
                 ("hrnet_w32", 128): 17.6 / 13.8, ("hrnet_w32", 256): 17.6 / 4.0,
                 ("efficientnet_lite2", 128): 0.49, ("efficientnet_lite2", 256): 17.6 / 8.6,
                 ("efficientnet_lite0", 128): 0.49, ("efficientnet_lite0", 256): 17.6 / 8.6}


def epoch_cost(backbone, size):
    if (backbone, size) in RELATIVE_COST:
        return RELATIVE_COST[(backbone, size)]
    small, large = RELATIVE_COST[(backbone, 128)], RELATIVE_COST[(backbone, 256)]
    return small + (large - small) * (size ** 2 - 128 ** 2) / (256 ** 2 - 128 ** 2)


def study_cost(protocol, seconds_per_epoch: float, inherit=None):
    """The whole study's epochs and hours under a protocol (a name or its Settings), block by
    block, before running it.

    ``seconds_per_epoch``: a measured epoch (training + validation) of the baseline (ResNet-50,
    128 px) on the data.  ``inherit``: what each block's base passes on (the winner is not known
    in advance); by default the costly path: 150 epochs from block 02, 256 px from block 04,
    HRNet-W32 from block 05.  Each block's winner is counted with the confirm seeds.
    """
    import pandas as pd

    protocol = protocol if isinstance(protocol, Settings) else expand(protocol)
    inherit = inherit or {"lr_batch": dict(epochs=150), "resolution": dict(epochs=150, input_size=256),
                          "backbone": dict(epochs=150, input_size=256),
                          "optimizer": dict(epochs=150, input_size=256, backbone="hrnet_w32")}
    budget = parse_budget(protocol.budget)

    def epochs_of(knobs):
        full = int(knobs.get("epochs", 20))
        if budget == "full":
            return full
        return min(full, max(protocol.min_epochs, max(1, round(full * float(budget)))))

    def cost(knobs):
        return epochs_of(knobs) * epoch_cost(knobs.get("backbone", "resnet50"), int(knobs.get("input_size", 128)))

    n_seeds, extra = len(protocol.seeds), len(protocol.all_seeds) - len(protocol.seeds)
    rows = [dict(block="baseline", runs=len(protocol.all_seeds), epochs=epochs_of({}) * len(protocol.all_seeds),
                 cost=cost({}) * len(protocol.all_seeds))]
    for block in BLOCKS:
        knobs = [merge_knobs(inherit.get(block, {}), e.knobs) for e in STUDY if e.block == block]
        top = max(knobs, key=cost)  # the winner's confirm seeds, counted at the dearest run
        rows.append(dict(block=block, runs=len(knobs) * n_seeds + extra,
                         epochs=sum(epochs_of(k) for k in knobs) * n_seeds + epochs_of(top) * extra,
                         cost=sum(cost(k) for k in knobs) * n_seeds + cost(top) * extra))
    frame = pd.DataFrame(rows)
    frame["hours"] = frame["cost"] * seconds_per_epoch / 3600
    frame.loc[len(frame)] = dict(block="total", runs=frame["runs"].sum(), epochs=frame["epochs"].sum(),
                                 cost=frame["cost"].sum(), hours=frame["hours"].sum())
    return frame.rename(columns={"cost": "epochs_at_r50_128px"}).round(2)
