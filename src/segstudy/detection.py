"""Study B's slice classification: "Tumour" when the predicted mask has ≥ ``min_area`` pixels.

``min_area`` is chosen on the validation split (never on test): the value that maximises the
Tumour class's F1 among those whose Tumour recall reaches ``recall_floor`` (false negatives
are the paper's stated weakness); if none reaches the floor, the one with the highest recall.
Counts and per-class scores come from scikit-learn, not from hand counting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, f1_score, recall_score

CLASSES = ("Tumour", "No tumour")


def is_tumour(areas: Any, min_area: float) -> np.ndarray:
    """The Tumour rule, the one place it is written: a slice is Tumour when its predicted mask
    has at least ``min_area`` pixels (``areas``: one count per slice, or one count)."""
    return np.asarray(areas) >= min_area


def choose_min_area(areas: np.ndarray, has_tumour: np.ndarray, recall_floor: float) -> dict:
    truth = np.asarray(has_tumour, bool)
    candidates = np.unique(np.concatenate([[1], np.asarray(areas)[np.asarray(areas) > 0]]))
    rows = []
    for t in candidates:
        pred = is_tumour(areas, t)
        rows.append((int(t), recall_score(truth, pred, zero_division=0),
                     f1_score(truth, pred, zero_division=0)))
    ok = [r for r in rows if r[1] >= recall_floor]
    if ok:
        best = max(ok, key=lambda r: (r[2], r[1], -r[0]))
    else:
        best = max(rows, key=lambda r: (r[1], r[2]))
    return {"min_area": best[0], "val_recall": best[1], "val_f1": best[2],
            "recall_floor": recall_floor, "floor_met": bool(ok)}


def classify(areas: np.ndarray, has_tumour: np.ndarray, min_area: int) -> dict[str, Any]:
    """Confusion counts, per-class recall/precision/F1 and accuracy at ``min_area``."""
    truth = np.where(np.asarray(has_tumour, bool), CLASSES[0], CLASSES[1])
    pred = np.where(is_tumour(areas, min_area), CLASSES[0], CLASSES[1])
    (tp, fn), (fp, tn) = confusion_matrix(truth, pred, labels=list(CLASSES))
    report = classification_report(truth, pred, labels=list(CLASSES), output_dict=True,
                                   zero_division=0)
    return {
        "tp": int(tp), "fn": int(fn), "fp": int(fp), "tn": int(tn),
        "accuracy": float(report["accuracy"]) if "accuracy" in report
        else float((tp + tn) / max(len(truth), 1)),
        "per_class": {c: {k: float(report[c][k]) for k in ("recall", "precision", "f1-score",
                                                            "support")} for c in CLASSES},
        "truth": truth.tolist(), "pred": pred.tolist(),
    }
