"""Where a published LGG recipe model loses its val points, from evaluate's outputs only (lab
notes 2026-12-05-lgg-plateau): IoU over tumour slices by tumour-area quintile and by patient,
the missed slices' areas, the false positives' distance to the nearest tumour slice, the
Tumour rule's recall / precision frontier (area ≥ a at several probability levels, on the
saved probability maps), and the ceiling a resize of the truth alone would impose.

    PYTHONPATH=src python benchmarks/lgg_anatomy.py --model strong \\
        --reference /tmp/p/lgg-strong-256
(``--reference``: the recipe's prepared folder at 256², as in the recipe probes' notes.)
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

LEVELS, AREAS, CEILING_SIZES = (0.5, 0.3, 0.2, 0.1), (1, 5, 10, 20, 30, 55, 80), (128, 160, 192)


def anatomy(model: str, split: str) -> None:
    from segstudy import layout
    from segstudy.report.common import npz

    t = pd.read_csv(layout.per_sample("lgg", model))
    t["slice"] = t.groupby("case_id").cumcount()  # prepare writes each case's slices in order
    rows = t[t["split"] == split]
    tumour = rows[rows["target_area"] > 0].copy()
    tumour["quintile"] = pd.qcut(tumour["target_area"], 5)
    missed = ("pred_area", lambda a: int((a == 0).sum()))
    print(tumour.groupby("quintile", observed=True).agg(
        slices=("iou", "size"), iou=("iou", "mean"), missed=missed))
    print(tumour.groupby("case_id").agg(slices=("iou", "size"), iou=("iou", "mean")))
    print("missed slices' areas:", sorted(tumour.loc[tumour["pred_area"] == 0, "target_area"]))
    gap = []
    for _, case in rows.groupby("case_id"):
        ys = case.loc[case["target_area"] > 0, "slice"].to_numpy()
        fp = case[(case["target_area"] == 0) & (case["pred_area"] > 0)]
        gap += [int(np.abs(ys - s).min()) if len(ys) else -1 for s in fp["slice"]]
    print("false positives' distance to the nearest tumour slice (−1: none):", sorted(gap))
    prob = npz("lgg", model)["labelled"][(t["split"] == split).to_numpy()]
    prob = prob.reshape(len(prob), -1).astype(np.float32) / 255
    has = (rows["target_area"] > 0).to_numpy()
    for level in LEVELS:
        area = (prob >= level).sum(1)
        cells = []
        for a in AREAS:
            tp = int((area >= a)[has].sum())
            cells.append(f"≥{a}: {tp / has.sum():.3f}/{tp / max(int((area >= a).sum()), 1):.3f}")
        print(f"level {level} recall/precision", "  ".join(cells))


def ceiling(reference: str, split: str) -> None:
    import cv2
    from lgg_recipe_probe import scores

    from segstudy.data.prepared import Prepared

    ref = Prepared(reference)
    idx = ref.indices(split)
    table = ref.table.iloc[idx].reset_index(drop=True)
    truth = np.asarray(ref.masks[idx]) > 0
    h = truth.shape[1]
    for size in CEILING_SIZES:
        small = [cv2.resize(m.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
                 for m in truth]
        back = np.stack([cv2.resize(m, (h, h), interpolation=cv2.INTER_LINEAR) for m in small])
        got = scores(table, back, truth)
        print(f"truth through {size}² and back to {h}²: Dice per patient "
              f"{got['dice_per_patient']:.4f}, IoU tumour slices {got['iou_tumour_slices']:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="strong")
    ap.add_argument("--split", default="val", choices=["train", "val"])
    ap.add_argument("--reference", help="the recipe's prepared folder at 256² (ceiling)")
    a = ap.parse_args()
    anatomy(a.model, a.split)
    if a.reference:
        ceiling(a.reference, a.split)


if __name__ == "__main__":
    main()
