"""``lgg_cv.py flips``: does averaging the strong LGG model over all four flips that training
draws (none, left-right, up-down, both; ``data.augment``) beat the published left-right average?
Scored on the saved out-of-fold maps of runs that saved ``tta4`` (``lgg_recipe_probe.py``
since 2026-12-07), the same models on both sides, so the comparison carries no training noise.

Per seed and pooled over (seed, patient): Dice per patient and IoU over tumour slices (IoU-t)
under the published steps (components ≥ 50 px, the largest 3-D component grown to > 0.3) and
on the bare map (components ≥ 50 px only), the paired Δ Dice per patient (t-interval) and
Δ IoU-t (cluster-robust over the patients, ``report.verdict.ratio_interval``), and the Tumour
rule "≥ 1 px" (slice recall / precision).
"""

from __future__ import annotations

import numpy as np
from lgg_cv_more import published_mask
from lgg_cv_score import fmt, load, pixel_scores, rule

from segstudy.postprocess import clean
from segstudy.report.verdict import paired_interval, ratio_interval


def flips(prepared: str, folders: list[str]) -> None:
    table, maps, truth, scale = load(prepared, folders, None)
    if "seeds_tta4" not in maps:
        raise SystemExit(f"{folders[0]}: its folds saved no four-flip map (tta4); rerun them "
                         "with lgg_recipe_probe.py --save-maps of 2026-12-07 or later")
    cases, size = table["case_id"].to_numpy(), round(50 * scale)
    has = truth.reshape(len(truth), -1).any(1)
    two = maps.get("seeds", [maps["tta"]])
    steps = {"published steps": lambda m: published_mask(m, cases, size),
             "bare, components ≥ 50 px": lambda m: clean(m, cases, (0.0, 1.0), size,
                                                         False) > 0.5}
    print(f"{table['case_id'].nunique()} patients, {len(folders)} seed(s), {truth.shape[1]}² "
          "grid; four flips (B) against the left-right pair (A), the same models", flush=True)
    for name, mask in steps.items():
        dice, iou, counts = [], [], []
        for folder, a_map, b_map in zip(folders, two, maps["seeds_tta4"], strict=True):
            a, b = (pixel_scores(table, mask(m), truth) for m in (a_map, b_map))
            dice.append((b["patients"] - a["patients"]).to_numpy())
            iou.append((b["iou_by_case"]["sum"] - a["iou_by_case"]["sum"]).to_numpy())
            counts.append(a["iou_by_case"]["size"].to_numpy())
            print(f"{name}, {folder}: Dice/patient {a['dice'][0]:.3f} → {b['dice'][0]:.3f}, "
                  f"IoU-t {a['iou_t'][0]:.3f} → {b['iou_t'][0]:.3f}, ≥ 1 px recall/precision "
                  f"{rule(a['areas'] / scale, has, 1)} → {rule(b['areas'] / scale, has, 1)}",
                  flush=True)
        d = np.concatenate(dice)
        print(f"{name}, {len(d)} (seed, patient) pairs: Δ Dice/patient "
              f"{fmt(paired_interval(d, 0 * d))}; Δ IoU-t "
              f"{fmt(ratio_interval(np.concatenate(iou), np.concatenate(counts)))}", flush=True)
