"""Where whole-model start checkpoints live and how they are named (``pretrain`` writes them,
protocols point each backbone at one)."""
from catpose_lib.data.default_data import CACHE

STARTS_DIR = CACHE / "pretrained"


def start_checkpoint_name(backbone: str, seed: int = 0) -> str:
    return f"pretrain_{backbone}_s{seed}.pth"


# the backbones `pretrain` can make a start for (runs.pretrain.PRETRAIN_RUNS has their recipes)
PRETRAIN_BACKBONES = ("resnet50", "hrnet_w32", "efficientnet_lite0", "efficientnet_lite2")

# the pretraining of each start, as a fraction of configs/pretrain_animals.py's 100 epochs, per
# protocol: what the committed starts were trained with (results/real_cats/pretrain/9N_s0.json)
PRETRAIN_BUDGET = {"cpu": {"resnet50": "0.3", "hrnet_w32": "0.3", "efficientnet_lite0": "0.25",
                           "efficientnet_lite2": "0.25"},
                   "full": {b: "full" for b in PRETRAIN_BACKBONES}}
