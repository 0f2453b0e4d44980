"""Procedurally drawn synthetic cats: the package's embedded default dataset.

Every image is drawn with numpy + OpenCV from its own random generator, seeded by
``(seed, split, index)``, so an image never depends on generation order and the same seed
gives byte-identical files.  Images are square, ``size`` x ``size`` pixels (default
256 x 256), JPEG quality 90.  :func:`generate_dataset` writes the course layout (see
:mod:`catpose_lib.data.layout`) with the cats17 keypoints.

The 2.5D cat model
------------------
A cat is built in a *canonical side view*: x points from the root of the tail (0, 0) to the
neck (1, 0.04), y points up, lengths are in body lengths.  Paired parts are *near* (towards
the viewer, drawn last) or *far* (drawn first, darker, mostly hidden behind the body).  A cat
is placed in the image by ``centre``, ``scale`` (px per body length), ``rotation`` (in-plane,
radians) and ``heading``: +1 when its head points to image right with its back up.  Such a
cat shows its RIGHT side, so near = R; with heading -1 near = L.  Mirroring an image
(x -> W-1-x) therefore gives exactly the cat ``Cat.mirrored(W)`` (same pose, heading and
rotation negated), whose labels are the cats17 swap pairs of the original: horizontal flip
augmentation and flip test stay consistent with the labels.  The head has its own small 3D
model (yaw towards the viewer), so in profile the far eye is hidden (v=1).

Labels follow COCO: v=2 visible, v=1 inside the image but hidden (behind the body, a nearer
limb or another cat; decided from a per-pixel part-id map), v=0 with x=y=0 outside the
image.  The bbox is the tight box of the cat's own drawn silhouette clipped to the image, and
the area is that silhouette's pixel count.  Pixel centres sit on integer coordinates.

Difficulty
----------
``difficulty`` sets how much gets in the way of the keypoints (``DIFFICULTIES``): background
clutter (shapes behind the cat), occlusion (a second cat, a cat cut by the border) and fur
texture (patterns).  ``hard``, the default, is the dataset as it has always been drawn
(byte-identical for the same seed); ``medium`` halves the clutter and the occlusion and keeps
solid and tabby fur; ``easy`` has a smooth background, one whole cat per image and solid fur.
Poses, placement, lighting, blur and noise are the same at every level.
"""
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from catpose_lib.data.layout import annotation_path, atomic_write_json, staged_output_dir
from catpose_lib.errors import CatposeError
from catpose_lib.schemes import scheme_info

dataset_info = scheme_info("cats17")
KEYPOINT_NAMES = [dataset_info["keypoint_info"][i]["name"] for i in range(17)]
FLIP_INDICES = [KEYPOINT_NAMES.index(dataset_info["keypoint_info"][i]["swap"] or name)
                for i, name in enumerate(KEYPOINT_NAMES)]
SKELETON = [[KEYPOINT_NAMES.index(a) + 1, KEYPOINT_NAMES.index(b) + 1]
            for a, b in (link["link"] for link in dataset_info["skeleton_info"].values())]
CATEGORY = dict(id=1, name="cat", supercategory="animal", keypoints=KEYPOINT_NAMES,
                skeleton=SKELETON)
DEFAULT_SIZE = 256
JPEG_QUALITY = 90
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}

# What each difficulty draws: background shapes (a range for rng.integers), the chance of a
# second cat, of a cat cut by the image border, and the fur patterns.  'hard' is the original.
PATTERNS = ("solid", "tabby", "spotted", "patched")
DIFFICULTIES = {
    "easy": dict(shapes=(0, 1), two_cats=0.0, cut=0.0, patterns=("solid",)),
    "medium": dict(shapes=(1, 8), two_cats=0.15, cut=0.09, patterns=("solid", "tabby")),
    "hard": dict(shapes=(3, 16), two_cats=0.3, cut=0.18, patterns=PATTERNS),
}
DEFAULT_DIFFICULTY = "hard"


