"""Where whole-model start checkpoints live and how they are named (``pretrain`` writes them,
protocols point each backbone at one)."""
from catpose_lib.data.default_data import CACHE

STARTS_DIR = CACHE / "pretrained"


def start_checkpoint_name(backbone: str, seed: int = 0) -> str:
    return f"pretrain_{backbone}_s{seed}.pth"


# the backbones `pretrain` can make a start for (runs.pretrain.PRETRAIN_RUNS has their recipes)
PRETRAIN_BACKBONES = ("resnet50", "hrnet_w32", "efficientnet_lite0", "efficientnet_lite2")
