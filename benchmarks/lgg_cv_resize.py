"""Post-processing at the model's input size, then ``predict``'s bilinear resize to the scan's
size, against post-processing the resized map: scored on the scans' own masks (256²).

    PYTHONPATH=src:benchmarks python benchmarks/lgg_cv_resize.py \\
        --prepared data/prepared/lgg-strong --reference <the recipe prepared at 256²> \\
        --dir <cv seed folder> [<another seed's folder> ...]

The folders are ``lgg_cv.py run``'s (out-of-fold flip-averaged maps per fold). Components
≥ 50 px first, as the published model's sidecar; ``hysteresis`` at 0.3, as the strong recipe.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from lgg_cv_score import fmt, load, pixel_scores

from segstudy.postprocess import clean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--dir", required=True, nargs="+")
    ap.add_argument("--hysteresis", type=float, default=0.3)
    a = ap.parse_args()
    small, maps, _, _ = load(a.prepared, a.dir, None)
    big, big_maps, truth, scale = load(a.prepared, a.dir, a.reference)
    if list(small["sample_id"]) != list(big["sample_id"]):
        raise SystemExit("--prepared and --reference hold other slices")
    cases, h, w = small["case_id"].to_numpy(), truth.shape[1], truth.shape[2]

    def resized(p: np.ndarray) -> np.ndarray:  # as segstudy.predict_write
        return np.stack([cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR) for s in p])

    each = maps.get("seeds", [maps["tta"]])
    each_big = big_maps.get("seeds", [big_maps["tta"]])
    for folder, m, m_big in zip(a.dir, each, each_big, strict=True):
        rows = {"published, then resized": resized(clean(m, cases, (0, 1), 50, False)),
                "+ largest 3-D, then resized": resized(clean(m, cases, (0, 1), 50, True)),
                f"+ grown to > {a.hysteresis}, then resized":
                    resized(clean(m, cases, (0, 1), 50, True, a.hysteresis)),
                f"resized, then + grown to > {a.hysteresis}":
                    clean(m_big, cases, (0, 1), round(50 * scale), True, a.hysteresis)}
        for name, prob in rows.items():
            s = pixel_scores(big, prob > 0.5, truth)
            print(f"{folder} {name}: Dice/patient {fmt(s['dice'])}, IoU over tumour slices "
                  f"{fmt(s['iou_t'])}")


if __name__ == "__main__":
    main()