def difficulty_level(difficulty) -> dict:
    """The settings of a difficulty name (``DIFFICULTIES``); CatposeError for another name."""
    if difficulty not in DIFFICULTIES:
        raise CatposeError(f"difficulty must be one of {sorted(DIFFICULTIES)}, not {difficulty!r}")
    return DIFFICULTIES[difficulty]

# Part ids painted into the id map (value = slot * _IDS_PER_CAT + part), back to front.
(FAR_FORE_UP, FAR_FORE_LOW, FAR_HIND_UP, FAR_HIND_LOW, NEAR_FORE_UP, NEAR_FORE_LOW,
 NEAR_HIND_UP, NEAR_HIND_LOW, FAR_EAR, TAIL, BODY, NECK, HEAD, NEAR_EAR, NEAR_EYE, FAR_EYE,
 NOSE) = range(1, 18)
_IDS_PER_CAT = 20
_LIMB_PARTS = {("far", "fore"): (FAR_FORE_UP, FAR_FORE_LOW),
               ("far", "hind"): (FAR_HIND_UP, FAR_HIND_LOW),
               ("near", "fore"): (NEAR_FORE_UP, NEAR_FORE_LOW),
               ("near", "hind"): (NEAR_HIND_UP, NEAR_HIND_LOW)}

# Canonical skeleton (body lengths, y up).
_LIMB_NAMES = {"fore": ("Shoulder", "Elbow", "F_Paw"), "hind": ("Hip", "Knee", "B_Paw")}
_ROOT, _NECK = np.array([0.0, 0.0]), np.array([1.0, 0.04])
_LIMB_TOP = {"fore": np.array([0.88, -0.12]), "hind": np.array([0.14, -0.12])}
_LIMB_LENGTHS = {"fore": (0.27, 0.30), "hind": (0.30, 0.36)}
_LIMB_RADII = {"fore": (0.085, 0.055, 0.045), "hind": (0.12, 0.06, 0.045)}
_ORIGIN = np.array([0.5, -0.15])        # canonical point placed at Cat.centre
_SIDE_SHADE = {"far": 0.68, "near": 1.0}
_TEX_U, _TEX_V = (-1.4, 2.4), (-1.4, 1.0)  # canonical extent covered by the fur noise grids

# Colours are BGR (OpenCV order).
_FUR = [(40, 120, 215), (150, 200, 235), (125, 125, 130), (40, 40, 45), (50, 85, 125),
        (225, 230, 235), (175, 175, 180)]
_IRIS = [(60, 200, 190), (30, 160, 220), (80, 190, 90), (220, 170, 90)]
_PUPIL = (15, 15, 15)
_NOSE_PINK, _EAR_PINK, _PAW_LIGHT = (150, 140, 235), (170, 160, 225), (205, 210, 225)


@dataclass(frozen=True)
class Cat:
    """One cat: canonical pose and look plus its placement in the image (see module doc)."""
    centre: tuple      # image position (px) of the canonical point _ORIGIN
    scale: float       # px per body length
    heading: int       # +1: head to image right, right side near; -1: mirrored
    rotation: float    # in-plane rotation, radians
    pose: dict         # joint angles (radians) and proportions (body lengths)
    look: dict         # colours, fur pattern and noise grids

    def mirrored(self, width: int) -> "Cat":
        """The cat as seen in the horizontally mirrored image (its L/R labels swap)."""
        return replace(self, centre=(width - 1 - self.centre[0], self.centre[1]),
                       heading=-self.heading, rotation=-self.rotation)

    def to_image(self, points) -> np.ndarray:
        """Canonical points (N, 2) -> image pixel coordinates (N, 2)."""
        q = np.asarray(points, float) - _ORIGIN
        q = np.stack([self.heading * q[:, 0], -q[:, 1]], axis=1)
        c, s = np.cos(self.rotation), np.sin(self.rotation)
        return self.scale * q @ np.array([[c, s], [-s, c]]) + np.asarray(self.centre, float)

    def to_canonical(self, x, y):
        """Image coordinates (arrays) -> canonical (u, v); inverse of :meth:`to_image`."""
        dx, dy = (x - self.centre[0]) / self.scale, (y - self.centre[1]) / self.scale
        c, s = np.cos(self.rotation), np.sin(self.rotation)
        return self.heading * (c * dx + s * dy) + _ORIGIN[0], (s * dx - c * dy) + _ORIGIN[1]


