"""The reference study (the course study on cat pose) as data.

Every experiment is a number, a block, a human label (Policy, Parameter) and a small
override of its block's base config, written in the knobs of
:mod:`catpose_lib.recipe.knobs`.  Knobs inside a block are complete with respect to
the block's base (e.g. run 3 lists both half-body and shift).  ``ref_no`` is the run's
number in the reference study where ours had to be renumbered to stay unique.

Each block starts from a base: the baseline, or the best finished run of the previous block
(the reference study's path).  The base is recorded in every result.
"""
import re
from dataclasses import dataclass, field

BLOCKS = ("augmentation", "epochs", "lr_batch", "resolution", "backbone", "optimizer")
BLOCK_NUMBERS = {name: f"{i + 1:02d}" for i, name in enumerate(BLOCKS)}
SEARCH = "search"  # Optuna studies' trials: block ``search/<study>`` (workers.search)
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def search_block(study: str) -> str:
    """The block of a study's trials: results in ``RESULTS/search/<study>/``."""
    if not STUDY_NAME.fullmatch(str(study)):
        raise ValueError(f"study name {study!r}: letters, digits, '_', '.', '-', starting with a letter or digit")
    return f"{SEARCH}/{study}"


@dataclass(frozen=True)
class Experiment:
    no: int
    block: str
    policy: str
    parameter: str
    knobs: dict = field(default_factory=dict)
    ref_no: int = None
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.no:02d}"


BASELINE = Experiment(0, "baseline", "Baseline", "ResNet-50, 128x128, Adam 1e-5, bs 32, 20 ep", {}, 0)

_HALF = dict(halfbody_prob=0.3)
_SHIFT = dict(shift_factor=0.15, shift_prob=0.3)
_ALBU = dict(albumentations=True)
_PHOTO = dict(photometric=True)
_E150 = dict(epochs=150)
_R256 = dict(input_size=256, heatmap_size=64)
# the reference study's 0.x rot_factor 40 / scale_factor 0.5, in MMPose 1.x values (see the
# baseline config's comment: 1.x rotate_factor = 2 x 0.x rot_factor, scale (1 - sf, 1 + sf))
_STRONG = dict(rotate_factor=80, scale_factor=(0.5, 1.5), photometric=True, halfbody_prob=0.3,
               shift_factor=0.15, shift_prob=0.3, sigma=2)


def _e(no, block, policy, parameter, ref_no=None, note="", **knobs):
    return Experiment(no, block, policy, parameter, knobs, no if ref_no is None else ref_no, note)


STUDY = (
    # 01 augmentation (20 epochs each)
    _e(1, "augmentation", "Data augmentation", "+ half-body (8 joints, p 0.3)", **_HALF),
    _e(2, "augmentation", "Data augmentation", "+ random shift (0.15)", **_SHIFT),
    _e(3, "augmentation", "Data augmentation", "half-body + shift (1 + 2)", **_HALF, **_SHIFT),
    _e(4, "augmentation", "Data augmentation", "3 + Albumentations (pixel-level)", **_HALF, **_SHIFT, **_ALBU),
    _e(5, "augmentation", "Data augmentation", "4 + photometric distortion", **_HALF, **_SHIFT, **_ALBU,
       **_PHOTO),
    # 02 epochs (LR steps move with the length)
    _e(6, "epochs", "Epochs", "100 epochs", epochs=100),
    _e(7, "epochs", "Epochs", "200 epochs", epochs=200),
    _e(8, "epochs", "Epochs", "150 epochs", epochs=150),
    # 03 learning rate x batch size at 150 epochs
    _e(9, "lr_batch", "LR x batch size", "lr 1e-4, bs 16", **_E150, lr=1e-4, batch_size=16),
    _e(10, "lr_batch", "LR x batch size", "lr 1e-4, bs 32", **_E150, lr=1e-4, batch_size=32),
    _e(11, "lr_batch", "LR x batch size", "lr 1e-4, bs 24", **_E150, lr=1e-4, batch_size=24),
    _e(12, "lr_batch", "LR x batch size", "lr 1e-4, bs 64", **_E150, lr=1e-4, batch_size=64),
    _e(13, "lr_batch", "LR x batch size", "lr 1e-4, bs 48", **_E150, lr=1e-4, batch_size=48),
    _e(14, "lr_batch", "LR x batch size", "lr 1e-3, bs 32", **_E150, lr=1e-3, batch_size=32,
       note="reference study: not converge"),
    _e(15, "lr_batch", "LR x batch size", "lr 5e-4, bs 32", **_E150, lr=5e-4, batch_size=32),
    _e(16, "lr_batch", "LR x batch size", "lr 5e-4, bs 64", **_E150, lr=5e-4, batch_size=64),
    _e(17, "lr_batch", "LR x batch size", "lr 5e-4, bs 48", **_E150, lr=5e-4, batch_size=48),
    _e(18, "lr_batch", "LR x batch size", "lr 5e-4, bs 24", **_E150, lr=5e-4, batch_size=24),
    _e(19, "lr_batch", "LR x batch size", "lr 5e-4, bs 32, 200 epochs", epochs=200, lr=5e-4, batch_size=32),
    _e(20, "lr_batch", "LR x batch size", "lr 5e-4, bs 32, 175 epochs", epochs=175, lr=5e-4, batch_size=32),
    # 04 input / heatmap resolution
    _e(21, "resolution", "Resolution", "image 256 / heatmap 64", **_R256),
    _e(22, "resolution", "Resolution", "image 192 / heatmap 48", input_size=192, heatmap_size=48),
    _e(23, "resolution", "Resolution", "256 / 64, bs 64", **_R256, batch_size=64),
    _e(24, "resolution", "Resolution", "256 / 64, bs 48", **_R256, batch_size=48),
    _e(25, "resolution", "Resolution", "256 / 64, bs 64, 210 epochs", **_R256, batch_size=64, epochs=210),
    _e(26, "resolution", "Resolution", "256 / 64 + stronger augmentation, sigma 2", **_R256, **_STRONG),
    # 05 backbone (reference study's 26-30)
    _e(27, "backbone", "Backbone", "HRNet-W32, bs 64", ref_no=26, backbone="hrnet_w32", batch_size=64),
    _e(28, "backbone", "Backbone", "HRNet-W32, bs 32", ref_no=27, backbone="hrnet_w32", batch_size=32),
    _e(29, "backbone", "Backbone", "HRNet-W32, bs 48", ref_no=28, backbone="hrnet_w32", batch_size=48),
    _e(30, "backbone", "Backbone", "HRNet-W32, bs 40", ref_no=29, backbone="hrnet_w32", batch_size=40),
    _e(31, "backbone", "Backbone", "HRNet-W32, bs 36", ref_no=30, backbone="hrnet_w32", batch_size=36),
    # 06 optimizer (reference study's 31 = Adamax; SGD and AdamW added for comparison)
    _e(32, "optimizer", "Optimizer", "Adamax", ref_no=31, optimizer="Adamax"),
    _e(33, "optimizer", "Optimizer", "SGD (momentum 0.9)", ref_no=-1, optimizer="SGD", momentum=0.9),
    _e(34, "optimizer", "Optimizer", "AdamW (weight decay 1e-4)", ref_no=-1, optimizer="AdamW",
       weight_decay=1e-4),
    # beyond the reference study: EfficientNet-Lite2 (ImageNet weights from its installed package)
    # on block 05's base; 35 starts from ImageNet -> the other animals (`pretrain`), 36 from ImageNet alone
    _e(35, "backbone", "Backbone", "EfficientNet-Lite2, ImageNet -> other animals", ref_no=-1,
       backbone="efficientnet_lite2", head_channels=256, note="beyond the reference study"),
    _e(36, "backbone", "Backbone", "EfficientNet-Lite2, ImageNet alone", ref_no=-1,
       backbone="efficientnet_lite2", head_channels=256, pretrained="imagenet", note="beyond the reference study"),
)

