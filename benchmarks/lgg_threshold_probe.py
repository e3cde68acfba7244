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

    from segstudy import postprocess
    from segstudy.data.prepared import Prepared
    from segstudy.inference import load_model
    from segstudy.patients import per_patient

    data = Prepared(args.prepared)
    model, info = load_model(args.model)
    rng = tuple(info["mask_range"])
    for split in ("train", "val"):
        idx = data.indices(split)
        idx = idx[::4] if split == "train" else idx
        table = data.table.iloc[idx].reset_index(drop=True)
        prob = postprocess.probability(model, np.asarray(data.images[idx]), data.norm, 16, True)
        scale = ((prob - rng[0]) / (rng[1] - rng[0])).reshape(len(idx), -1)
        truth = np.asarray(data.masks[idx]).reshape(len(idx), -1) > 0
        tumour = truth.any(1)
        for level in THRESHOLDS:
            found = scale > level
            inter, union = (truth & found).sum(1), (truth | found).sum(1)
            slice_iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
            counts = table.assign(split=split, target_area=truth.sum(1),
                                  pred_area=found.sum(1), intersection=inter)
            patients = per_patient(counts, 1.0)
            detected = found.any(1)
            print(f"{split} threshold {level}: Dice/patient {patients['dice'].mean():.4f}  "
                  f"IoU tumour slices {slice_iou[tumour].mean():.4f}  recall "
                  f"{detected[tumour].mean():.3f}  precision {tumour[detected].mean():.3f}")
            if split == "val" and level == 0.5:
                print(dict(zip(patients["case_id"], patients["dice"].round(3), strict=True)))


if __name__ == "__main__":
    main()