def _angle_dir(a):
    return np.array([np.cos(a), np.sin(a)])


def _down_dir(a):
    """Unit vector ``a`` radians from straight down, positive towards the head."""
    return np.array([np.sin(a), -np.cos(a)])


def _ellipse(c, ax, ay, angle=0.0, n=20):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    d, nrm = _angle_dir(angle), _angle_dir(angle + np.pi / 2)
    return np.asarray(c) + ax * np.cos(t) * d + ay * np.sin(t) * nrm


def _capsule(p0, p1, r0, r1, n=8):
    a = np.arctan2(*(p1 - p0)[::-1])
    t0 = a + np.linspace(np.pi / 2, 3 * np.pi / 2, n)
    t1 = a + np.linspace(-np.pi / 2, np.pi / 2, n)
    return np.concatenate([p0 + r0 * np.stack([np.cos(t0), np.sin(t0)], 1),
                           p1 + r1 * np.stack([np.cos(t1), np.sin(t1)], 1)])


def _closed_spline(points, per_segment=6):
    """Closed Catmull-Rom curve through ``points``."""
    p = np.asarray(points, float)
    p0, p1, p2, p3 = np.roll(p, 1, 0), p, np.roll(p, -1, 0), np.roll(p, -2, 0)
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None, None]
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3)
    return curve.transpose(1, 0, 2).reshape(-1, 2)


def _strip(points, radii):
    """Outline of a tapered tube along a polyline, closed by a pointed tip."""
    tangent = np.gradient(points, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1) * radii[:, None]
    tip = points[-1] + tangent[-1] * radii[-1]
    return np.concatenate([points + normal, tip[None], (points - normal)[::-1]])


def sample_cat(rng, width, height, scale=None, cut=False, patterns=PATTERNS) -> Cat:
    """Draw a random cat pose and look, placed inside the image (or across a border if cut);
    its fur pattern is one of ``patterns``."""
    u = rng.uniform
    deg = np.deg2rad
    pose = dict(
        arch=u(-0.03, 0.08), thickness=u(0.26, 0.34), sag=u(-0.04, 0.05),
        leg_length=u(0.85, 1.15), far_shift=np.array([u(-0.05, 0.05), u(0.02, 0.07)]),
        neck_angle=deg(u(-35, 70) if rng.random() < 0.2 else u(10, 70)),
        neck_length=u(0.18, 0.3), head_radius=u(0.19, 0.25), head_pitch=deg(u(-30, 30)),
        head_yaw=deg(u(5, 75)), ear_height=u(1.2, 1.5), ear_tilt=u(-0.15, 0.15),
        tail_angle=deg(u(100, 220)), tail_bend=deg(u(-25, 25)), tail_length=u(0.7, 1.0),
        tail_width=u(0.85, 1.2),
    )
    for side in ("far", "near"):
        up = u(-30, 25)
        pose[f"{side}_fore"] = (deg(up), deg(up + u(-50, 45)))
        up = u(0, 55)
        pose[f"{side}_hind"] = (deg(up), deg(up - u(35, 90)))
    base = np.clip(np.array(_FUR[rng.integers(len(_FUR))], float) + u(-20, 20, 3), 0, 255)
    pattern = patterns[rng.integers(len(patterns))]
    second = (np.array(_FUR[rng.integers(len(_FUR))], float) if pattern == "patched"
              else base * u(0.3, 0.6))
    look = dict(base=base, second=second, pattern=pattern, stripe_freq=u(5, 9),
                iris=np.array(_IRIS[rng.integers(len(_IRIS))], float),
                noise_low=rng.standard_normal((6, 10)).astype(np.float32),
                noise_high=rng.standard_normal((16, 28)).astype(np.float32))
    if scale is None:
        scale = u(0.22, 0.36) * min(width, height)
    cat = Cat(centre=(0.0, 0.0), scale=float(scale), heading=int(rng.choice([-1, 1])),
              rotation=deg(u(-50, 50) if rng.random() < 0.2 else u(-25, 25)), pose=pose,
              look=look)
    return _place(rng, cat, width, height, cut)


