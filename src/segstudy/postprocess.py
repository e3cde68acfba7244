"""Model output → final probability map: the one post-processing rule that ``evaluate``,
``predict`` and the Tumour decision share, chosen once on validation and kept in the sidecar.

Three optional steps, each kept only when it raises validation Dice per patient volume:

- ``tta_flip``: average the output with the output of the left-right mirrored image;
- ``min_component``: per slice, drop foreground components smaller than this many pixels
  (at the model's input size; 0 = off);
- ``largest_3d``: per patient volume (slices of one case stacked in order), keep only the
  largest 26-connected foreground component (Buda et al. 2019 keep the largest 3-D component).

Removed pixels are set to the bottom of the mask scale, so every later step (binarisation at
the scale's midpoint, the continuous metrics, the area rule) reads one consistent map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

NONE: dict[str, Any] = {"tta_flip": False, "min_component": 0, "largest_3d": False}
MIN_COMPONENTS = (0, 10, 25, 50, 100)  # pixels at the model's input size, tried on validation
MARGIN = 0.002  # a step is kept only if it raises val Dice per patient by more than this


def settings(info: Mapping[str, Any]) -> dict[str, Any]:
    """A sidecar's post-processing (``NONE`` for a model trained before it existed)."""
    return {**NONE, **(info.get("postprocess") or {})}


def probability(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
                tta_flip: bool) -> np.ndarray:
    """The model's output (N, H, W) on the mask scale, averaged with the mirrored image's."""
    from segstudy.inference import predict_masks

    prob = predict_masks(model, images, norm, batch_size)
    if tta_flip:
        mirrored = predict_masks(model, np.ascontiguousarray(images[:, :, ::-1]), norm, batch_size)
        prob = (prob + mirrored[:, :, ::-1]) / 2
    return prob


def clean(prob: np.ndarray, cases: Sequence[Any] | None, rng: tuple[float, float],
          min_component: int, largest_3d: bool) -> np.ndarray:
    """``prob`` with small per-slice components and, per case, all but the largest 3-D
    component set to ``rng[0]``. ``cases``: one id per slice, slices of a case in order
    (``None``: all slices one volume)."""
    from scipy import ndimage

    if not min_component and not largest_3d:
        return prob
    out = prob.copy()
    found = prob > (rng[0] + rng[1]) / 2
    if min_component:
        for i in np.flatnonzero(found.reshape(len(found), -1).any(axis=1)):
            lab, n = ndimage.label(found[i])
            sizes = ndimage.sum(found[i], lab, range(1, n + 1))
            small = np.isin(lab, 1 + np.flatnonzero(sizes < min_component))
            out[i][small], found[i][small] = rng[0], False
    if largest_3d:
        ids = np.zeros(len(prob), dtype=object) if cases is None else np.asarray(cases, object)
        for case in dict.fromkeys(ids):
            rows = np.flatnonzero(ids == case)
            lab, n = ndimage.label(found[rows], structure=np.ones((3, 3, 3)))
            if n > 1:
                sizes = ndimage.sum(found[rows], lab, range(1, n + 1))
                drop = (lab > 0) & (lab != 1 + int(np.argmax(sizes)))
                block = out[rows]
                block[drop] = rng[0]
                out[rows] = block
    return out


def apply(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
          cases: Sequence[Any] | None, rng: tuple[float, float],
          cfg: Mapping[str, Any]) -> np.ndarray:
    """The final probability map of ``images`` under the post-processing ``cfg``."""
    cfg = {**NONE, **cfg}
    prob = probability(model, images, norm, batch_size, bool(cfg["tta_flip"]))
    return clean(prob, cases, rng, int(cfg["min_component"]), bool(cfg["largest_3d"]))


def choose(model: Any, images: np.ndarray, norm: Mapping[str, Any], batch_size: int,
           cases: Sequence[Any], rng: tuple[float, float],
           score: Callable[[np.ndarray], float]) -> dict[str, Any]:
    """Pick the post-processing on validation: ``score(prob) -> Dice per patient``. Each step
    is added greedily (flip, then the component size, then the largest 3-D component) and
    kept only if it beats the settings without it by more than :data:`MARGIN`. Returns the
    settings with the scores that decided them."""
    plain = probability(model, images, norm, batch_size, False)
    flipped = probability(model, images, norm, batch_size, True)
    tried: dict[str, float] = {}

    def val(tta: bool, size: int, largest: bool) -> float:
        key = f"tta_flip={tta},min_component={size},largest_3d={largest}"
        if key not in tried:
            prob = flipped if tta else plain
            tried[key] = round(float(score(clean(prob, cases, rng, size, largest))), 4)
        return tried[key]

    tta = val(True, 0, False) > val(False, 0, False) + MARGIN
    best_size = max(MIN_COMPONENTS, key=lambda s: (val(tta, s, False), -s))
    size = best_size if val(tta, best_size, False) > val(tta, 0, False) + MARGIN else 0
    largest = val(tta, size, True) > val(tta, size, False) + MARGIN
    return {"tta_flip": tta, "min_component": size, "largest_3d": largest, "chosen_on": "val",
            "val_dice_per_patient": val(tta, size, largest), "tried": tried}