# The best model catpose makes on 2 CPU cores, beyond the study: recipes chosen on val only, each
# complete (its base is the baseline), trained at full budget from the EfficientNet-Lite2 start
# (ImageNet -> the other animals; `run best --start ...`).  Augmentation as that start's pretraining.
BEST = "best"
_LITE2_FT = dict(backbone="efficientnet_lite2", head_channels=256, lr=5e-4, batch_size=32, lr_policy="cosine",
                 warmup_iters=300, sigma=2, unbiased=True, halfbody_prob=0.3, shift_factor=0.16, shift_prob=0.3,
                 scale_factor=(0.65, 1.35), rotate_factor=40)
BEST_RUNS = (
    _e(41, BEST, "Best model", "Lite2 192 / 48, DARK, sigma 2, 30 epochs cosine", ref_no=-1,
       **_LITE2_FT, input_size=192, heatmap_size=48, epochs=30),
    _e(42, BEST, "Best model", "Lite2 256 / 64, DARK, sigma 2, 30 epochs cosine", ref_no=-1,
       **_LITE2_FT, input_size=256, heatmap_size=64, epochs=30),
    _e(43, BEST, "Best model", "41 from ImageNet alone (no cross-species pretraining)", ref_no=-1,
       **_LITE2_FT, input_size=192, heatmap_size=48, epochs=30, pretrained="imagenet"),
)


def resolve_block(block: str) -> str:
    """Accept 'lr_batch', '03', '3' or '03_lr_batch'; also 'baseline', 'pretrain', 'best' and a
    search's 'search/<study>'."""
    key = str(block).strip()
    if key in ("baseline", "00", "0", "00_baseline"):
        return "baseline"
    if key in ("pretrain", BEST):
        return key
    if key == SEARCH or (key.startswith(SEARCH + "/") and STUDY_NAME.fullmatch(key[len(SEARCH) + 1:])):
        return key
    for name, number in BLOCK_NUMBERS.items():
        if key in (name, number, str(int(number)), f"{number}_{name}"):
            return name
    raise ValueError(f"unknown block {block!r}; blocks: "
                     + ", ".join(f"{n}_{b}" for b, n in BLOCK_NUMBERS.items()))


def block_experiments(block: str, ids=None) -> list:
    block = resolve_block(block)
    exps = [e for e in STUDY + BEST_RUNS if e.block == block]
    if ids:
        wanted = {int(i) for i in ids}
        unknown = wanted - {e.no for e in exps}
        if unknown:
            raise ValueError(f"experiments {sorted(unknown)} are not in block {block} "
                             f"(it has {[e.no for e in exps]})")
        exps = [e for e in exps if e.no in wanted]
    return exps


def previous_block(block: str):
    """The study block before ``block`` (None for the first, and for blocks outside the study)."""
    block = resolve_block(block)
    i = BLOCKS.index(block) if block in BLOCKS else 0
    return BLOCKS[i - 1] if i > 0 else None


def get_experiment(no: int) -> Experiment:
    if int(no) == 0:
        return BASELINE
    for e in STUDY + BEST_RUNS:
        if e.no == int(no):
            return e
    raise ValueError(f"no experiment number {no}")