def _place(rng, cat, width, height, cut):
    """Move ``cat`` (at centre (0, 0)) so that its silhouette lies inside the image, or
    crosses one border (``cut``); at least 6 keypoints stay inside."""
    keypoints, parts = _parts(cat)  # placed at centre (0, 0): shifting moves everything
    keypoints = cat.to_image(keypoints)
    pts = cat.to_image(np.concatenate([polygon for _, polygon, *_ in parts]))
    lo, hi = pts.min(0), pts.max(0)
    size, extent = np.array([width, height], float), hi - lo
    for _ in range(20):
        slack = size - extent
        shift = np.where(slack > 0, rng.uniform(0, 1, 2) * np.maximum(slack, 0), slack / 2) - lo
        if cut:
            axis, sign = rng.integers(2), rng.choice([-1, 1])
            out = rng.uniform(0.15, 0.45) * extent[axis]
            shift[axis] = -lo[axis] - out if sign < 0 else size[axis] - hi[axis] + out
        kp = keypoints + shift
        if np.all((kp >= 0) & (kp <= size - 1), axis=1).sum() >= 6:
            return replace(cat, centre=(float(shift[0]), float(shift[1])))
    return replace(cat, centre=(width / 2, height / 2))


def _parts(cat):
    """Canonical keypoints (17, 2) and the painting list, back to front.

    Each part is (part_id, polygon, shade, tint_bgr or None, tint_weight, outline).
    """
    p, r = cat.pose, cat.pose["head_radius"]
    near = "R" if cat.heading > 0 else "L"
    side_letter = {"near": near, "far": "L" if near == "R" else "R"}
    kp = {"Root of tail": _ROOT, "Neck": _NECK}
    legs = {}
    for side in ("far", "near"):
        shift = p["far_shift"] if side == "far" else 0.0
        for limb, names in _LIMB_NAMES.items():
            a_up, a_low = p[f"{side}_{limb}"]
            l_up, l_low = (length * p["leg_length"] for length in _LIMB_LENGTHS[limb])
            j0 = _LIMB_TOP[limb] + shift
            j1 = j0 + l_up * _down_dir(a_up)
            j2 = j1 + l_low * _down_dir(a_low)
            for name, point in zip(names, (j0, j1, j2)):
                kp[f"{side_letter[side]}_{name}"] = point
            up_id, low_id = _LIMB_PARTS[side, limb]
            r0, r1, r2 = _LIMB_RADII[limb]
            shade = _SIDE_SHADE[side]
            legs[side, limb] = [
                (up_id, _capsule(j0, j1, r0, r1), shade, None, 0.0, True),
                (low_id, _capsule(j1, j2, r1, r2), shade, None, 0.0, True),
                (low_id, _ellipse(j2 + [0.02, -0.005], 0.065, 0.042), shade, _PAW_LIGHT, 0.45,
                 True)]

    # Head: a sphere of radius r at hc, yawed towards the viewer by head_yaw.
    hc = _NECK + p["neck_length"] * _angle_dir(p["neck_angle"])
    d, n = _angle_dir(p["head_pitch"]), _angle_dir(p["head_pitch"] + np.pi / 2)
    cy, sy = np.cos(p["head_yaw"]), np.sin(p["head_yaw"])

    def head_point(f, up, lateral):  # lateral > 0: near side; returns (point, depth)
        return hc + (f * cy - lateral * sy) * r * d + up * r * n, (f * sy + lateral * cy) * r

    def head_poly(points):  # head-plane (x, up) in head radii -> canonical
        return np.array([hc + x * r * d + y * r * n for x, y in points])

    def ear(lateral):
        x = -0.15 * cy - lateral * sy  # projected base centre, head radii along d
        return head_poly([(x - 0.33, 0.5), (x + 0.28, 0.5),
                          (x - 0.1 + p["ear_tilt"], p["ear_height"])])

    def eye(lateral, part):
        centre, depth = head_point(0.55, 0.2, lateral)
        if depth < 0.08 * r:  # turned away: hidden behind the head, not drawn
            return centre, []
        ax, ay = 0.2 * r * min(1.0, 0.35 + depth / r), 0.16 * r
        return centre, [
            (part, _ellipse(centre, ax, ay, p["head_pitch"]), 1.0, cat.look["iris"], 1.0, True),
            (part, _ellipse(centre, 0.3 * ax, 0.9 * ay, p["head_pitch"], 12), 1.0, _PUPIL, 1.0,
             False)]

    near_eye, near_eye_parts = eye(0.42, NEAR_EYE)
    far_eye, far_eye_parts = eye(-0.42, FAR_EYE)
    kp[f"{side_letter['near']}_Eye"], kp[f"{side_letter['far']}_Eye"] = near_eye, far_eye
    nose = head_point(1.0, -0.12, 0)[0]
    kp["Nose"] = nose
    muzzle = head_point(0.68, -0.3, 0)[0]
    near_ear = ear(0.5)
    inner_ear = near_ear.mean(0) + 0.55 * (near_ear - near_ear.mean(0))
    nose_poly = np.array([nose + r * (-0.1 * d + 0.07 * n), nose + r * (0.08 * d + 0.07 * n),
                          nose - r * 0.1 * n])

    seg = p["tail_length"] / 8
    tail = [np.array([0.02, -0.03])]
    for i in range(9):
        tail.append(tail[-1] + seg * _angle_dir(p["tail_angle"] + p["tail_bend"] * i))
    tail = np.array(tail)
    t, sag, arch = p["thickness"], p["sag"], p["arch"]
    body = _closed_spline([_ROOT, (0.5, 0.02 + arch), _NECK, (1.1, -0.1), (0.98, -t),
                           (0.55, 0.02 - t - sag), (0.15, 0.02 - t), (-0.1, -0.14)])

    parts = (legs["far", "hind"] + legs["far", "fore"]
             + [(FAR_EAR, ear(-0.5), 0.75, None, 0.0, True),
                (TAIL, _strip(tail, np.linspace(0.055, 0.03, len(tail)) * p["tail_width"]),
                 0.9, None, 0.0, True),
                (BODY, body, 1.0, None, 0.0, True),
                (NECK, _capsule(np.array([0.86, -0.06]), hc, 0.12, 0.1), 1.0, None, 0.0, False),
                (HEAD, _ellipse(hc, r, 0.92 * r, p["head_pitch"], 24), 1.0, None, 0.0, True),
                (HEAD, _ellipse(muzzle, 0.42 * r, 0.3 * r, p["head_pitch"]), 1.05, _PAW_LIGHT,
                 0.15, False),
                (NEAR_EAR, near_ear, 1.0, None, 0.0, True),
                (NEAR_EAR, inner_ear, 1.0, _EAR_PINK, 0.65, False)]
             + near_eye_parts + far_eye_parts
             + [(NOSE, nose_poly, 1.0, _NOSE_PINK, 1.0, False)]
             + legs["near", "hind"] + legs["near", "fore"])
    return np.array([kp[name] for name in KEYPOINT_NAMES]), parts


