"""COCO OKS AP on resampled val images, for paired bootstraps of AP differences.

xtcocotools' COCOeval matches each image's predictions to its ground truth once
(:func:`image_evals`); :func:`weighted_ap` then accumulates those per-image matches over a
multiset of images exactly as ``COCOeval.accumulate`` does over a ground truth with images
repeated (a bootstrap resample), so a resample costs a sort, not a COCOeval.  Why not COCOeval
per resample: 2,000 resamples x several runs would re-match every image each time.
The unit is the image (with all its cats): cats of one image share a scene and are not
independent, and COCO matches predictions to cats within an image.
"""
import contextlib
import io
import json
from pathlib import Path

import numpy as np

RECALL_THRESHOLDS = np.linspace(0.0, 1.00, 101)  # COCOeval's p.recThrs
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def coco_eval(ann_file, predictions, sigmas):
    """xtcocotools' COCOeval of ``predictions`` (COCO keypoint results) on ``ann_file`` with its
    matches made (``evaluate``), the COCO OKS of the Animal-Pose style: ``sigmas``, the GT areas."""
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # COCO and COCOeval print their progress
        gt = COCO(str(ann_file))
        ev = COCOeval(gt, gt.loadRes(predictions), "keypoints", sigmas=np.asarray(sigmas), use_area=True)
        ev.evaluate()
    return ev


def image_evals(ann_file, predictions, sigmas) -> dict:
    """Per val image (in COCOeval's order), COCOeval's keypoint matches at its 10 OKS
    thresholds (area 'all', 20 detections): ``{image_id: (scores (D,), matched (T, D),
    ignored (T, D), cats counted)}``, detections in COCOeval's order.  ``predictions``: COCO
    keypoint results (a list, or a JSON file such as a run's ``NN_sS.val.json``)."""
    if not isinstance(predictions, list):
        predictions = json.loads(Path(predictions).read_text())
    if not predictions:
        raise ValueError(f"no predictions to score against {ann_file}")
    ev = coco_eval(ann_file, predictions, sigmas)
    p = ev.params
    n_thr, max_det = len(p.iouThrs), p.maxDets[-1]
    out = {}
    for i, image_id in enumerate(p.imgIds):  # category 0, area range 0 ('all'): evalImgs' first block
        e = ev.evalImgs[i]
        if e is None:  # an image with neither cats nor predictions
            out[image_id] = (np.zeros(0), np.zeros((n_thr, 0), bool), np.zeros((n_thr, 0), bool), 0)
            continue
        out[image_id] = (np.asarray(e["dtScores"][:max_det], float),
                         np.asarray(e["dtMatches"][:, :max_det]) >= 0,  # xtcocotools: -1 = unmatched
                         np.asarray(e["dtIgnore"][:, :max_det], bool),
                         int(np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)))
    return out


def _flat(evals: dict):
    """Every image's detections in one score-sorted list (COCOeval's mergesort over the images'
    concatenation), each with its image's index: a resample only reweights it."""
    ids = list(evals)
    scores = np.concatenate([evals[k][0] for k in ids])
    image = np.concatenate([np.full(len(evals[k][0]), i) for i, k in enumerate(ids)]).astype(int)
    matched = np.concatenate([evals[k][1] for k in ids], axis=1)
    ignored = np.concatenate([evals[k][2] for k in ids], axis=1)
    counted = np.array([evals[k][3] for k in ids], float)
    order = np.argsort(-scores, kind="mergesort")
    return ((matched & ~ignored)[:, order], (~matched & ~ignored)[:, order], image[order], counted)


def weighted_ap(evals: dict, weights=None) -> float:
    """COCO OKS AP (the mean over the 10 OKS thresholds of the 101-point interpolated
    precision) of the images of ``evals`` (:func:`image_evals`), image i counted
    ``weights[i]`` times (default once: COCOeval's stats[0]).  A detection counted w times
    steps the precision-recall curve by w at once, which leaves COCO's interpolated precision
    as it is with w copies.  NaN when no counted cat has a labelled keypoint."""
    return _ap(_flat(evals), weights)


def _ap(flat, weights=None) -> float:
    tp, fp, image, counted = flat
    w = np.ones(len(counted)) if weights is None else np.asarray(weights, float)
    n_counted = float(w @ counted)
    if n_counted == 0:
        return float("nan")
    det_w = w[image]
    aps = []
    for t in range(tp.shape[0]):
        tps, fps = np.cumsum(tp[t] * det_w), np.cumsum(fp[t] * det_w)
        rc = tps / n_counted
        pr = tps / (fps + tps + np.spacing(1))
        pr = np.maximum.accumulate(pr[::-1])[::-1]  # the precision envelope, as COCOeval's loop
        idx = np.searchsorted(rc, RECALL_THRESHOLDS, side="left")
        aps.append(np.where(idx < len(pr), pr[np.minimum(idx, len(pr) - 1)], 0.0).mean() if len(pr) else 0.0)
    return float(np.mean(aps))


def resample_weights(n_images: int, n_resamples=N_RESAMPLES, seed=BOOTSTRAP_SEED):
    """(n_resamples, n_images) counts: each row one bootstrap resample of the images."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_images, size=(n_resamples, n_images))
    return np.stack([np.bincount(d, minlength=n_images) for d in draws])


def paired_ap_difference(winner_evals: list, base_evals: list, n_resamples=N_RESAMPLES,
                         seed=BOOTSTRAP_SEED) -> dict:
    """Paired bootstrap over val images of (the winner's mean AP over its seeds - the base's):
    each resample draws the images once and scores every seed of both runs on them.  Each list
    holds one :func:`image_evals` per seed, all on the same images.  Returns the full-set
    difference, the resamples' sd and 2.5 / 97.5 percentiles, and the counts."""
    ids = list(winner_evals[0])
    if any(list(e) != ids for e in (*winner_evals, *base_evals)):
        raise ValueError("paired bootstrap: the runs' predictions are not on the same val images")
    flats = [[_flat(e) for e in evals] for evals in (winner_evals, base_evals)]

    def difference(w):
        return float(np.mean([_ap(f, w) for f in flats[0]]) - np.mean([_ap(f, w) for f in flats[1]]))

    diffs = [difference(w) for w in resample_weights(len(ids), n_resamples, seed)]
    return dict(difference=difference(None), **_spread(diffs), images=len(ids))


def ap_interval(evals: dict, n_resamples=N_RESAMPLES, seed=BOOTSTRAP_SEED) -> dict:
    """One run's AP on the full val set with its bootstrap sd and 95% percentile interval over
    the val images (the val-sampling noise of a single AP, unpaired)."""
    flat = _flat(evals)
    aps = [_ap(flat, w) for w in resample_weights(len(evals), n_resamples, seed)]
    return dict(AP=_ap(flat), **_spread(aps), images=len(evals))


def _spread(values) -> dict:
    """The finite resampled values' sd, 2.5 / 97.5 percentiles and count."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return dict(sd=float(v.std(ddof=1)), low=float(np.percentile(v, 2.5)), high=float(np.percentile(v, 97.5)),
                resamples=len(v))
