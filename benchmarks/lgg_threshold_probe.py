"""Probe: does another threshold of an LGG model's probability map meet the val targets?

Scores a published model (its flip averaging on, as ``postprocess.probability`` applies it) on
the train split (every 4th slice) and the val split of ``--prepared`` at several thresholds:
Dice per patient volume, IoU over tumour slices, slice recall / precision at ≥ 1 pixel. The
val patients' own Dice at 0.5 is printed too. Test slices are never read.

    PYTHONPATH=src python benchmarks/lgg_threshold_probe.py --prepared data/prepared/lgg-strong \\
        --model models/lgg/strong.keras
"""

from __future__ import annotations

import argparse

import numpy as np

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepared", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()

    from lgg_recipe_probe import scores  # the probes' one scoring of a val map

    from segstudy import postprocess
    from segstudy.data.prepared import Prepared
    from segstudy.inference import load_model

    data = Prepared(args.prepared)
    model, info = load_model(args.model)
    rng = tuple(info["mask_range"])
    for split in ("train", "val"):
        idx = data.indices(split)
        idx = idx[::4] if split == "train" else idx
        table = data.table.iloc[idx].reset_index(drop=True)
        prob = postprocess.probability(model, np.asarray(data.images[idx]), info["norm"], 16,
                                       True)  # the sidecar's normalisation, as predict
        scale = (prob - rng[0]) / (rng[1] - rng[0])
        truth = np.asarray(data.masks[idx]) > 0
        for level in THRESHOLDS:
            got = scores(table, scale, truth, level=level)
            print(f"{split} threshold {level}: Dice/patient {got['dice_per_patient']:.4f}  "
                  f"IoU tumour slices {got['iou_tumour_slices']:.4f}  recall "
                  f"{got['recall']:.3f}  precision {got['precision']:.3f}")
            if split == "val" and level == 0.5:
                print(got["per_patient"])


if __name__ == "__main__":
    main()