def keypoint_owners(heading: int):
    """For each keypoint, the part ids on which it counts as visible (v=2)."""
    near = "R" if heading > 0 else "L"
    owners = {"Nose": {NOSE, HEAD}, "Neck": {BODY, NECK, HEAD}, "Root of tail": {BODY, TAIL}}
    for side in ("near", "far"):
        letter = near if side == "near" else ("L" if near == "R" else "R")
        owners[f"{letter}_Eye"] = {NEAR_EYE if side == "near" else FAR_EYE}
        for limb, names in _LIMB_NAMES.items():
            up, low = _LIMB_PARTS[side, limb]
            for name, ids in zip(names, ({up}, {up, low}, {low})):
                owners[f"{letter}_{name}"] = ids
    return [owners[name] for name in KEYPOINT_NAMES]


def label_keypoints(points, id_map, heading: int, slot: int = 0) -> np.ndarray:
    """COCO [x, y, v] (17, 3) for the cat drawn in ``slot`` of ``id_map``: v=0 (x=y=0)
    outside the image, 2 where the pixel shows the keypoint's own part, else 1."""
    h, w = id_map.shape
    keypoints = np.zeros((17, 3))
    for k, (owners, (x, y)) in enumerate(zip(keypoint_owners(heading), points)):
        if 0 <= x <= w - 1 and 0 <= y <= h - 1:
            part = int(id_map[int(np.rint(y)), int(np.rint(x))]) - slot * _IDS_PER_CAT
            keypoints[k] = (x, y, 2 if part in owners else 1)
    return keypoints


