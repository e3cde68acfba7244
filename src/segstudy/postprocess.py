"""Model output → final probability map: the one post-processing rule that ``evaluate``,
``predict`` and the Tumour decision share, chosen once on validation and kept in the sidecar.

LGG (tumour volumes), each step kept only when it raises validation Dice per patient volume:

- ``tta_flip``: average the output with the output of the left-right mirrored image;
- ``min_component``: per slice, drop foreground components smaller than this many pixels
  (at the model's input size; 0 = off);
- ``largest_3d``: per patient volume (slices of one case stacked in order), keep only the
  largest 26-connected foreground component (Buda et al. 2019 keep the largest 3-D component).
- ``hysteresis``: per volume, grow the foreground kept so far over the 26-connected pixels of
  the output above this fraction ``h`` of the scale (0 = off): hysteresis thresholding, the
  kept component the strong seed, ``h`` the weak level. The map is then rescaled piecewise
  linearly so that ``h`` sits at the midpoint (bottom, ``h``, top → bottom, midpoint, top) and
  components above ``h`` that were not grown into are set to the bottom: ``binarise`` reads the
  grown region, and ``predict``'s bilinear resize to the scan's size puts its edge on the
  ``h`` contour, as it puts every other edge on the 0.5 contour.

A recipe may fix ``largest_3d`` and ``hysteresis`` instead of leaving them to its validation
split (:func:`plan`): nine validation patients could not see the largest component's gain that
a cross-validation over 68 patients and three seeds measured (``docs/``).

ISBI (cells = 4-connected components of the interior), each step kept only when it lowers
validation's adapted Rand error (``segstudy.metrics.region_scores``):

- ``tta_dihedral``: average over the 8 rotations/flips of the image (Ronneberger et al. 2015
  averaged 7);
- ``threshold``: interior where the output is above this fraction of the mask scale (0.5 =
  the scale's midpoint, what ``binarise`` uses);
- ``min_cell``: interior components smaller than this many pixels become membrane;
- ``watershed_h``: split touching cells by a watershed of the interior's distance transform
  from its h-maxima (h in pixels; 0 = off), a one-pixel membrane between the parts;
- ``thin``: grow the cells found so far over the membrane by a watershed of the membrane
  probability seeded with them, leaving a one-pixel membrane where two cells meet: the border
  thinning the ISBI challenge applies to a proposal before its final scores
  (Arganda-Carreras et al. 2015), so that a thick predicted membrane does not count as one
  segment joining every cell it touches.

Pixel scores (IoU, the paper's four columns) read the map before the cell steps
(:func:`pixels`); cell scores and ``predict``'s masks read the cells (:func:`finish`).

Removed pixels are set to the bottom of the mask scale (ISBI: the map becomes binary), so
every later step (binarisation at the midpoint, the metrics, the area rule, ``predict``'s
masks) reads one consistent map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from segstudy import config

NONE: dict[str, Any] = {"tta_flip": False, "min_component": 0, "largest_3d": False,
                        "hysteresis": 0.0, "tta_dihedral": False, "threshold": 0.5, "min_cell": 0,
                        "watershed_h": 0.0, "thin": False}
CELL_STEPS = ("tta_dihedral", "thin", "threshold", "min_cell", "watershed_h")
MIN_COMPONENTS = (0, 10, 25, 50, 100)  # pixels at the model's input size, tried on validation
MARGIN = 0.002  # a step is kept only if it raises val Dice per patient by more than this


FIXABLE = config.FIXABLE  # volume steps a recipe may fix (LGG)


def plan(spec: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A recipe's ``postprocess`` param → (mode, fixed steps). ``spec``: ``none`` | ``choose``,
    or ``{mode: choose, largest_3d: true, hysteresis: 0.3}`` (the steps of :data:`FIXABLE` it
    names are fixed; the rest chosen as the mode says)."""
    if isinstance(spec, str):
        return spec, {}
    return str(spec.get("mode", "choose")), {k: spec[k] for k in FIXABLE if k in spec}


def settings(info: Mapping[str, Any]) -> dict[str, Any]:
    """A sidecar's post-processing (``NONE`` for a model trained before it existed)."""
    return {**NONE, **(info.get("postprocess") or {})}


def probability(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
                tta_flip: bool, tta_dihedral: bool = False) -> np.ndarray:
    """The model's output (N, H, W) on the mask scale, averaged with the mirrored image's
    (``tta_flip``) or over the 8 rotations and flips (``tta_dihedral``)."""
    from segstudy.inference import predict_masks

    prob = predict_masks(model, images, norm, batch_size)
    if tta_dihedral:
        total = prob.astype(np.float64)
        for k, flip in [(k, f) for f in (False, True) for k in range(4)][1:]:
            x = images[:, :, ::-1] if flip else images
            y = predict_masks(model, np.ascontiguousarray(np.rot90(x, k, axes=(1, 2))), norm,
                              batch_size)
            y = np.rot90(y, -k, axes=(1, 2))
            total += y[:, :, ::-1] if flip else y
        return (total / 8).astype(np.float32)
    if tta_flip:
        mirrored = predict_masks(model, np.ascontiguousarray(images[:, :, ::-1]), norm, batch_size)
        prob = (prob + mirrored[:, :, ::-1]) / 2
    return prob


