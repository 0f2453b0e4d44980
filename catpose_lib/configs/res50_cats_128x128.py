# The course baseline ``res50_cats_128x128`` (written for MMPose 0.x), in MMPose 1.x terms:
# SimpleBaseline = ResNet-50 + HeatmapHead with 3 deconv layers, 128x128 input, 32x32
# heatmaps (MSRAHeatmap, sigma 1), MSE loss with target weights, Adam lr 1e-5 with a
# linear warm-up over 10 iterations, x0.1 steps at epochs 10 and 15, 20 epochs, batch 32,
# flip test with heatmap shift, validation each epoch, best checkpoint by coco/AP.
#
# Dataset specifics (data_root, keypoint scheme, ann files) are filled in by
# catpose_lib.recipe.config.build_config(); experiments override this file there.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py']

# runtime
train_cfg = dict(max_epochs=20, val_interval=1)
randomness = dict(seed=0)

# optimizer: Adam, lr 1e-5
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-5))

# learning policy: linear warm-up (10 iterations, from 0.001 x lr), steps at 10 and 15
param_scheduler = [
    dict(type='LinearLR', begin=0, end=10, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=20, milestones=[10, 15], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32, enable=False)

# hooks: keep the last checkpoint every epoch (resume) and the best by coco/AP
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='coco/AP', rule='greater'))

# codec: 128x128 input, 32x32 heatmaps, Gaussian sigma 1 (input_size is (w, h))
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32), sigma=1)

# model: SimpleBaseline; no pretrained weights by default (nothing can be downloaded here;
# build_config(pretrained=PATH_OR_URL) sets init_cfg, e.g. 'torchvision://resnet50').
model = dict(
    backbone=dict(type='ResNet', depth=50, init_cfg=None),
    head=dict(type='HeatmapHead', in_channels=2048, out_channels=17,
              deconv_out_channels=(256, 256, 256), deconv_kernel_sizes=(4, 4, 4),
              loss=dict(type='KeypointMSELoss', use_target_weight=True),
              decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

# Data augmentation of the course (0.x): TopDownRandomFlip(0.5) and
# TopDownGetRandomScaleRotation(rot_factor=10, scale_factor=0.2, rot_prob=0.6).
# 0.x draws s = clip(N(1, sf), 1-sf, 1+sf) and r = clip(N(0, rf), -2rf, 2rf) w.p. 0.6.
# 1.x RandomBBoxTransform draws from a normal truncated to [-1, 1] (std ~0.54) times the
# factor: scale = mu + tn * (max-min)/2, rotate = tn * rotate_factor.  So the same supports
# are scale_factor=(1-sf, 1+sf) = (0.8, 1.2) and rotate_factor = 2*rf = 20 (std ~10.8 deg,
# close to 0.x's rf=10); rotate_prob 0.6 as in 0.x.  0.x had no random shift in the
# baseline: shift_prob=0.  No half-body in the baseline (block 01 adds it).
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(type='RandomBBoxTransform', shift_prob=0.0, scale_factor=(0.8, 1.2), scale_prob=1.0,
         rotate_factor=20.0, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]

dataset_type = 'CocoDataset'
train_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_mode='topdown', data_root='',
                 ann_file='annotations/train.json', data_prefix=dict(img='images/'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type=dataset_type, data_mode='topdown', data_root='',
                 ann_file='annotations/val.json', bbox_file=None,
                 data_prefix=dict(img='images/'), test_mode=True, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file='annotations/val.json')
test_evaluator = val_evaluator