def cat_keypoints(cat: Cat) -> np.ndarray:
    """The cat's 17 keypoints in image pixels (17, 2), in cats17 order."""
    return cat.to_image(_parts(cat)[0])


def _fur(cat, u, v):
    """Fur colour (h, w, 3) at canonical coordinates (u, v): base, pattern, soft noise."""
    look = cat.look
    mx = ((u - _TEX_U[0]) / (_TEX_U[1] - _TEX_U[0])).astype(np.float32)
    my = ((v - _TEX_V[0]) / (_TEX_V[1] - _TEX_V[0])).astype(np.float32)

    def sample(grid):
        gh, gw = grid.shape
        return cv2.remap(grid, mx * (gw - 1), my * (gh - 1), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)

    low, high = sample(look["noise_low"]), sample(look["noise_high"])
    if look["pattern"] == "tabby":
        amount = np.clip(3 * (np.sin(2 * np.pi * look["stripe_freq"] * u + 0.8 * low) - 0.2),
                         0, 1)
    elif look["pattern"] == "spotted":
        amount = np.clip(4 * (high - 0.5), 0, 1)
    elif look["pattern"] == "patched":
        amount = np.clip(6 * (low - 0.3), 0, 1)
    else:
        amount = np.zeros_like(u)
    amount = amount[..., None]
    fur = look["base"] * (1 - amount) + look["second"] * amount
    return fur * (1 + 0.08 * high[..., None])


