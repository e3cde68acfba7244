"""``lgg_cv.py levels``: are the published steps' two probability levels still the right ones
for the Lovász-fine-tuned strong LGG model? Scored on the saved out-of-fold maps of one or more
seeds (``lgg_cv.py run``; no training), each against the published steps of the same seed
(flip averaging, components ≥ 50 px at probability > 0.5, each patient's largest 3-D component
grown over the 26-connected pixels > 0.3; ``postprocess.clean``).

Both levels were chosen on maps of the recipe before its Lovász fine-tuning
(``docs/2026-12-05-hysteresis.md``); the fine-tuned maps over-draw the smallest tumour
sections (predicted / true area 1.49 in the smallest fifth, seed 42, 68 patients) and under-draw
the largest (0.82). Tried here:

- **cut** ``c``: the level at which components are found, counted and the largest 3-D one
  kept (published: 0.5);
- **grow** ``g``: the level over which that component is grown (published: 0.3; "none": no
  growth);
- **in plane**: grown over each slice's 8-connected pixels > ``g`` that touch the kept
  component on that slice, not across slices (growth into the end slices of a tumour, where
  its sections are smallest, is what 3-D growth adds there);
- **small sections tightened** (``A``, ``c``): after the published steps, on each slice whose
  mask covers fewer than ``A`` input pixels, only the pixels > ``c`` kept (the over-drawn small
  sections drawn at a higher level).

Per setting and seed: Dice per patient / IoU over tumour slices (IoU-t); averaged over the
seeds per patient, Δ Dice per patient (paired t-interval) and Δ IoU-t (cluster-robust interval
over the patients, ``report.verdict.ratio_interval``); the Tumour rule "≥ 1 px" per seed. The
line "c 0.5, g 0.3" re-implements the published steps and must read Δ 0. Last, the tumour
slices by quintile of true area under the setting with the highest mean Δ IoU-t (chosen on
these patients: a candidate to confirm on other seeds' maps, not a measurement of it).
"""

from __future__ import annotations

import numpy as np
from lgg_cv_more import against, by_area, published_mask
from lgg_cv_score import load, pixel_scores
from scipy import ndimage

from segstudy.postprocess import clean

CUTS = (0.4, 0.5, 0.6, 0.7)
GROWS = (None, 0.1, 0.2, 0.3, 0.4, 0.5)
SMALL = (100, 200, 300, 500)  # input pixels (at 160²)
TIGHT = (0.6, 0.7, 0.8, 0.9)


def levels_mask(prob: np.ndarray, cases: np.ndarray, size: int, cut: float,
                grow: float | None, in_plane: bool = False) -> np.ndarray:
    """Binary mask: components ≥ ``size`` px of ``prob > cut`` per slice, each case's largest
    3-D component, grown over the connected pixels ``> grow`` that touch it (26-connected in
    the case's volume, or 8-connected on each slice with ``in_plane``). The growth is done here,
    not by ``postprocess.clean``'s hysteresis: on the scale whose midpoint is ``cut`` that
    reaches no level below its bottom, ``2·cut − 1`` (cut 0.6 cannot grow to 0.1)."""
    kept = clean(prob, cases, (2 * cut - 1, 1.0), size, True) > cut  # clean cuts mid-range
    if grow is None or grow >= cut:
        return kept
    weak = prob > grow
    out = kept.copy()
    for case in dict.fromkeys(cases):
        rows = np.flatnonzero(cases == case)
        if in_plane:
            for r in rows:
                lab, _ = ndimage.label(weak[r], structure=np.ones((3, 3)))
                out[r] |= np.isin(lab, np.unique(lab[kept[r] & (lab > 0)]))
        else:
            lab, _ = ndimage.label(weak[rows], structure=np.ones((3, 3, 3)))
            out[rows] |= np.isin(lab, np.unique(lab[kept[rows] & (lab > 0)]))
    return out


def levels(prepared: str, folders: list[str]) -> None:
    table, maps, truth, scale = load(prepared, folders, None)
    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    each = maps.get("seeds", [maps["tta"]])
    published = [published_mask(m, cases, size) for m in each]
    base = [pixel_scores(table, f, truth) for f in published]
    print(f"{table['case_id'].nunique()} patients, {len(each)} seed(s), {truth.shape[1]}² "
          f"grid; Δ against the published steps (c 0.5, g 0.3) of the same seed(s)", flush=True)
    best: tuple[float, str, list[np.ndarray]] = (-np.inf, "", [])

    def line(name: str, masks: list[np.ndarray]) -> None:
        nonlocal best
        di = against(name, table, truth, scale, base, masks)
        if di[0] > best[0]:
            best = (di[0], name, masks)

    for in_plane in (False, True):
        for cut in CUTS:
            for grow in GROWS:
                if (grow is not None and grow >= cut) or (in_plane and grow is None):
                    continue
                line(f"c {cut}, g {grow}{' in plane' if in_plane else ''}",
                     [levels_mask(m, cases, size, cut, grow, in_plane) for m in each])
    for area in SMALL:
        for cut in TIGHT:
            masks = []
            for m, f in zip(each, published, strict=True):
                drawn = f.reshape(len(f), -1).sum(1) / scale  # input pixels, as the rule
                small = (drawn > 0) & (drawn < area)
                masks.append(np.where(small[:, None, None], f & (m > cut), f))
            line(f"small sections (< {area} px) tightened to > {cut}", masks)
    print(f"highest mean Δ IoU-t: {best[1]}; by true-area quintile:", flush=True)
    by_area(table, best[2], truth)
