"""The U-Net paper's pixel weight map, computed once per label slice by ``prepare``.

Ronneberger et al. 2015 (eq. 2) weight every pixel of the loss by

    w(x) = w_c(x) + w0 · exp(−(d1(x) + d2(x))² / (2σ²))

- ``w_c``: class balance, ``1`` for the more frequent class and ``f_major / f_minor`` for the
  other (frequencies over the training labels);
- ``d1``, ``d2``: the distances from x to the border of the nearest and the second-nearest cell
  (cells = 4-connected components of the foreground); the term is applied to background
  (membrane) pixels only, so the thin membranes *between two touching cells* weigh up to
  ``w0`` more. Those are the pixels whose loss decides whether two cells merge.

The paper uses w0 = 10, σ ≈ 5 pixels. A pixel whose nearest cells lie farther than ``4σ``
gets no border term (exp(−8) < 4e-4), which lets each cell's distance transform be computed in
its bounding box grown by ``4σ`` only.

Stored as uint8 ``weights.npy`` (``w × SCALE``, at most 255), so training augments it with the
image (bilinear) and it costs a quarter of float32 on disk.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SCALE = 16.0  # uint8 step: w = stored / SCALE, so w ≤ 15.9


def border_term(mask: np.ndarray, w0: float, sigma: float) -> np.ndarray:
    """``w0 · exp(−(d1 + d2)² / 2σ²)`` on background pixels of one (H, W) {0, 1} mask, else 0."""
    cells, n = ndimage.label(mask > 0)
    h, w = mask.shape
    reach = int(np.ceil(4 * sigma))
    d1 = np.full((h, w), np.inf, np.float32)
    d2 = np.full((h, w), np.inf, np.float32)
    for k, box in enumerate(ndimage.find_objects(cells), start=1):
        if box is None:
            continue
        y0, y1 = max(0, box[0].start - reach), min(h, box[0].stop + reach)
        x0, x1 = max(0, box[1].start - reach), min(w, box[1].stop + reach)
        d = ndimage.distance_transform_edt(cells[y0:y1, x0:x1] != k).astype(np.float32)
        a, b = d1[y0:y1, x0:x1], d2[y0:y1, x0:x1]
        d2[y0:y1, x0:x1] = np.where(d < a, a, np.minimum(b, d))
        d1[y0:y1, x0:x1] = np.minimum(a, d)
    if n < 2:
        return np.zeros((h, w), np.float32)
    term = w0 * np.exp(-np.square(d1 + d2) / (2 * sigma**2))
    return np.where(mask > 0, 0.0, np.nan_to_num(term, nan=0.0, posinf=0.0)).astype(np.float32)


def class_weights(masks: np.ndarray) -> tuple[float, float]:
    """(w_background, w_foreground): 1 for the more frequent class, the frequency ratio for the
    other. ``masks``: the training split's {0, 1} masks."""
    fg = float(np.mean(np.asarray(masks) > 0))
    if fg in (0.0, 1.0):
        return 1.0, 1.0
    return (max(1.0, fg / (1 - fg)), max(1.0, (1 - fg) / fg))


def weight_maps(masks: np.ndarray, train: np.ndarray, w0: float, sigma: float) -> np.ndarray:
    """uint8 (N, H, W) ``w × SCALE`` for every label slice; class balance from ``train`` rows."""
    if w0 < 0 or sigma <= 0:
        raise ValueError(f"border_weight: w0 ≥ 0 and sigma > 0 expected, got {w0}, {sigma}")
    w_bg, w_fg = class_weights(np.asarray(masks)[np.asarray(train)])
    out = np.empty(np.shape(masks), np.uint8)
    for i, mask in enumerate(np.asarray(masks)):
        base = np.where(mask > 0, w_fg, w_bg).astype(np.float32)
        w = base + border_term(mask, w0, sigma)
        out[i] = np.clip(np.round(w * SCALE), 1, 255).astype(np.uint8)
    return out


def to_weights(stored: np.ndarray) -> np.ndarray:
    """The stored uint8 map (any shape) back to float32 weights."""
    return np.asarray(stored, np.float32) / SCALE
