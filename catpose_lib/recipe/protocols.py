"""Named protocols: how much of the reference study every run gets, from which start, with
which seeds.  One name (``--protocol cpu``, ``-p protocol cpu``) fixes them for the whole study,
and every result records it, so a reader knows what the numbers were trained with.

``full`` is the reference study (every epoch; the user's own start, if any) and stays the
default on a GPU.  ``cpu`` fits the study into about 10 CPU-hours on 2 cores: the
cross-species start of each backbone (``pretrain``), a fraction of the epochs with a floor,
one seed per run and two more for each block's winner and the baseline.
"""
from dataclasses import asdict, dataclass, field

from catpose_lib.errors import CatposeError


@dataclass(frozen=True)
class Protocol:
    name: str
    budget: str                      # 'full' or a fraction of every run's epochs
    min_epochs: int = 1              # floor of a run's epochs after the fraction
    seeds: tuple = (0,)              # every run
    confirm_seeds: tuple = ()        # more seeds for the baseline and each block's winner
    init: dict = field(default_factory=dict)  # backbone -> start checkpoint (None: the user's --init)
    description: str = ""

    def record(self) -> dict:
        out = asdict(self)
        out["init"] = {k: str(v) for k, v in self.init.items()}
        return out

    @property
    def all_seeds(self) -> tuple:
        return tuple(self.seeds) + tuple(s for s in self.confirm_seeds if s not in self.seeds)


def _pretrained(backbone):
    from catpose_lib.runs.pretrain import DEFAULT_OUT, start_checkpoint_name

    return str(DEFAULT_OUT / start_checkpoint_name(backbone))


PROTOCOLS = {
    "full": Protocol("full", "full", description="the reference study's epochs; the start given by --init "
                                                 "(or none, or ImageNet via --set pretrained=...)"),
    # sized with study_cost(): ~9.6 CPU-hours on 2 cores if every later block inherits 256 px and HRNet
    "cpu": Protocol("cpu", "0.03", min_epochs=3, seeds=(0,), confirm_seeds=(1, 2),
                    init={b: _pretrained(b) for b in ("resnet50", "hrnet_w32", "efficientnet_lite0",
                                                      "efficientnet_lite2")},
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


def protocol_init(protocol, cfg, overrides=None):
    """The protocol's start checkpoint for this run's backbone (None: no start).  A run whose
    knobs set ``pretrained`` (backbone weights only, e.g. ImageNet) takes no whole-model start."""
    if protocol is None or not protocol.init or (overrides or {}).get("pretrained"):
        return None
    name = backbone_name(cfg)
    if name not in protocol.init:
        raise CatposeError(f"protocol {protocol.name!r} has no start checkpoint for backbone {name} "
                           f"(it has {', '.join(protocol.init)}); pretrain one or use --init")
    return protocol.init[name]


# Training cost of one epoch relative to ResNet-50 at 128 px (forward + backward, bf16 +
# channels-last, 2 cores, measured: ResNet-50 17.6 / 5.5 samples/s at 128 / 256 px, HRNet-W32
# 13.8 / 4.0); other sizes scale with the pixels.
# EfficientNet-Lite2 with 3 x 256 deconvs: 15.5 / 8.6 samples/s at 192 / 256 px (the 128 px value
# follows from the pixel interpolation below); Lite0 is counted as Lite2, an upper bound.
RELATIVE_COST = {("resnet50", 128): 1.0, ("resnet50", 256): 17.6 / 5.5,
                 ("hrnet_w32", 128): 17.6 / 13.8, ("hrnet_w32", 256): 17.6 / 4.0,
                 ("efficientnet_lite2", 128): 0.49, ("efficientnet_lite2", 256): 17.6 / 8.6,
                 ("efficientnet_lite0", 128): 0.49, ("efficientnet_lite0", 256): 17.6 / 8.6}


def _epoch_cost(backbone, size):
    if (backbone, size) in RELATIVE_COST:
        return RELATIVE_COST[(backbone, size)]
    small, large = RELATIVE_COST[(backbone, 128)], RELATIVE_COST[(backbone, 256)]
    return small + (large - small) * (size ** 2 - 128 ** 2) / (256 ** 2 - 128 ** 2)


def study_cost(protocol, seconds_per_epoch: float, inherit=None):
    """The whole study's epochs and hours under a protocol, block by block, before running it.

    ``seconds_per_epoch``: a measured epoch (training + validation) of the baseline (ResNet-50,
    128 px) on the data.  ``inherit``: what each block's base passes on (the winner is not known
    in advance); by default the costly path: 150 epochs from block 02, 256 px from block 04,
    HRNet-W32 from block 05.  Each block's winner is counted with the confirm seeds.
    """
    import pandas as pd

    from catpose_lib.recipe.budget import parse_budget
    from catpose_lib.recipe.experiments import BLOCKS, STUDY
    from catpose_lib.recipe.knobs import merge_overrides

    protocol = get_protocol(protocol)
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
        return epochs_of(knobs) * _epoch_cost(knobs.get("backbone", "resnet50"), int(knobs.get("input_size", 128)))

    n_seeds, extra = len(protocol.seeds), len(protocol.all_seeds) - len(protocol.seeds)
    rows = [dict(block="baseline", runs=len(protocol.all_seeds), epochs=epochs_of({}) * len(protocol.all_seeds),
                 cost=cost({}) * len(protocol.all_seeds))]
    for block in BLOCKS:
        knobs = [merge_overrides(inherit.get(block, {}), e.overrides) for e in STUDY if e.block == block]
        top = max(knobs, key=cost)  # the winner's confirm seeds, counted at the dearest run
        rows.append(dict(block=block, runs=len(knobs) * n_seeds + extra,
                         epochs=sum(epochs_of(k) for k in knobs) * n_seeds + epochs_of(top) * extra,
                         cost=sum(cost(k) for k in knobs) * n_seeds + cost(top) * extra))
    frame = pd.DataFrame(rows)
    frame["hours"] = frame["cost"] * seconds_per_epoch / 3600
    frame.loc[len(frame)] = dict(block="total", runs=frame["runs"].sum(), epochs=frame["epochs"].sum(),
                                 cost=frame["cost"].sum(), hours=frame["hours"].sum())
    return frame.rename(columns={"cost": "epochs_at_r50_128px"}).round(2)