def render_cat(image, id_map, cat: Cat, slot: int = 0):
    """Paint ``cat`` onto ``image`` (float32 HxWx3 BGR, in place) and its part ids into
    ``id_map`` (uint8 HxW, value slot*20+part).  Returns (keypoints (17, 2) in px, own
    silhouette mask uint8 HxW, 0..255 anti-aliased)."""
    h, w = id_map.shape
    shade_weight = np.zeros((h, w, 2), np.float32)  # shade, tint weight
    tint = np.zeros((h, w, 3), np.float32)           # tint colour * tint weight
    mask = np.zeros((h, w), np.uint8)
    line = max(1, int(round(0.012 * cat.scale)))
    keypoints, parts = _parts(cat)
    for part, polygon, shade, colour, weight, outline in parts:
        pts = [np.round(cat.to_image(polygon) * 16).astype(np.int32)]
        colour = np.zeros(3) if colour is None else np.asarray(colour, float) * weight
        cv2.fillPoly(shade_weight, pts, (shade, weight), shift=4)
        cv2.fillPoly(tint, pts, colour.tolist(), shift=4)
        cv2.fillPoly(mask, pts, 255, cv2.LINE_AA, shift=4)
        cv2.fillPoly(id_map, pts, slot * _IDS_PER_CAT + part, shift=4)
        if outline:
            cv2.polylines(shade_weight, pts, True, (0.45 * shade, 0.0), line, shift=4)
            cv2.polylines(tint, pts, True, (0, 0, 0), line, shift=4)
            cv2.polylines(mask, pts, True, 255, line, cv2.LINE_AA, shift=4)
            cv2.polylines(id_map, pts, True, slot * _IDS_PER_CAT + part, line, shift=4)
    ys, xs = np.nonzero(mask)
    if len(xs):
        box = np.s_[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        gy, gx = np.mgrid[box]
        colour = shade_weight[box][..., :1] * (
            (1 - shade_weight[box][..., 1:]) * _fur(cat, *cat.to_canonical(gx, gy)) + tint[box])
        alpha = mask[box][..., None].astype(np.float32) / 255
        image[box] = image[box] * (1 - alpha) + colour * alpha
    return cat.to_image(keypoints), mask


def _background(rng, w, h, shapes=(3, 16)):
    """Cluttered background: gradient, colour blotches, random shapes (a number in the range
    ``shapes``), optional blur."""
    c1, c2 = rng.uniform(0, 255, 3).astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    t = (np.arange(w, dtype=np.float32) * np.cos(a)
         + np.arange(h, dtype=np.float32)[:, None] * np.sin(a)) / (w + h) + 0.5
    img = c1 + (c2 - c1) * t[..., None]
    blotches = rng.uniform(-40, 40, (4, 4, 3)).astype(np.float32)
    img += cv2.resize(blotches, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.integers(*shapes)):
        colour = rng.uniform(0, 255, 3).tolist()
        thick = -1 if rng.random() < 0.6 else int(rng.integers(1, 5))
        x, y = rng.uniform(-0.1, 1.1, 2) * (w, h)
        sx, sy = rng.uniform(0.03, 0.35, 2) * (w, h)
        kind = rng.integers(4)
        if kind == 0:
            cv2.ellipse(img, (int(x), int(y)), (int(sx), int(sy)), rng.uniform(0, 180), 0, 360,
                        colour, thick, cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(img, (int(x), int(y)), (int(x + sx), int(y + sy)), colour, thick)
        elif kind == 2:
            pts = (rng.uniform(-1, 1, (int(rng.integers(3, 7)), 2)) * (sx, sy) + (x, y))
            cv2.fillPoly(img, [pts.astype(np.int32)], colour, cv2.LINE_AA)
        else:
            cv2.line(img, (int(x), int(y)), (int(x + 2 * sx), int(y - sy)), colour,
                     int(rng.integers(1, 8)), cv2.LINE_AA)
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 2.5))
    return img


def render_scene(rng, width=DEFAULT_SIZE, height=DEFAULT_SIZE, difficulty=DEFAULT_DIFFICULTY):
    """One synthetic image: returns (uint8 HxWx3 BGR image, list of per-cat dicts with
    'keypoints' (17, 3) float [x, y, v], 'bbox' [x, y, w, h], 'area', 'cat')."""
    level = difficulty_level(difficulty)
    image = _background(rng, width, height, level["shapes"])
    two = rng.random() < level["two_cats"]
    scale = rng.uniform(0.16, 0.26) * min(width, height) if two else None
    cats = [sample_cat(rng, width, height, scale, cut=rng.random() < level["cut"],
                       patterns=level["patterns"])]
    if two:
        box = _box(cats[0], width, height)
        for _ in range(15):
            other = sample_cat(rng, width, height, scale * rng.uniform(0.85, 1.15),
                               cut=rng.random() < level["cut"], patterns=level["patterns"])
            if _iou(box, _box(other, width, height)) < 0.3:
                cats.append(other)
                break
    id_map = np.zeros((height, width), np.uint8)
    drawn = [render_cat(image, id_map, cat, slot) for slot, cat in enumerate(cats)]
    labels = []
    for slot, (cat, (points, mask)) in enumerate(zip(cats, drawn)):
        keypoints = label_keypoints(points, id_map, cat.heading, slot)
        ys, xs = np.nonzero(mask)
        bbox = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
                float(ys.max() - ys.min() + 1)]
        labels.append(dict(keypoints=keypoints, bbox=bbox, area=float((mask > 127).sum()),
                           cat=cat))
    if rng.random() < 0.7:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.0))
    image = image * np.float32(rng.uniform(0.8, 1.2)) + np.float32(rng.uniform(-20, 20))
    image += np.float32(rng.uniform(0, 6)) * rng.standard_normal(image.shape, np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), labels


