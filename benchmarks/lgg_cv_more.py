"""``lgg_cv.py more``: two more ideas for the strong LGG post-processing, scored on the saved
out-of-fold maps of several seeds (``lgg_cv.py run``; no training), each against the published
steps (flip averaging, components ≥ 50 px, the largest 3-D component grown to > 0.3) of the
same seed, Dice per patient paired over the patients and averaged over the seeds:

- **keep more 3-D components**: besides the largest, those of at least ``f`` × its voxels, or
  those whose peak probability reaches ``p`` (a tumour predicted in pieces, as TCGA_DU_7018's);
  then grown as ``postprocess.clean``'s hysteresis does. The line "largest only" must equal
  the published steps: it checks this re-implementation.
- **a half-maximum contour per slice**: after the published steps, keep on each slice only the
  pixels above ``r`` × that slice's peak within the mask (and above the level): the edge of a
  blurred small section lies nearer half its peak than at a fixed level;
- **seed ensembles**: the average of two (or all) seeds' maps under the published steps,
  against the mean of those seeds alone.

Each line also gives the Tumour rule "≥ 1 px" (slice recall / precision) per seed. Last,
where the IoU over tumour slices goes under the published steps: the tumour slices in
quintiles of their true area, per seed: mean IoU, the share missed (empty mask) and predicted
over true area; then the largest fifth per patient (the five missing the most pixels) and its
predicted over true area without the three worst: is the under-drawing general or a few
patients'?
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from lgg_cv_score import fmt, load, pixel_scores, rule
from scipy import ndimage

from segstudy.postprocess import clean
from segstudy.report.verdict import paired_interval, ratio_interval

LEVEL = 0.3  # the strong recipe's hysteresis
FRACTIONS = (0.5, 0.2, 0.1, 0.05, 0.02)
PEAKS = (0.99, 0.95, 0.9, 0.8)
HALF = (0.4, 0.5, 0.6, 0.7)
CUBE = np.ones((3, 3, 3))


def published_mask(prob: np.ndarray, cases: np.ndarray, size: int) -> np.ndarray:
    """The published steps' mask: components ≥ ``size`` px per slice, each case's largest 3-D
    component grown over the connected pixels > :data:`LEVEL` (``postprocess.clean``)."""
    return clean(prob, cases, (0.0, 1.0), size, True, LEVEL) > 0.5


def against(name: str, table: pd.DataFrame, truth: np.ndarray, scale: float, base: list[dict],
            masks: list[np.ndarray]) -> tuple[float, float, float]:
    """Prints one line: each seed's Dice per patient / IoU-t under ``masks`` (one per seed);
    averaged over the seeds per patient, Δ Dice per patient (paired t-interval) and Δ IoU-t
    (cluster-robust over the patients) against ``base`` (each seed's ``pixel_scores`` under
    the published steps); the Tumour rule "≥ 1 px" per seed. Returns the Δ IoU-t interval."""
    has = truth.reshape(len(truth), -1).any(1)
    got = [pixel_scores(table, f, truth) for f in masks]
    gain = np.mean([(g["patients"] - b["patients"]).to_numpy()
                    for g, b in zip(got, base, strict=True)], axis=0)
    d_iou = np.mean([(g["iou_by_case"]["sum"] - b["iou_by_case"]["sum"]).to_numpy()
                     for g, b in zip(got, base, strict=True)], axis=0)
    di = ratio_interval(d_iou, base[0]["iou_by_case"]["size"].to_numpy())
    print(f"{name}: Dice/IoU-t " + " ".join(f"{g['dice'][0]:.3f}/{g['iou_t'][0]:.3f}" for g in got)
          + f"; Δ Dice/patient {fmt(paired_interval(gain, 0 * gain))}; Δ IoU-t {fmt(di)}; ≥ 1 px "
          f"recall/precision {' '.join(rule(g['areas'] / scale, has, 1) for g in got)}",
          flush=True)
    return di


def keep(prob: np.ndarray, cases: np.ndarray, size: int, frac: float | None = None,
         peak: float | None = None) -> np.ndarray:
    """Binary mask: components ≥ ``size`` px per slice, then per case the largest 3-D
    component and those ≥ ``frac`` × it or peaking at ≥ ``peak``; grown over the 26-connected
    pixels of ``prob`` > :data:`LEVEL` (as ``clean``: the weak set is the raw map's)."""
    out = clean(prob, cases, (0.0, 1.0), size, False)
    kept = out > 0.5
    grown = np.zeros_like(kept)
    for case in dict.fromkeys(cases):
        rows = np.flatnonzero(cases == case)
        lab, n = ndimage.label(kept[rows], structure=CUBE)
        if n > 1:
            sizes = np.asarray(ndimage.sum(kept[rows], lab, range(1, n + 1)))
            ok = sizes == sizes.max()
            if frac is not None:
                ok |= sizes >= frac * sizes.max()
            if peak is not None:
                ok |= np.asarray(ndimage.maximum(prob[rows], lab, range(1, n + 1))) >= peak
            kept[rows] &= np.isin(lab, 1 + np.flatnonzero(ok))
        weak, _ = ndimage.label(prob[rows] > LEVEL, structure=CUBE)
        seeds = np.unique(weak[kept[rows] & (weak > 0)])
        grown[rows] = np.isin(weak, seeds[seeds > 0])
    return grown | kept


def more(prepared: str, folders: list[str]) -> None:
    table, maps, truth, scale = load(prepared, folders, None)
    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    has = truth.reshape(len(truth), -1).any(1)
    each = maps.get("seeds", [maps["tta"]])

    def one_px(got: dict) -> str:  # the Tumour rule "≥ 1 px" (the rule counts input pixels)
        return rule(got["areas"] / scale, has, 1)

    def line(name: str, got: list[dict], ref: list[dict]) -> None:
        gain = np.mean([(g["patients"] - r["patients"]).to_numpy()
                        for g, r in zip(got, ref, strict=True)], axis=0)
        print(f"{name}: Dice/IoU-t " + " ".join(f"{g['dice'][0]:.3f}/{g['iou_t'][0]:.3f}"
                                                for g in got)
              + f"; Δ Dice/patient {fmt(paired_interval(gain, 0 * gain))}; ≥ 1 px recall/"
              f"precision {' '.join(one_px(g) for g in got)}", flush=True)

    masks = [published_mask(m, cases, size) for m in each]
    base = [pixel_scores(table, found, truth) for found in masks]
    print(f"{table['case_id'].nunique()} patients, {len(folders)} seed(s), "
          f"{truth.shape[1]}² grid; Δ against the published steps of the same seed(s)")
    line("published steps", base, base)
    line("largest only (re-implemented)", [pixel_scores(table, keep(m, cases, size), truth)
                                           for m in each], base)
    for kind, values in (("frac", FRACTIONS), ("peak", PEAKS)):
        for v in values:
            line(f"keep {kind} ≥ {v}", [pixel_scores(table, keep(m, cases, size, **{kind: v}),
                                                     truth) for m in each], base)
    for r in HALF:
        got = []
        for m, found in zip(each, masks, strict=True):
            peak = np.where(found, m, 0).reshape(len(m), -1).max(1)[:, None, None]
            got.append(pixel_scores(table, found & (m > np.maximum(LEVEL, r * peak)), truth))
        line(f"half-maximum contour, r = {r}", got, base)
    for k in range(2, len(each) + 1):
        for group in itertools.combinations(range(len(each)), k):
            avg = pixel_scores(table, published_mask(np.mean([each[i] for i in group], axis=0),
                                               cases, size),
                               truth)
            alone = np.mean([base[i]["patients"].to_numpy() for i in group], axis=0)
            gain = avg["patients"].to_numpy() - alone
            print(f"ensemble of seeds {'+'.join(folders[i] for i in group)}: Dice/IoU-t "
                  f"{avg['dice'][0]:.3f}/{avg['iou_t'][0]:.3f}; Δ Dice/patient vs its seeds "
                  f"alone {fmt(paired_interval(gain, 0 * gain))}; ≥ 1 px recall/precision "
                  f"{one_px(avg)}", flush=True)
    by_area(table, masks, truth)


def by_area(table: pd.DataFrame, masks: list[np.ndarray], truth: np.ndarray) -> None:
    """Per seed's mask: the tumour slices in quintiles of true area (pixels of the grid)."""
    n = len(truth)
    area = truth.reshape(n, -1).sum(1)
    has = area > 0
    quintile = pd.qcut(area[has], 5, labels=False)
    for k, found in enumerate(masks):
        pred = found.reshape(n, -1).sum(1)[has]
        inter = (found & truth).reshape(n, -1).sum(1)[has]
        d = pd.DataFrame({"q": quintile, "area": area[has], "pred": pred,
                          "iou": inter / (area[has] + pred - inter),
                          "case": table["case_id"].to_numpy()[has]})
        g = d.groupby("q").agg(slices=("iou", "size"), median_area=("area", "median"),
                               iou=("iou", "mean"), missed=("pred", lambda x: (x == 0).mean()),
                               pred=("pred", "sum"), true=("area", "sum"))
        g["pred_over_true"] = g.pop("pred") / g.pop("true")
        found_iou = d["iou"][d["pred"] > 0].mean()
        print(f"seed {k}: IoU over tumour slices {d['iou'].mean():.3f}, missed "
              f"{(d['pred'] == 0).mean():.3f}, IoU of the found {found_iou:.3f}"
              f"; by true-area quintile:\n{g.round(3).to_string()}", flush=True)
        largest(d[d["q"] == d["q"].max()])


def largest(d: pd.DataFrame, worst: int = 3) -> pd.DataFrame:
    """The largest fifth of tumour sections per patient: where its missing pixels are
    (printed; returned, the patient missing the most first)."""
    g = d.groupby("case").agg(slices=("iou", "size"), iou=("iou", "mean"), pred=("pred", "sum"),
                              true=("area", "sum"))
    g["pred_over_true"] = g["pred"] / g["true"]
    g = g.assign(missing=g["true"] - g["pred"]).sort_values("missing", ascending=False)
    rest = d[~d["case"].isin(g.index[:worst])]
    print(f"  largest fifth: {len(d)} slices of {len(g)} patients, predicted over true "
          f"{d['pred'].sum() / d['area'].sum():.3f}; without the {worst} patients missing the "
          f"most pixels {rest['pred'].sum() / rest['area'].sum():.3f}; those missing the most:\n"
          f"{g.head(5).round(3).to_string()}", flush=True)
    return g
