"""Segmentation-quality metrics: one function each, shared by GAN training, evaluation, report.

Every function takes a batch of predictions and targets of shape (N, H, W) or (N, H, W, 1)
on the model's *mask scale* ``(lo, hi)`` — (-1, 1) for a tanh generator (study A), (0, 1) for
a sigmoid head (study B) — and returns one value per sample, shape (N,).

They are written against the array functions numpy and ``keras.ops`` share, so the same code
runs on numpy arrays (``xp=numpy``, the default: evaluation, report) and on backend tensors
inside a training step (``xp=keras.ops``: the GAN discriminator's target).

Binarisation: a pixel is foreground when its value is above the midpoint ``(lo + hi) / 2``.
Foreground is the cell interior for ISBI (label 255) and the tumour for LGG.

Empty masks: when prediction and target are both empty, IoU and Dice are undefined (0/0); we
return ``empty`` (default 1.0: nothing to find, nothing found is a perfect answer). When only
one is empty the intersection is 0 and so is the score.

References: Jaccard (1912); Dice (1945); the two papers' definitions (PAPERS.md): *module* =
mean absolute error, *squaring* = mean squared error, *percent* = pixel accuracy in % after
binarisation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from segstudy import config

MaskRange = tuple[float, float]
METRIC_NAMES = config.METRIC_NAMES
HOST_ONLY = ("vrand",)  # targets computed in numpy only (connected components), not in-graph


def _axes(x: Any) -> tuple[int, ...]:
    return tuple(range(1, len(x.shape)))


def binarise(x: Any, mask_range: MaskRange, xp: Any = np) -> Any:
    """1.0 where ``x`` is above the midpoint of ``mask_range``, else 0.0."""
    return xp.where(x > (mask_range[0] + mask_range[1]) / 2, 1.0, 0.0)


def module(pred: Any, target: Any, mask_range: MaskRange = (0, 1), xp: Any = np) -> Any:
    """Mean absolute per-pixel error, ``mean(|pred - target|)``, on the mask scale.

    0 is perfect; the worst is ``hi - lo`` (2 on the [-1, 1] scale of study A).
    """
    return xp.mean(xp.abs(pred - target), axis=_axes(pred))


def squaring(pred: Any, target: Any, mask_range: MaskRange = (0, 1), xp: Any = np) -> Any:
    """Mean squared per-pixel error, ``mean((pred - target)^2)``; worst ``(hi - lo)^2``."""
    return xp.mean(xp.square(pred - target), axis=_axes(pred))


def percent(pred: Any, target: Any, mask_range: MaskRange = (0, 1), xp: Any = np) -> Any:
    """Percentage of pixels whose binarised prediction equals the binarised target, 0..100."""
    p, t = binarise(pred, mask_range, xp), binarise(target, mask_range, xp)
    return 100.0 * xp.mean(1.0 - xp.abs(p - t), axis=_axes(pred))


def iou(
    pred: Any, target: Any, mask_range: MaskRange = (0, 1), xp: Any = np, empty: float = 1.0
) -> Any:
    """Intersection over union of the binarised masks, ``|P ∩ T| / |P ∪ T|``, 0..1.

    Both masks empty → ``empty``; exactly one empty → 0.
    """
    p, t = binarise(pred, mask_range, xp), binarise(target, mask_range, xp)
    inter = xp.sum(p * t, axis=_axes(pred))
    union = xp.sum(p, axis=_axes(pred)) + xp.sum(t, axis=_axes(pred)) - inter
    return xp.where(union > 0, inter / xp.maximum(union, 1.0), empty)


def dice(
    pred: Any, target: Any, mask_range: MaskRange = (0, 1), xp: Any = np, empty: float = 1.0
) -> Any:
    """Dice coefficient of the binarised masks, ``2 |P ∩ T| / (|P| + |T|)``, 0..1.

    Both masks empty → ``empty``; exactly one empty → 0.
    """
    p, t = binarise(pred, mask_range, xp), binarise(target, mask_range, xp)
    inter = xp.sum(p * t, axis=_axes(pred))
    total = xp.sum(p, axis=_axes(pred)) + xp.sum(t, axis=_axes(pred))
    return xp.where(total > 0, 2.0 * inter / xp.maximum(total, 1.0), empty)


METRICS: dict[str, Callable[..., Any]] = {
    "module": module,
    "squaring": squaring,
    "percent": percent,
    "iou": iou,
    "dice": dice,
}


def quality(
    name: str, pred: Any, target: Any, mask_range: MaskRange, power: float = 1.0, xp: Any = np,
    empty: float = 1.0,
) -> Any:
    """A metric mapped to [0, 1] with higher = better, raised to ``power`` (the GAN's target).

    module → 1 - module / (hi - lo); squaring → 1 - squaring / (hi - lo)^2;
    percent → percent / 100; iou → iou, ``empty`` where both masks are empty (the study's
    ``evaluate.empty_iou``); vrand → :func:`cell_agreement` (numpy only: ``xp`` must be
    numpy). Study A's Table 2 uses ``iou`` with power 2.
    """
    if name not in config.GAN_TARGETS:
        raise ValueError(f"unknown metric {name!r}; choose one of "
                         f"{', '.join(config.GAN_TARGETS)}")
    if name == "vrand":
        if xp is not np:
            raise ValueError("vrand counts connected components: numpy arrays only")
        value = cell_agreement(pred, target, mask_range, empty)
        return value**power if power != 1 else value
    span = mask_range[1] - mask_range[0]
    extra = {"empty": empty} if name == "iou" else {}
    value = METRICS[name](pred, target, mask_range, xp=xp, **extra)
    if name == "module":
        value = 1.0 - value / span
    elif name == "squaring":
        value = 1.0 - value / span**2
    elif name == "percent":
        value = value / 100.0
    return value**power if power != 1 else value


def region_scores(pred: np.ndarray, target: np.ndarray, mask_range: MaskRange) -> dict[str, float]:
    """ISBI 2012's region scores on one slice: cells = 4-connected components of the interior.

    Returns the adapted Rand error and the variation of information (split + merge), both
    0 = perfect, from ``skimage.metrics`` (Arganda-Carreras et al. 2015; Meila 2003).
    Both are foreground-restricted: pixels of the *true* membrane (label 0) are left out of
    both scores. The predicted membrane inside true cells counts as one more segment, which
    merges the cells it touches; the challenge instead counts each such pixel as its own
    segment, so a thick predicted membrane scores worse here than there (the ``thin`` cell
    step of ``segstudy.postprocess`` leaves one-pixel borders, where the two agree).
    Edge case: a slice without any true cell has no score (NaN).
    """
    from skimage.measure import label
    from skimage.metrics import adapted_rand_error, variation_of_information

    true_cells = label(binarise(target, mask_range) > 0, connectivity=1)
    pred_cells = label(binarise(pred, mask_range) > 0, connectivity=1)
    are, _, _ = adapted_rand_error(true_cells, pred_cells)
    split, merge = variation_of_information(true_cells, pred_cells, ignore_labels=(0,))
    return {"rand_error": float(are), "vi": float(split + merge)}


def cell_agreement(pred: np.ndarray, target: np.ndarray, mask_range: MaskRange,
                   empty: float = 1.0) -> np.ndarray:
    """``1 − adapted Rand error`` of the cells (:func:`region_scores`) per sample, 0..1, higher =
    better: the GAN's cell-level target ``vrand`` (Arganda-Carreras et al. 2015's V_rand is
    the F-score this error is one minus). A sample without true cells scores ``empty`` when
    no cell is predicted either, else 0.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.ndim == 4:
        pred, target = pred[..., 0], target[..., 0]
    out = np.empty(len(pred), np.float32)
    for i, (p, t) in enumerate(zip(pred, target, strict=True)):
        if not (binarise(t, mask_range) > 0).any():
            out[i] = empty if not (binarise(p, mask_range) > 0).any() else 0.0
        else:
            out[i] = 1.0 - region_scores(p, t, mask_range)["rand_error"]
    return out
