"""``lgg_cv.py resize``: post-processing at the model's input size, then ``predict``'s bilinear
resize to the scan's size, against post-processing the resized map; scored on the scans' own
masks (the recipe prepared at 256², ``--reference``).

The folders are ``lgg_cv.py run``'s (out-of-fold flip-averaged maps per fold). Components
≥ 50 px first, as the published model's sidecar; ``hysteresis`` at the strong recipe's level.
"""

from __future__ import annotations

import cv2
import numpy as np
from lgg_cv_score import fmt, load, pixel_scores

from segstudy.postprocess import clean


def resize(prepared: str, reference: str, folders: list[str], level: float) -> None:
    small, maps, _, _ = load(prepared, folders, None)
    big, big_maps, truth, scale = load(prepared, folders, reference)
    if list(small["sample_id"]) != list(big["sample_id"]):
        raise SystemExit("--prepared and --reference hold other slices")
    cases, h, w = small["case_id"].to_numpy(), truth.shape[1], truth.shape[2]

    def resized(p: np.ndarray) -> np.ndarray:  # as segstudy.predict_write
        return np.stack([cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR) for s in p])

    each = maps.get("seeds", [maps["tta"]])
    each_big = big_maps.get("seeds", [big_maps["tta"]])
    for folder, m, m_big in zip(folders, each, each_big, strict=True):
        rows = {"published, then resized": resized(clean(m, cases, (0, 1), 50, False)),
                "+ largest 3-D, then resized": resized(clean(m, cases, (0, 1), 50, True)),
                f"+ grown to > {level}, then resized":
                    resized(clean(m, cases, (0, 1), 50, True, level)),
                f"resized, then + grown to > {level}":
                    clean(m_big, cases, (0, 1), round(50 * scale), True, level)}
        for name, prob in rows.items():
            s = pixel_scores(big, prob > 0.5, truth)
            print(f"{folder} {name}: Dice/patient {fmt(s['dice'])}, IoU over tumour slices "
                  f"{fmt(s['iou_t'])}")