def cells(prob: np.ndarray, rng: tuple[float, float], threshold: float, min_cell: int,
          watershed_h: float, thin: bool = False) -> np.ndarray:
    """A binary map (``rng[0]`` membrane, ``rng[1]`` interior) per slice: interior above
    ``threshold`` of the scale, small cells removed, touching cells split by watershed, then
    (``thin``) grown over the membrane to one-pixel borders."""
    from scipy import ndimage
    from skimage.morphology import h_maxima, remove_small_objects
    from skimage.segmentation import watershed

    out = np.empty_like(prob)
    for i, p in enumerate(prob):
        interior = (p - rng[0]) / (rng[1] - rng[0]) > threshold
        if min_cell:
            interior = remove_small_objects(interior, max_size=min_cell - 1, connectivity=1)
        if watershed_h:
            dist = ndimage.distance_transform_edt(interior)
            seeds, _ = ndimage.label(h_maxima(dist, watershed_h))
            parts = watershed(-dist, seeds, mask=interior, watershed_line=True)
            interior = parts > 0
        if thin:
            seeds, _ = ndimage.label(interior)  # 4-connected, as the cells are counted
            interior = watershed(rng[1] - p, seeds, watershed_line=True) > 0
        out[i] = np.where(interior, rng[1], rng[0])
    return out


def clean(prob: np.ndarray, cases: Sequence[Any] | None, rng: tuple[float, float],
          min_component: int, largest_3d: bool, hysteresis: float = 0.0) -> np.ndarray:
    """``prob`` with small per-slice components and, per case, all but the largest 3-D
    component set to ``rng[0]``; then (``hysteresis``) what is left grown per case over the
    26-connected pixels of ``prob`` above that fraction of the scale, the map rescaled to put
    that level at the midpoint (see the module's notes). ``cases``: one id per slice, slices
    of a case in order (``None``: all slices one volume)."""
    from scipy import ndimage

    if not min_component and not largest_3d and not hysteresis:
        return prob
    out = prob.copy()
    mid = (rng[0] + rng[1]) / 2
    found = prob > mid
    ids = np.zeros(len(prob), dtype=object) if cases is None else np.asarray(cases, object)
    if min_component:
        for i in np.flatnonzero(found.reshape(len(found), -1).any(axis=1)):
            lab, n = ndimage.label(found[i])
            sizes = ndimage.sum(found[i], lab, range(1, n + 1))
            small = np.isin(lab, 1 + np.flatnonzero(sizes < min_component))
            out[i][small], found[i][small] = rng[0], False
    if largest_3d:
        for case in dict.fromkeys(ids):
            rows = np.flatnonzero(ids == case)
            lab, n = ndimage.label(found[rows], structure=np.ones((3, 3, 3)))
            if n > 1:
                sizes = ndimage.sum(found[rows], lab, range(1, n + 1))
                drop = (lab > 0) & (lab != 1 + int(np.argmax(sizes)))
                block = out[rows]
                block[drop] = rng[0]
                out[rows] = block
    if hysteresis:
        h, span = float(hysteresis), rng[1] - rng[0]
        frac = (prob - rng[0]) / span
        weak = frac > h
        for case in dict.fromkeys(ids):
            rows = np.flatnonzero(ids == case)
            lab, _ = ndimage.label(weak[rows], structure=np.ones((3, 3, 3)))
            seeds = np.unique(lab[(out[rows] > mid) & (lab > 0)])
            weak[rows] &= ~np.isin(lab, seeds)  # left: weak components not grown into
        scaled = np.where(frac > h, 0.5 + (frac - h) * 0.5 / (1 - h), frac * 0.5 / h)
        out = np.where(weak, rng[0], rng[0] + scaled * span).astype(prob.dtype)
    return out


def apply(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
          cases: Sequence[Any] | None, rng: tuple[float, float],
          cfg: Mapping[str, Any]) -> np.ndarray:
    """The final probability map of ``images`` under the post-processing ``cfg``."""
    cfg = {**NONE, **cfg}
    prob = probability(model, images, norm, batch_size, bool(cfg["tta_flip"]),
                       bool(cfg["tta_dihedral"]))
    return finish(prob, cases, rng, cfg)


def pixels(prob: np.ndarray, cases: Sequence[Any] | None, rng: tuple[float, float],
           cfg: Mapping[str, Any]) -> np.ndarray:
    """The pixel map: the component clean-up of ``cfg`` applied to the model's output."""
    cfg = {**NONE, **cfg}
    return clean(prob, cases, rng, int(cfg["min_component"]), bool(cfg["largest_3d"]),
                 float(cfg["hysteresis"]))


