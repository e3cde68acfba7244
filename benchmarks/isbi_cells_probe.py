"""How much of an ISBI model's adapted Rand error is its cell extraction? A probe, not a stage.

Runs a trained ISBI model once over the 30 labelled slices with 8-fold test-time averaging,
then scores the cell extraction of ``segstudy.postprocess.cells`` over a grid of thresholds,
with and without ``thin`` (the one-pixel borders of a seeded watershed), per split, under two
definitions of the adapted Rand error:

- ``project``: ``segstudy.metrics.region_scores`` (skimage; the predicted membrane inside true
  cells is one segment);
- ``challenge``: Arganda-Carreras et al. (2015) as the challenge's Fiji code computes it: the
  true membrane is left out and each predicted membrane pixel is a segment of its own.

    python benchmarks/isbi_cells_probe.py --model models/isbi2012/strong.keras \
        --prepared data/prepared/isbi2012-strong --out isbi_cells_probe.csv

Choose on ``val``; ``test`` is printed to show whether the choice carries over, never to choose.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def challenge_rand_error(true_cells: np.ndarray, pred_cells: np.ndarray) -> float:
    """1 − F-score of the foreground-restricted Rand index, proposal's 0 as singletons."""
    from scipy.sparse import coo_matrix

    t, p = true_cells.ravel(), pred_cells.ravel()
    keep = t > 0
    t, p = t[keep], p[keep]
    n = t.size
    pij = coo_matrix((np.ones(n), (t, p))).tocsr()
    a = np.asarray(pij.sum(axis=1)).ravel()
    inside = pij[:, 1:]
    b = np.asarray(inside.sum(axis=0)).ravel()
    singletons = pij[:, 0].sum() / n
    sum_ab = inside.multiply(inside).sum() + singletons
    precision, recall = sum_ab / ((b**2).sum() + singletons), sum_ab / (a**2).sum()
    return float(1 - 2 * precision * recall / (precision + recall))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    from skimage.measure import label

    from segstudy import postprocess
    from segstudy.data.prepared import Prepared
    from segstudy.inference import load_model
    from segstudy.metrics import region_scores

    data = Prepared(a.prepared)
    model, info = load_model(a.model)
    rng = tuple(info["mask_range"])
    t0 = time.time()
    prob = postprocess.probability(model, np.asarray(data.images), info["norm"], 8, False, True)
    print(f"8-fold averaging of {len(prob)} slices: {time.time() - t0:.0f} s", flush=True)
    target = np.where(np.asarray(data.masks) > 0, rng[1], rng[0])
    mid = (rng[0] + rng[1]) / 2
    true_cells = [label(t > mid, connectivity=1) for t in target]  # once, not per setting
    rows = []
    for thin in (False, True):
        for threshold in THRESHOLDS:
            found = postprocess.cells(prob, rng, threshold, 0, 0.0, thin)
            for i, split in enumerate(data.table["split"]):
                pred_cells = label(found[i] > mid, connectivity=1)
                rows.append({"thin": thin, "threshold": threshold, "split": split,
                             "project": region_scores(found[i], target[i], rng)["rand_error"],
                             "challenge": challenge_rand_error(true_cells[i], pred_cells)})
    table = pd.DataFrame(rows).groupby(["split", "thin", "threshold"]).mean().round(4)
    table.to_csv(a.out)
    print(table.unstack("split").to_string())


if __name__ == "__main__":
    main()
