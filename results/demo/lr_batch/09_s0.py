# run 09 (lr_batch), seed 0: lr 1e-4, bs 16; key 3fb4b6999c7d
# knobs, in layers (a later layer wins; recipe/knobs.py says what each does):
#   base   baseline: {}
#   run    09: {'epochs': 150, 'lr': 0.0001, 'batch_size': 16}
#   shared (every run): {'resnet_depth': 18, 'input_size': 64, 'heatmap_size': 16, 'sigma': 2, 'unbiased': True}
# settings: budget 0.05, epoch floor 8, protocol demo, seed 0
# start (load_from at run time): resnet18_64px_synth_easy_seed1.fresh-output.pth sha256 8d4336f4678c0c0807dbf0f00c8a3f1fbe82dc9f7cfe394b3930208b086094dd
# data (data_root at run time): fingerprint 51446d9769f483a8
auto_scale_lr = dict(base_batch_size=32, enable=False)
backend_args = dict(backend='local')
catpose = dict(budget='0.05', protocol='demo', scheme='cats17', seed=0)
codec = dict(
    blur_kernel_size=3,
    heatmap_size=(
        16,
        16,
    ),
    input_size=(
        64,
        64,
    ),
    sigma=2.0,
    type='MSRAHeatmap',
    unbiased=True)
custom_hooks = [
    dict(_scope_='mmpose', type='SyncBuffersHook'),
    dict(type='ChannelsLastHook'),
    dict(type='DivergenceGuardHook'),
    dict(type='StudyHistoryHook'),
    dict(type='CatchUpValidationHook'),
    dict(type='BestValPredictionsHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'catpose_lib.runs.registered',
    ])
data_mode = 'topdown'
dataset_type = 'CocoDataset'
default_hooks = dict(
    badcase=dict(
        _scope_='mmpose',
        badcase_thr=5,
        enable=False,
        metric_type='loss',
        out_dir='badcase',
        type='BadCaseAnalysisHook'),
    checkpoint=dict(
        _scope_='mmpose',
        interval=1,
        max_keep_ckpts=1,
        rule='greater',
        save_best='coco/AP',
        type='CheckpointHook'),
    logger=dict(_scope_='mmpose', interval=10, type='LoggerHook'),
    param_scheduler=dict(_scope_='mmpose', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmpose', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmpose', type='IterTimerHook'),
    visualization=dict(
        _scope_='mmpose', enable=False, type='PoseVisualizationHook'))
default_scope = 'mmpose'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='gloo'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
log_processor = dict(
    _scope_='mmpose',
    by_epoch=True,
    num_digits=6,
    type='LogProcessor',
    window_size=50)
model = dict(
    _scope_='mmpose',
    backbone=dict(depth=18, init_cfg=None, type='ResNet'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        std=[
            58.395,
            57.12,
            57.375,
        ],
        type='PoseDataPreprocessor'),
    head=dict(
        decoder=dict(
            blur_kernel_size=3,
            heatmap_size=(
                16,
                16,
            ),
            input_size=(
                64,
                64,
            ),
            sigma=2.0,
            type='MSRAHeatmap',
            unbiased=True),
        deconv_kernel_sizes=(
            4,
            4,
            4,
        ),
        deconv_out_channels=(
            256,
            256,
            256,
        ),
        in_channels=512,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        out_channels=17,
        type='HeatmapHead'),
    test_cfg=dict(flip_mode='heatmap', flip_test=True, shift_heatmap=True),
    type='TopdownPoseEstimator')
