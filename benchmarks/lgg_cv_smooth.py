"""``lgg_cv.py smooth``: does smoothing the strong LGG model's map, or filling the holes of its
mask, raise the IoU over tumour slices? Scored on the saved out-of-fold maps of one or more
seeds (``lgg_cv.py run``; no training), each against the published steps (flip averaging,
components ≥ 50 px, the largest 3-D component grown to > 0.3) of the same seed:

- **across slices** (``z w``): before the published steps, each slice's map becomes
  ``(1 − 2w)·p_z + w·(p_{z−1} + p_{z+1})`` within its patient volume (end slices repeated):
  a tumour is a 3-D body, and the model sees one slice at a time;
- **in plane** (``xy σ``): a Gaussian of ``σ`` input pixels on each slice's map (edges of a
  blurred, upsampled map);
- **both**;
- **holes filled**: after the published steps, each slice's mask with its enclosed holes
  filled (a FLAIR tumour section is one solid region).

Per seed: Dice per patient / IoU over tumour slices; then, averaged over the seeds per
patient, Δ Dice per patient (paired t-interval over the patients) and Δ IoU over tumour slices
(cluster-robust interval over the patients, ``report.verdict.ratio_interval`` of the per-patient
sums of the slice IoU differences), and the Tumour rule "≥ 1 px" per seed. Last, where the
published steps lose IoU: per seed, the tumour slices by quintile of true area
(``lgg_cv_more.by_area``), the wrong pixels on tumour slices (false / missed) and the patients
whose largest-quintile sections are most under- or over-segmented.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from lgg_cv_more import against, by_area, published_mask
from lgg_cv_score import load, pixel_scores
from scipy import ndimage

Z_WEIGHTS = (0.1, 0.2, 0.25, 1 / 3)
SIGMAS = (0.5, 1.0, 1.5)


def across_slices(prob: np.ndarray, cases: np.ndarray, w: float) -> np.ndarray:
    """Each slice mixed with its two neighbours in its patient volume (weights w, 1 − 2w, w)."""
    out = np.empty_like(prob)
    for case in dict.fromkeys(cases):
        rows = np.flatnonzero(cases == case)
        p = prob[rows]
        up = np.concatenate([p[:1], p[:-1]])
        down = np.concatenate([p[1:], p[-1:]])
        out[rows] = (1 - 2 * w) * p + w * (up + down)
    return out


def in_plane(prob: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian of ``sigma`` pixels on each slice (not across slices)."""
    return ndimage.gaussian_filter(prob, sigma=(0, sigma, sigma), mode="nearest")


def smooth(prepared: str, folders: list[str]) -> None:
    table, maps, truth, scale = load(prepared, folders, None)
    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    each = maps.get("seeds", [maps["tta"]])

    def published(m: np.ndarray) -> np.ndarray:
        return published_mask(m, cases, size)

    base_masks = [published(m) for m in each]
    base = [pixel_scores(table, f, truth) for f in base_masks]
    print(f"{table['case_id'].nunique()} patients, {len(each)} seed(s), {truth.shape[1]}² "
          f"grid; Δ against the published steps of the same seed(s)", flush=True)

    def line(name: str, mask_of: Callable[[int, np.ndarray], np.ndarray]) -> None:
        against(name, table, truth, scale, base, [mask_of(i, m) for i, m in enumerate(each)])

    line("published steps", lambda i, m: base_masks[i])
    for w in Z_WEIGHTS:
        line(f"z w = {w:.2f}", lambda i, m, w=w: published(across_slices(m, cases, w)))
    for s in SIGMAS:
        line(f"xy σ = {s}", lambda i, m, s=s: published(in_plane(m, s * np.sqrt(scale))))
    for w, s in ((0.25, 1.0), (0.2, 0.5)):
        line(f"z w = {w} + xy σ = {s}", lambda i, m, w=w, s=s: published(
            in_plane(across_slices(m, cases, w), s * np.sqrt(scale))))
    line("holes filled", lambda i, m: np.stack([ndimage.binary_fill_holes(f)
                                                for f in base_masks[i]]))
    by_area(table, base_masks, truth)
    for k, found in enumerate(base_masks):
        lost(table, found, truth, k)


def lost(table: pd.DataFrame, found: np.ndarray, truth: np.ndarray, k: int) -> None:
    """Wrong pixels on tumour slices, and predicted / true area of the largest fifth of the
    tumour sections per patient (the five lowest and highest)."""
    n = len(found)
    area, pred = truth.reshape(n, -1).sum(1), found.reshape(n, -1).sum(1)
    inter = (found & truth).reshape(n, -1).sum(1)
    t = table.assign(area=area, pred=pred, inter=inter)[area > 0]
    print(f"seed {k}: on tumour slices {int((t['pred'] - t['inter']).sum())} false and "
          f"{int((t['area'] - t['inter']).sum())} missed pixels", flush=True)
    big = t[t["area"] >= np.quantile(t["area"], 0.8)]
    g = big.groupby("case_id")[["pred", "area"]].sum()
    ratio = (g["pred"] / g["area"]).sort_values()
    print(f"seed {k}: largest fifth of the sections, predicted / true area "
          f"{big['pred'].sum() / big['area'].sum():.3f}; lowest "
          + ", ".join(f"{c} {r:.2f}" for c, r in ratio.head(5).items()) + "; highest "
          + ", ".join(f"{c} {r:.2f}" for c, r in ratio.tail(5).items()), flush=True)
