# Cross-species pose pretraining: the course baseline (this file inherits it) trained on the
# other animals of Animal-Pose (dogs, sheep, horses, cows; the cats' 20 keypoints), from
# scratch, as the offline substitute for ImageNet weights.  The whole pose model (backbone
# and head) then starts the cat runs (`run --init`), because the keypoints are the same.
#
# What differs from the baseline, and why (a from-scratch recipe, not the fine-tuning one):
# - Adam lr 1e-3 (1e-5 barely moves a randomly initialised network), batch 64,
#   a linear warm-up over 500 iterations, then a cosine decay to 1e-3 x lr;
# - 100 epochs, validation every 10 on the held-out other animals;
# - stronger geometric augmentation (MMPose 1.x values): half-body (p 0.3), shift 0.16
#   (p 0.3), scale (0.65, 1.35), rotation +-40 deg (p 0.6).
# Codec, input size and model are the baseline's, so the head transfers as it is.
# The HRNet-W32 start uses the same file with the study's `backbone=hrnet_w32` knob.
_base_ = ['./res50_cats_128x128.py']

train_cfg = dict(max_epochs=100, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=100, T_max=100, eta_min_ratio=1e-3, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=64, enable=False)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(type='RandomHalfBody', min_total_keypoints=9, prob=0.3),
    dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3, scale_factor=(0.65, 1.35),
         scale_prob=1.0, rotate_factor=40.0, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