optim_wrapper = dict(optimizer=dict(_scope_='mmpose', lr=0.0001, type='Adam'))
param_scheduler = [
    dict(begin=0, by_epoch=False, end=2, start_factor=0.001, type='LinearLR'),
    dict(
        begin=0,
        by_epoch=True,
        end=8,
        gamma=0.1,
        milestones=[
            4,
            6,
        ],
        type='MultiStepLR'),
]
randomness = dict(deterministic=False, seed=0)
test_cfg = dict()
test_dataloader = dict(
    batch_size=32,
    dataset=dict(
        _scope_='mmpose',
        ann_file='annotations/val.json',
        bbox_file=None,
        data_mode='topdown',
        data_prefix=dict(img='images/'),
        data_root='',
        metainfo=dict(from_file='catpose_lib/schemes/cats17.py'),
        pipeline=[
            dict(budget_mb=2048, type='CachedLoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(input_size=(
                64,
                64,
            ), type='TopdownAffine'),
            dict(type='PackPoseInputs'),
        ],
        test_mode=True,
        type='CocoDataset'),
    drop_last=False,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(
        _scope_='mmpose', round_up=False, shuffle=False,
        type='DefaultSampler'))
test_evaluator = dict(
    _scope_='mmpose', ann_file='annotations/val.json', type='CocoMetric')
train_cfg = dict(by_epoch=True, max_epochs=8, val_interval=1)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _scope_='mmpose',
        ann_file='annotations/train.json',
        data_mode='topdown',
        data_prefix=dict(img='images/'),
        data_root='',
        metainfo=dict(from_file='catpose_lib/schemes/cats17.py'),
        pipeline=[
            dict(budget_mb=2048, type='CachedLoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(direction='horizontal', prob=0.5, type='RandomFlip'),
            dict(
                rotate_factor=20.0,
                rotate_prob=0.6,
                scale_factor=(
                    0.8,
                    1.2,
                ),
                scale_prob=1.0,
                shift_prob=0.0,
                type='RandomBBoxTransform'),
            dict(input_size=(
                64,
                64,
            ), type='TopdownAffine'),
            dict(
                encoder=dict(
                    blur_kernel_size=3,
                    heatmap_size=(
                        16,
                        16,
                    ),
                    input_size=(
                        64,
                        64,
                    ),
                    sigma=2.0,
                    type='MSRAHeatmap',
                    unbiased=True),
                type='GenerateTarget'),
            dict(type='PackPoseInputs'),
        ],
        type='CocoDataset'),
    num_workers=0,
    persistent_workers=False,
    sampler=dict(_scope_='mmpose', shuffle=True, type='DefaultSampler'))
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(direction='horizontal', prob=0.5, type='RandomFlip'),
    dict(
        rotate_factor=20.0,
        rotate_prob=0.6,
        scale_factor=(
            0.8,
            1.2,
        ),
        scale_prob=1.0,
        shift_prob=0.0,
        type='RandomBBoxTransform'),
    dict(input_size=(
        128,
        128,
    ), type='TopdownAffine'),
    dict(
        encoder=dict(
            heatmap_size=(
                32,
                32,
            ),
            input_size=(
                128,
                128,
            ),
            sigma=1,
            type='MSRAHeatmap'),
        type='GenerateTarget'),
    dict(type='PackPoseInputs'),
]
val_cfg = dict()
val_dataloader = dict(
    batch_size=32,
    dataset=dict(
        _scope_='mmpose',
        ann_file='annotations/val.json',
        bbox_file=None,
        data_mode='topdown',
        data_prefix=dict(img='images/'),
        data_root='',
        metainfo=dict(from_file='catpose_lib/schemes/cats17.py'),
        pipeline=[
            dict(budget_mb=2048, type='CachedLoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(input_size=(
                64,
                64,
            ), type='TopdownAffine'),
            dict(type='PackPoseInputs'),
        ],
        test_mode=True,
        type='CocoDataset'),
    drop_last=False,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(
        _scope_='mmpose', round_up=False, shuffle=False,
        type='DefaultSampler'))
val_evaluator = dict(
    _scope_='mmpose', ann_file='annotations/val.json', type='CocoMetric')
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(input_size=(
        128,
        128,
    ), type='TopdownAffine'),
    dict(type='PackPoseInputs'),
]
vis_backends = [
    dict(_scope_='mmpose', type='LocalVisBackend'),
]
visualizer = dict(
    _scope_='mmpose',
    type='PoseLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
