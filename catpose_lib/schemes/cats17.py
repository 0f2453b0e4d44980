# The course's 17 cat keypoints: MMPose's AP-10K metainfo (same names, order, flip pairs, sigmas,
# joint weights), with three differences, which are the only lines here:
# - colours by side (left green, right orange, centre blue), as the overlays' key says;
# - R_F_Paw is an upper-body keypoint (AP-10K marks it lower; its left twin is upper), which
#   RandomHalfBody uses;
# - no eye-to-eye link in the skeleton.
# Loadable with ``mmpose.datasets.datasets.utils.parse_pose_metainfo(dict(from_file=...))``.
_base_ = ['mmpose::_base_/datasets/ap10k.py']

_L, _R, _C = [0, 255, 0], [255, 128, 0], [51, 153, 255]
dataset_info = dict(
    dataset_name='cats17',
    paper_info=dict(author='catpose', title='Cat pose estimation course keypoints (AP-10K, 17 keypoints)',
                    container='', year='2026', homepage=''),
    keypoint_info={5: dict(color=_L), 6: dict(color=_L), 8: dict(color=_R), 9: dict(color=_R),
                   10: dict(color=_R, type='upper'), 11: dict(color=_L), 12: dict(color=_L),
                   14: dict(color=_R), 15: dict(color=_R), 16: dict(color=_R)},
    skeleton_info={'_delete_': True, **{
        i: dict(link=link, id=i, color=color) for i, (link, color) in enumerate([
            (('L_Eye', 'Nose'), _L), (('R_Eye', 'Nose'), _R), (('Nose', 'Neck'), _C),
            (('Neck', 'Root of tail'), _C), (('Neck', 'L_Shoulder'), _L), (('L_Shoulder', 'L_Elbow'), _L),
            (('L_Elbow', 'L_F_Paw'), _L), (('Neck', 'R_Shoulder'), _R), (('R_Shoulder', 'R_Elbow'), _R),
            (('R_Elbow', 'R_F_Paw'), _R), (('Root of tail', 'L_Hip'), _L), (('L_Hip', 'L_Knee'), _L),
            (('L_Knee', 'L_B_Paw'), _L), (('Root of tail', 'R_Hip'), _R), (('R_Hip', 'R_Knee'), _R),
            (('R_Knee', 'R_B_Paw'), _R)])}},
)
