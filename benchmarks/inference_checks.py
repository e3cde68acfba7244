"""Inference-time checks on a published model, no training (lab notes 2026-12-05-lgg-plateau).

- ``scales``: the strong LGG model on val with its flip averaging, the input resized to each
  of several sizes and the map resized back; each size alone and averages of the maps.
- ``isbi-threshold``: the strong ISBI model's pixel map (8-fold averaging) scored as interior
  IoU at several levels on val and train: is the 0.5 level the best?

    PYTHONPATH=src:benchmarks python benchmarks/inference_checks.py scales
    PYTHONPATH=src:benchmarks python benchmarks/inference_checks.py isbi-threshold
"""

from __future__ import annotations

import argparse

import numpy as np

SIZES = (128, 160, 192, 224)
AVERAGES = ((160, 192), (128, 160, 192), (160, 192, 224))
LEVELS = (0.3, 0.4, 0.5, 0.6, 0.7)


def _resized(maps: np.ndarray, size: int) -> np.ndarray:
    """Probability maps back to ``size``², bilinear, as ``predict`` resizes its output."""
    import cv2

    return np.stack([cv2.resize(a.astype(np.float32), (size, size),
                                interpolation=cv2.INTER_LINEAR) for a in maps])


def scales(prepared: str, model_path: str) -> None:
    from lgg_recipe_probe import scores

    from segstudy import postprocess
    from segstudy.data.prepared import Prepared, resize_images
    from segstudy.inference import load_model

    data, (model, info) = Prepared(prepared), load_model(model_path)
    idx = data.indices("val")
    table = data.table.iloc[idx].reset_index(drop=True)
    x, truth = np.asarray(data.images[idx]), np.asarray(data.masks[idx]) > 0
    h, maps = x.shape[1], {}
    for size in SIZES:  # scans resized as prepare and predict resize them
        prob = postprocess.probability(model, x if size == h else resize_images(x, size),
                                       info["norm"], 16, True)
        prob = prob[..., 0] if prob.ndim == 4 else prob
        maps[size] = prob if size == h else _resized(prob, h)
        print(size, _headline(scores(table, maps[size], truth)), flush=True)
    for combo in AVERAGES:
        print(combo, _headline(scores(table, np.mean([maps[c] for c in combo], 0), truth)))


def _headline(got: dict) -> dict:
    return {k: v for k, v in got.items() if k != "per_patient"}


def isbi_threshold(prepared: str, model_path: str) -> None:
    from segstudy import postprocess
    from segstudy.data.prepared import Prepared
    from segstudy.inference import load_model
    from segstudy.metrics import iou

    data, (model, info) = Prepared(prepared), load_model(model_path)
    lo, hi = info["mask_range"]
    for split in ("val", "train"):
        idx = data.indices(split)
        prob = postprocess.probability(model, np.asarray(data.images[idx]), info["norm"], 2,
                                       False, True)
        prob = ((prob[..., 0] if prob.ndim == 4 else prob) - lo) / (hi - lo)
        truth = np.asarray(data.masks[idx]) > 0
        ious = [float(np.mean(iou((prob >= level).astype(np.float32), truth)))
                for level in LEVELS]
        print(split, " ".join(f"{lv}: {v:.4f}" for lv, v in zip(LEVELS, ious, strict=True)),
              f"interior share predicted {float((prob >= 0.5).mean()):.3f}, "
              f"true {float(truth.mean()):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("check", choices=["scales", "isbi-threshold"])
    ap.add_argument("--prepared")
    ap.add_argument("--model")
    a = ap.parse_args()
    if a.check == "scales":
        scales(a.prepared or "data/prepared/lgg-strong", a.model or "models/lgg/strong.keras")
    else:
        isbi_threshold(a.prepared or "data/prepared/isbi2012-strong",
                       a.model or "models/isbi2012/strong.keras")


if __name__ == "__main__":
    main()
