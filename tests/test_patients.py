"""Per-patient (volumetric) scores and the LGG summary built on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segstudy.data.prepare import prepare
from segstudy.data.prepared import Prepared
from segstudy.evaluate import per_sample_table, summarise
from segstudy.patients import per_patient
from tests.conftest import write_lgg


def _table(rows: list[tuple[str, str, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["split", "case_id", "target_area", "pred_area",
                                       "intersection"])


def test_a_patients_slices_are_scored_as_one_volume():
    # patient A: 10 true voxels over two slices, 8 predicted, 6 of them right
    table = _table([("test", "A", 6, 4, 4), ("test", "A", 4, 4, 2), ("test", "A", 0, 0, 0)])
    row = per_patient(table, empty=1.0).iloc[0]
    assert (row["slices"], row["tumour_slices"]) == (3, 2)
    assert row["dice"] == pytest.approx(2 * 6 / (10 + 8))
    assert row["iou"] == pytest.approx(6 / (10 + 8 - 6))


def test_a_volume_empty_on_both_sides_scores_empty_and_on_one_side_zero():
    table = _table([("val", "none", 0, 0, 0), ("val", "missed", 5, 0, 0),
                    ("val", "invented", 0, 3, 0)])
    scores = per_patient(table, empty=0.5).set_index("case_id")
    assert scores.loc["none", "dice"] == 0.5 and scores.loc["none", "iou"] == 0.5
    assert scores.loc["missed", "dice"] == 0 and scores.loc["invented", "iou"] == 0


def test_the_same_patient_in_two_splits_is_two_volumes():
    table = _table([("train", "A", 4, 4, 4), ("test", "A", 4, 0, 0)])
    scores = per_patient(table, empty=1.0).set_index("split")
    assert scores.loc["train", "dice"] == 1 and scores.loc["test", "dice"] == 0


def test_a_table_without_pixel_counts_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match=r"intersection.*rerun evaluate"):
        per_patient(_table([("test", "A", 1, 1, 1)]).drop(columns="intersection"), 1.0)


@pytest.fixture()
def lgg(tmp_path: Path) -> Prepared:
    raw = write_lgg(tmp_path / "raw", cases=4, slices=6).parent
    prepare("lgg", raw, tmp_path / "prepared", {"resize_to": None, "normalise": "per_channel",
                                                "split": {"by": "slice", "counts": [16, 4, 4]}},
            seed=1)
    return Prepared(tmp_path / "prepared")


def test_predicting_nothing_scores_what_the_summary_says_and_zero_per_tumour_volume(
        lgg: Prepared):
    nothing = np.zeros(np.asarray(lgg.masks).shape, "float32")
    table = per_sample_table(lgg, nothing, (0.0, 1.0), empty=1.0, cells=None)
    summary = summarise(table, "lgg", empty=1.0)
    masks = np.asarray(lgg.masks).reshape(len(table), -1)
    for split in ("train", "val", "test"):
        s = summary[split]
        rows = (table["split"] == split).to_numpy()
        assert s["empty_share"] == pytest.approx(np.mean(masks[rows].sum(axis=1) == 0))
        assert s["iou"] == pytest.approx(s["iou_if_nothing_predicted"])
        if s["n_tumour"]:
            assert s["iou_tumour_slices"] == 0
    patients = per_patient(table, empty=1.0)
    has_tumour = patients["target_area"] > 0
    assert has_tumour.any() and (patients.loc[has_tumour, "dice"] == 0).all()
    assert (patients.loc[~has_tumour, "dice"] == 1.0).all()  # empty volume, nothing predicted


def test_a_perfect_prediction_scores_one_everywhere(lgg: Prepared):
    perfect = np.asarray(lgg.masks).astype("float32")
    summary = summarise(per_sample_table(lgg, perfect, (0.0, 1.0), 1.0, None), "lgg", 1.0)
    for split in ("train", "val", "test"):
        for col in ("iou", "dice", "dice_per_patient", "iou_per_patient"):
            assert summary[split][col] == pytest.approx(1.0), (split, col)