def to_cells(prob: np.ndarray, rng: tuple[float, float], cfg: Mapping[str, Any]) -> np.ndarray:
    """The cell steps of ``cfg`` applied to a pixel map (the map itself when there are none)."""
    cfg = {**NONE, **cfg}
    if any(cfg[k] != NONE[k] for k in CELL_STEPS[1:]):
        prob = cells(prob, rng, float(cfg["threshold"]), int(cfg["min_cell"]),
                     float(cfg["watershed_h"]), bool(cfg["thin"]))
    return prob


def finish(prob: np.ndarray, cases: Sequence[Any] | None, rng: tuple[float, float],
           cfg: Mapping[str, Any]) -> np.ndarray:
    """Every step after the model (and its test-time averaging) under ``cfg``."""
    return to_cells(pixels(prob, cases, rng, cfg), rng, cfg)


def choose(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
           cases: Sequence[Any], rng: tuple[float, float],
           score: Callable[[np.ndarray], float],
           fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Pick the post-processing on validation: ``score(prob) -> Dice per patient``. Each step
    is added greedily (flip, then the component size, then the largest 3-D component) and
    kept only if it beats the settings without it by more than :data:`MARGIN`. ``fixed``:
    steps of :data:`FIXABLE` decided elsewhere (a recipe's cross-validation), applied last
    and still scored. Returns the settings with the scores that decided them."""
    plain = probability(model, images, norm, batch_size, False)
    flipped = probability(model, images, norm, batch_size, True)
    tried: dict[str, float] = {}

    def val(tta: bool, size: int, largest: bool, grow: float = 0.0) -> float:
        key = f"tta_flip={tta},min_component={size},largest_3d={largest}"
        key += f",hysteresis={grow}" if grow else ""
        if key not in tried:
            prob = flipped if tta else plain
            tried[key] = round(float(score(clean(prob, cases, rng, size, largest, grow))), 4)
        return tried[key]

    tta = val(True, 0, False) > val(False, 0, False) + MARGIN
    best_size = max(MIN_COMPONENTS, key=lambda s: (val(tta, s, False), -s))
    size = best_size if val(tta, best_size, False) > val(tta, 0, False) + MARGIN else 0
    largest = val(tta, size, True) > val(tta, size, False) + MARGIN
    fixed = dict(fixed or {})
    largest = bool(fixed.get("largest_3d", largest))
    grow = float(fixed.get("hysteresis", 0.0))
    return {**NONE, "tta_flip": tta, "min_component": size, "largest_3d": largest,
            "hysteresis": grow, "chosen_on": "val", "fixed": sorted(fixed),
            "val_dice_per_patient": val(tta, size, largest, grow), "tried": tried}


# grids: the first ISBI run (28 epochs) chose 0.7, the top of 0.3–0.7, and h = 4 came closest
# of 1, 2, 4; both were widened (0.95: with ``thin`` the threshold only picks the seeds)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
MIN_CELLS = (0, 25, 100, 400)
WATERSHED_H = (0.0, 1.0, 2.0, 4.0, 6.0, 8.0)
CELL_MARGIN = 0.002  # a step is kept only if it lowers val adapted Rand error by more


def choose_cells(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
                 rng: tuple[float, float],
                 rand_error: Callable[[np.ndarray], float]) -> dict[str, Any]:
    """Pick the ISBI cell steps on validation: for the plain output and for the 8-fold
    average each, greedily in the order of :data:`CELL_STEPS`, a step is kept only if it lowers
    ``rand_error(map)`` (the mean adapted Rand error) by more than :data:`CELL_MARGIN` against
    the settings without it; the averaging is kept only if its chosen cells beat the plain
    output's by that margin too (steps interact: thin borders gain more from the smoother
    averaged map than a thick membrane does)."""
    outputs = {False: probability(model, images, norm, batch_size, False),
               True: probability(model, images, norm, batch_size, False, True)}
    tried: dict[str, float] = {}

    def val(cfg: Mapping[str, Any]) -> float:
        key = ",".join(f"{k}={cfg[k]}" for k in CELL_STEPS)
        if key not in tried:
            tried[key] = round(float(rand_error(
                finish(outputs[bool(cfg["tta_dihedral"])], None, rng, cfg))), 4)
        return tried[key]

    def greedy(tta: bool) -> dict[str, Any]:
        cfg = {**NONE, "tta_dihedral": tta}
        for key, options in (("thin", (False, True)), ("threshold", THRESHOLDS),
                             ("min_cell", MIN_CELLS), ("watershed_h", WATERSHED_H)):
            best = min(options, key=lambda v: (val({**cfg, key: v}), v != NONE[key]))
            if val({**cfg, key: best}) < val(cfg) - CELL_MARGIN:
                cfg[key] = best
        return cfg

    plain, averaged = greedy(False), greedy(True)
    cfg = averaged if val(averaged) < val(plain) - CELL_MARGIN else plain
    return {**cfg, "chosen_on": "val", "val_rand_error": val(cfg), "tried": tried}
