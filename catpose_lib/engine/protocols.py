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
    from catpose_lib.engine.pretrain import DEFAULT_OUT, start_checkpoint_name

    return str(DEFAULT_OUT / start_checkpoint_name(backbone))


PROTOCOLS = {
    "full": Protocol("full", "full", description="the reference study's epochs; the start given by --init "
                                                 "(or none, or ImageNet via --set pretrained=...)"),
    "cpu": Protocol("cpu", "0.05", min_epochs=4, seeds=(0,), confirm_seeds=(1, 2),
                    init={"resnet50": _pretrained("resnet50"), "hrnet_w32": _pretrained("hrnet_w32")},
                    description="2 CPU cores: 5% of each run's epochs, at least 4; the cross-species "
                                "start of the run's backbone; seeds 1 and 2 added for the baseline and "
                                "each block's winner"),
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
    return str(bb.type).lower()


def protocol_init(protocol, cfg):
    """The protocol's start checkpoint for this run's backbone (None: no start)."""
    if protocol is None or not protocol.init:
        return None
    name = backbone_name(cfg)
    if name not in protocol.init:
        raise CatposeError(f"protocol {protocol.name!r} has no start checkpoint for backbone {name} "
                           f"(it has {', '.join(protocol.init)}); pretrain one or use --init")
    return protocol.init[name]
