# HRNet-W32 as MMPose configures it for top-down heatmaps (its COCO 256x192 config): the
# `backbone=hrnet_w32` knob takes this file's model.backbone (without its ImageNet init_cfg,
# which would be downloaded) and the head that reads its 32 channels at stride 4.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py']
