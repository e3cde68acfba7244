"""Per-patient (volumetric) scores: every slice of one patient in one split scored as a volume.

This is how LGG segmentation is usually reported (Buda et al. 2019: "mean Dice per patient
volume"), and unlike the mean over slices it is not carried by the empty slices, which are
most of any LGG test mix. It is computed from per-slice pixel counts of the binarised masks
(the per-sample table's ``target_area``, ``pred_area`` and ``intersection`` columns), so the
evaluation and the report read the same numbers.

For a patient with predicted voxels P and ground-truth voxels T (the union of its slices):

    Dice = 2 |P ∩ T| / (|P| + |T|)        IoU = |P ∩ T| / |P ∪ T|

Edge case: a patient with no tumour voxel in the split and none predicted scores ``empty``
(0/0; the evaluation's ``empty_iou``); with tumour on one side only it scores 0. Every LGG
patient of the data set has tumour somewhere, but a split may hold only a patient's empty
slices when slices are split at random (the paper's protocol).

Reference: Buda, Saha, Mazurowski (2019), Comput. Biol. Med. 109:218-225.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNT_COLUMNS = ("target_area", "pred_area", "intersection")


def per_patient(table: pd.DataFrame, empty: float) -> pd.DataFrame:
    """One row per (split, patient): slice counts, voxel counts, ``dice`` and ``iou``.

    ``table`` needs ``split``, ``case_id`` and the :data:`COUNT_COLUMNS` (one row per slice).
    """
    missing = [c for c in ("split", "case_id", *COUNT_COLUMNS) if c not in table]
    if missing:
        raise ValueError(f"per-sample table lacks {missing}; rerun evaluate")
    grouped = table.assign(tumour_slice=table["target_area"] > 0).groupby(
        ["split", "case_id"], sort=True)
    rows = grouped.agg(slices=("target_area", "size"), tumour_slices=("tumour_slice", "sum"),
                       target_area=("target_area", "sum"), pred_area=("pred_area", "sum"),
                       intersection=("intersection", "sum")).reset_index()
    both = (rows["target_area"] + rows["pred_area"]).to_numpy(dtype=float)
    inter = rows["intersection"].to_numpy(dtype=float)
    union = both - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["dice"] = np.where(both > 0, 2 * inter / both, empty)
        rows["iou"] = np.where(union > 0, inter / union, empty)
    return rows


def split_means(patients: pd.DataFrame, split: str) -> dict[str, float]:
    """Mean per-patient Dice and IoU over the patients of ``split`` (NaN when it has none)."""
    rows = patients[patients["split"] == split]
    if rows.empty:
        return {"dice_per_patient": float("nan"), "iou_per_patient": float("nan"),
                "n_patients": 0}
    return {"dice_per_patient": float(rows["dice"].mean()),
            "iou_per_patient": float(rows["iou"].mean()), "n_patients": len(rows)}


def mean_dice_per_patient(table: pd.DataFrame, truth: np.ndarray, found: np.ndarray,
                          empty: float) -> float:
    """Mean Dice per patient volume straight from masks: ``truth`` and ``found`` are boolean
    (N, ...) arrays of the N slices ``table`` (with ``case_id``) lists, in its order."""
    n = len(table)
    truth, found = truth.reshape(n, -1), found.reshape(n, -1)
    counts = table.assign(split="any", target_area=truth.sum(1), pred_area=found.sum(1),
                          intersection=(truth & found).sum(1))
    return float(per_patient(counts, empty)["dice"].mean())