def _box(cat, width, height):
    pts = cat_keypoints(cat).clip(0, [width - 1, height - 1])
    return np.concatenate([pts.min(0), pts.max(0)])


def _iou(a, b):
    inter = np.prod(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None))
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return inter / union if union > 0 else 1.0


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator that draws image ``index`` of ``split``, independent of all others."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_CODES[split], index]))


def generate_dataset(root, n_train=1000, n_val=128, n_test=200, size=DEFAULT_SIZE, seed=0,
                     difficulty=DEFAULT_DIFFICULTY):
    """Write a synthetic cats dataset in the course layout to the new folder ``root``.

    Images are ``size`` x ``size`` JPEGs named ``<split>_<index:06d>.jpg`` (index from 1);
    image and annotation ids run on across train, val, test.  ``test_info.json`` has boxes
    but no keypoints.  ``difficulty``: see the module doc (``DIFFICULTIES``).
    Raises CatposeError if ``root`` exists and is not empty; on any error
    nothing is left at ``root``.  Returns a summary dict.
    """
    counts = {"train": int(n_train), "val": int(n_val), "test": int(n_test)}
    if min(counts.values()) < 0 or int(size) < 64:
        raise CatposeError(f"need image counts >= 0 and size >= 64, got {counts}, size={size}")
    difficulty_level(difficulty)
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise CatposeError(f"{root} already exists and is not empty; choose a new folder")
    start = time.perf_counter()
    image_id = annotation_id = 0
    summary = dict(root=str(root.resolve()), size=int(size), seed=int(seed), difficulty=difficulty,
                   images=counts, annotations={}, two_cat_images=0)
    with staged_output_dir(root) as stage:
        (stage / "images").mkdir()
        for split, n in counts.items():
            images, annotations = [], []
            for index in range(1, n + 1):
                image, cats = render_scene(image_rng(seed, split, index), int(size), int(size),
                                           difficulty)
                image_id += 1
                file_name = f"{split}_{index:06d}.jpg"
                ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                if not ok:
                    raise CatposeError(f"could not encode {file_name}")
                (stage / "images" / file_name).write_bytes(jpeg.tobytes())
                images.append(dict(id=image_id, file_name=file_name, width=int(size),
                                   height=int(size)))
                summary["two_cat_images"] += len(cats) > 1
                for cat in cats:
                    annotation_id += 1
                    record = dict(id=annotation_id, image_id=image_id, category_id=1,
                                  bbox=cat["bbox"], area=cat["area"], iscrowd=0)
                    if split != "test":
                        kp = np.round(cat["keypoints"], 2)
                        record["keypoints"] = [float(x) if j < 2 else int(x)
                                               for row in kp for j, x in enumerate(row)]
                        record["num_keypoints"] = int((kp[:, 2] > 0).sum())
                    annotations.append(record)
            summary["annotations"][split] = len(annotations)
            atomic_write_json(annotation_path(stage, split),
                              dict(images=images, annotations=annotations,
                                   categories=[CATEGORY]))
    summary["seconds"] = round(time.perf_counter() - start, 2)
    return summary
