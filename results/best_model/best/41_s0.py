# run 41 (best), seed 0: Lite2 192 / 48, DARK, sigma 2, 30 epochs cosine; key 9d3d29b6f71d
# knobs, in layers (a later layer wins; recipe/knobs.py says what each does):
#   base   baseline: {}
#   run    41: {'backbone': 'efficientnet_lite2', 'head_channels': 256, 'lr': 0.0005, 'batch_size': 32, 'lr_policy': 'cosine', 'warmup_iters': 300, 'sigma': 2, 'unbiased': True, 'halfbody_prob': 0.3, 'shift_factor': 0.16, 'shift_prob': 0.3, 'scale_factor': (0.65, 1.35), 'rotate_factor': 40, 'input_size': 192, 'heatmap_size': 48, 'epochs': 30}
#   shared (every run): {}
# settings: budget full, epoch floor 1, seed 0
# start (load_from at run time): pretrain_efficientnet_lite2_s0.pth sha256 a79458eb14d40f3fda168dbf4fce1e18ef6137f3e767ed92a6011c0a7094827a
# data (data_root at run time): fingerprint ada17f89635ce9db
auto_scale_lr = dict(base_batch_size=32, enable=False)
backend_args = dict(backend='local')
catpose = dict(budget='full', scheme='animalpose20', seed=0)
codec = dict(
    blur_kernel_size=9,
    heatmap_size=(
        48,
        48,
    ),
    input_size=(
        192,
        192,
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
    backbone=dict(
        arch='lite2',
        init_cfg=None,
        out_indices=(3, ),
        type='EfficientNetLite'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            127.5,
            127.5,
            127.5,
        ],
        std=[
            128.0,
            128.0,
            128.0,
        ],
        type='PoseDataPreprocessor'),
    head=dict(
        decoder=dict(
            blur_kernel_size=9,
            heatmap_size=(
                48,
                48,
            ),
            input_size=(
                192,
                192,
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
        in_channels=352,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        out_channels=20,
        type='HeatmapHead'),
    test_cfg=dict(flip_mode='heatmap', flip_test=True, shift_heatmap=True),
    type='TopdownPoseEstimator')
optim_wrapper = dict(
    dtype='bfloat16',
    optimizer=dict(_scope_='mmpose', lr=0.0005, type='Adam'),
    type='CPUAmpOptimWrapper')
param_scheduler = [
    dict(
        begin=0, by_epoch=False, end=300, start_factor=0.001, type='LinearLR'),
    dict(
        T_max=30,
        begin=0,
        by_epoch=True,
        end=30,
        eta_min_ratio=0.001,
        type='CosineAnnealingLR'),
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
        metainfo=dict(from_file='configs/_base_/datasets/animalpose.py'),
        pipeline=[
            dict(budget_mb=2048, type='CachedLoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(input_size=(
                192,
                192,
            ), type='TopdownAffine'),
            dict(type='PackPoseInputs'),
        ],
        test_mode=True,
        type='CocoDataset'),
    drop_last=False,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(
        _scope_='mmpose', round_up=False, shuffle=False,
        type='DefaultSampler'))
test_evaluator = dict(
    _scope_='mmpose', ann_file='annotations/val.json', type='CocoMetric')
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        _scope_='mmpose',
        ann_file='annotations/train.json',
        data_mode='topdown',
        data_prefix=dict(img='images/'),
        data_root='',
        metainfo=dict(from_file='configs/_base_/datasets/animalpose.py'),
        pipeline=[
            dict(budget_mb=2048, type='CachedLoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(direction='horizontal', prob=0.5, type='RandomFlip'),
            dict(min_total_keypoints=9, prob=0.3, type='RandomHalfBody'),
            dict(
                rotate_factor=40.0,
                rotate_prob=0.6,
                scale_factor=(
                    0.65,
                    1.35,
                ),
                scale_prob=1.0,
                shift_factor=0.16,
                shift_prob=0.3,
                type='RandomBBoxTransform'),
            dict(input_size=(
                192,
                192,
            ), type='TopdownAffine'),
            dict(
                encoder=dict(
                    blur_kernel_size=9,
                    heatmap_size=(
                        48,
                        48,
                    ),
                    input_size=(
                        192,
                        192,
                    ),
                    sigma=2.0,
                    type='MSRAHeatmap',
                    unbiased=True),
                type='GenerateTarget'),
            dict(type='PackPoseInputs'),
        ],
        type='CocoDataset'),
    num_workers=1,
    persistent_workers=True,
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
        metainfo=dict(from_file='configs/_base_/datasets/animalpose.py'),
        pipeline=[
            dict(budget_mb=2048, type='CachedLoadImage'),
            dict(type='GetBBoxCenterScale'),
            dict(input_size=(
                192,
                192,
            ), type='TopdownAffine'),
            dict(type='PackPoseInputs'),
        ],
        test_mode=True,
        type='CocoDataset'),
    drop_last=False,
    num_workers=1,
    persistent_workers=True,
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
