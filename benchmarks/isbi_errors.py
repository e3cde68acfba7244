"""Where does the strong ISBI model lose its interior IoU? A probe, not a stage.

Scores the published model's pixel map (its sidecar's test-time averaging, before the cell
steps: the map the interior IoU is read from) on every labelled slice, and for each split
prints the interior IoU, the pixel error (wrong pixels / all pixels, the challenge's "pixel
error"; the 2015 U-Net: 0.0611 on the challenge test set) split into false interior (FP) and
missed interior (FN), and where the wrong pixels lie: their distance to the true border, the
interior pixels that touch a membrane (0 = on it, 1 = its neighbour, ...). Errors within a pixel
or two of the border are disagreements about a membrane's edge; errors ≥ 5 px away are
membranes missed or invented. Last line: the pixel error issue 35's IoU of 0.92 allows at this
interior share when FP = FN (IoU = (s − e/2) / (s + e/2)).

    PYTHONPATH=src python benchmarks/isbi_errors.py [--model models/isbi2012/strong.keras]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from segstudy import layout, metrics, postprocess
from segstudy.data.prepared import Prepared
from segstudy.inference import load_model
from segstudy.params import load_params
from segstudy.recipes import recipe_of_model

BINS = 6  # distances 0 … 4 px, and ≥ 5


def border_distance(truth: np.ndarray) -> np.ndarray:
    """Distance of every pixel to the nearest interior pixel that touches a membrane."""
    border = truth ^ ndi.binary_erosion(truth, border_value=1)
    return ndi.distance_transform_edt(~border)


def split_errors(truth: np.ndarray, pred: np.ndarray) -> dict[str, float | list[float]]:
    """Interior IoU (``metrics.iou``, mean over slices), pixel error (``1 − metrics.percent``),
    FP and FN shares, and the wrong pixels' shares by distance to the true border, for boolean
    stacks (N, H, W). What-ifs: the IoU with every wrong pixel ≥ 5 px from the border set right
    (no membrane missed or invented), and with every one ≥ 2 px set right (only the border
    pixel and its neighbour wrong)."""
    dist = np.stack([np.rint(border_distance(t)) for t in truth])
    wrong = truth ^ pred
    hist = np.bincount(np.clip(dist[wrong].astype(int), 0, BINS - 1), minlength=BINS)
    target = truth.astype(np.float32)
    versions = {"iou": pred, "iou_far_fixed": np.where(dist >= BINS - 1, truth, pred),
                "iou_near_fixed": np.where(dist >= 2, truth, pred)}
    ious = {k: float(np.mean(metrics.iou(q.astype(np.float32), target)))
            for k, q in versions.items()}
    accuracy = float(np.mean(metrics.percent(pred.astype(np.float32), target))) / 100
    n = truth.size
    return {**ious, "pixel_error": 1 - accuracy,
            "fp": float((pred & ~truth).sum() / n), "fn": float((truth & ~pred).sum() / n),
            "by_distance": (hist / max(1, hist.sum())).round(3).tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(layout.model("isbi2012", "strong")))
    a = ap.parse_args()
    model, info = load_model(a.model)
    recipe = recipe_of_model(load_params(), "isbi2012", Path(a.model).stem)
    data = Prepared(recipe.prepared)
    post, rng = postprocess.settings(info), tuple(info["mask_range"])
    prob = postprocess.probability(model, np.asarray(data.images), info["norm"], 8,
                                   bool(post["tta_flip"]), bool(post["tta_dihedral"]))
    pixels = postprocess.pixels(prob, None, rng, post)
    pred = metrics.binarise(pixels, rng).reshape(prob.shape[:3]) > 0
    truth = np.asarray(data.masks) > 0
    split = data.table["split"].to_numpy()
    for name in ("train", "val", "test"):
        s = split_errors(truth[split == name], pred[split == name])
        print(f"{name}: interior IoU {s['iou']:.4f}, pixel error {s['pixel_error']:.4f} "
              f"(FP {s['fp']:.4f}, FN {s['fn']:.4f}); wrong pixels by distance to the true "
              f"border 0, 1, 2, 3, 4, ≥ 5 px: {s['by_distance']}; IoU with those ≥ 5 px set "
              f"right {s['iou_far_fixed']:.4f}, with those ≥ 2 px set right "
              f"{s['iou_near_fixed']:.4f}")
    share = float(truth.mean())
    print(f"interior share {share:.3f}: IoU 0.92 with FP = FN is a pixel error of "
          f"{2 * share * 0.08 / 1.92:.4f}")


if __name__ == "__main__":
    main()
