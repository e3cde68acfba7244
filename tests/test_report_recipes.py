"""The report's recipe section prints each recipe's own numbers per patient first, the paper
recipe and the anchor beside them, the Tumour rule on val and test, and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from segstudy.report.common import paper_numbers
from segstudy.report.recipes import lgg_section
from tests.conftest import ROOT

PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def _split_metrics(dice: float) -> dict:
    return {"n": 10, "n_patients": 2, "empty_share": 0.6, "dice_per_patient": dice,
            "iou_tumour_slices": dice - 0.1, "iou": 0.9, "iou_if_nothing_predicted": 0.6}


def _outputs(root: Path) -> None:
    rng = np.random.default_rng(0)
    for name, dice in (("unet", 0.61), ("strong", 0.83)):
        (root / "metrics/lgg").mkdir(parents=True, exist_ok=True)
        (root / f"metrics/lgg/{name}.json").write_text(json.dumps(
            {s: _split_metrics(dice) for s in ("train", "val", "test")}))
        table = pd.DataFrame({
            "sample_id": [f"P{i // 5}_{i}" for i in range(20)],
            "case_id": [f"P{i // 5}" for i in range(20)],
            "split": ["train"] * 5 + ["val"] * 5 + ["test"] * 10,
            "target_area": [0, 30, 40, 0, 0] * 4, "pred_area": [0, 25, 45, 3, 0] * 4,
            "intersection": [0, 20, 38, 0, 0] * 4, "iou": rng.random(20)})
        table.to_csv(root / f"metrics/lgg/{name}_per_sample.csv", index=False)
    (root / "models/lgg").mkdir(parents=True)
    (root / "models/lgg/strong.json").write_text(json.dumps({
        "decision": {"min_area": 5, "recall_floor": 0.95, "floor_met": True},
        "postprocess": {"tta_flip": True, "min_component": 0, "largest_3d": False,
                        "val_dice_per_patient": 0.84, "tried": {"plain": 0.82, "flip": 0.84}}}))
    prep = root / "data/prepared/lgg-strong"
    prep.mkdir(parents=True)
    np.save(prep / "images.npy", rng.integers(0, 255, (20, 16, 16, 3), np.uint8))
    np.save(prep / "masks.npy", (rng.random((20, 16, 16)) > 0.8).astype(np.uint8))
    table[["sample_id", "case_id", "split"]].to_csv(prep / "split.csv", index=False)
    (prep / "norm.json").write_text(json.dumps({"mode": "per_image"}))
    (root / "predictions/lgg").mkdir(parents=True)
    np.savez_compressed(root / "predictions/lgg/strong.npz",
                        labelled=rng.integers(0, 255, (20, 16, 16), np.uint8))


def test_the_recipe_section_prints_per_patient_scores_rule_and_figures(tmp_path, monkeypatch):
    _outputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = lgg_section(PARAMS, paper_numbers(), tmp_path / "fig")
    assert "| `strong` recipe (patient split) | val | 2 | 10 (60 %) | **0.830** |" in text
    assert "| paper recipe (slice split) | test |" in text and "**0.610**" in text
    assert str(paper_numbers()["earlier"]["buda2019_mean_dice_per_volume"]) in text
    assert "tta_flip=True" in text and "≥ 5 predicted pixels" in text
    # the rule at min_area 5 on the per-sample rows: areas 25 and 45 are Tumour, 3 is not
    assert "| test | 4 | 6 | 0 | 0 | 1.000 | 1.000 |" in text
    for fig in ("lgg_recipes_per_patient_dice.png", "lgg_strong_worst_patients.png"):
        assert (tmp_path / "fig" / fig).is_file()


def test_per_patient_scores_carry_their_interval_over_the_splits_patients(tmp_path, monkeypatch):
    from segstudy.report.verdict import mean_interval, ratio_interval

    _outputs(tmp_path)
    path = tmp_path / "metrics/lgg/strong_per_sample.csv"
    table = pd.read_csv(path)
    table.loc[table["case_id"] == "P3", "intersection"] = [0, 10, 30, 0, 0]  # a worse patient
    table.to_csv(path, index=False)
    monkeypatch.chdir(tmp_path)
    text = lgg_section(PARAMS, paper_numbers(), tmp_path / "fig")
    p2, p3 = 2 * 58 / 143, 2 * 40 / 143  # each test patient's Dice over its 5 slices
    _, low, high = mean_interval([p2, p3])
    rows = {r.split(" | ")[1]: r for r in text.splitlines()
            if r.startswith("| `strong` recipe (patient split) |")}
    row = rows["test"]
    assert f"**0.830** [{low:.3f}, {high:.3f}] |" in row
    assert low < min(p2, p3) and high > max(p2, p3)  # two patients: a wide interval
    tumour = table[(table["split"] == "test") & (table["target_area"] > 0)]
    by = tumour.groupby("case_id")["iou"].agg(["sum", "size"])
    _, low, high = ratio_interval(by["sum"], by["size"])  # IoU over tumour slices, by patient
    assert f"** [{low:.3f}, {high:.3f}] | 0.900 |" in row
    assert "[" not in rows["val"]  # one val patient: no interval


def test_no_recipe_outputs_no_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert lgg_section(PARAMS, paper_numbers(), tmp_path / "fig") == ""


def test_cell_errors_mark_a_merge_and_a_split():
    from segstudy.report.figures import cell_errors

    truth = np.zeros((20, 40), int)
    truth[:, :20], truth[:, 20:] = 1, 2            # two true cells side by side
    merged_pred = np.ones((20, 40), int)           # one predicted cell over both: a merge
    merged, split = cell_errors(truth, merged_pred)
    assert merged.all() and not split.any()
    split_pred = np.zeros((20, 40), int)
    split_pred[:10, :20], split_pred[10:, :20], split_pred[:, 20:] = 1, 2, 3
    merged, split = cell_errors(truth, split_pred)  # true cell 1 cut in two: a split
    assert not merged.any() and split[:, :20].all() and not split[:, 20:].any()


def test_the_isbi_recipe_section_prints_cell_scores_first_and_draws_the_cells(tmp_path,
                                                                             monkeypatch):
    from segstudy.report.recipes import isbi_section

    rng = np.random.default_rng(0)
    (tmp_path / "metrics/isbi2012").mkdir(parents=True)
    for name, err in (("unet", 0.41), ("strong", 0.09)):
        split = {"n": 4, "rand_error": err, "vi": 1.0 + err, "iou": 0.9}
        (tmp_path / f"metrics/isbi2012/{name}.json").write_text(json.dumps(
            {"train": split, "val": split, "test": split}))
    (tmp_path / "models/isbi2012").mkdir(parents=True)
    (tmp_path / "models/isbi2012/strong.json").write_text(json.dumps({"postprocess": {
        "tta_dihedral": True, "threshold": 0.5, "min_cell": 25, "watershed_h": 2.0,
        "val_rand_error": 0.08, "tried": {"a": 0.1, "b": 0.08}}}))
    prep = tmp_path / "data/prepared/isbi2012"
    prep.mkdir(parents=True)
    np.save(prep / "images.npy", rng.integers(0, 255, (3, 32, 32, 1), np.uint8))
    np.save(prep / "masks.npy", (rng.random((3, 32, 32)) > 0.3).astype(np.uint8))
    pd.DataFrame({"sample_id": ["s0", "s1", "s2"], "case_id": "isbi2012",
                  "split": ["train", "val", "test"]}).to_csv(prep / "split.csv", index=False)
    (prep / "norm.json").write_text(json.dumps({"mode": "range", "mean": [127.5],
                                                "std": [127.5]}))
    (tmp_path / "predictions/isbi2012").mkdir(parents=True)
    for name in ("unet", "strong"):
        np.savez_compressed(tmp_path / f"predictions/isbi2012/{name}.npz",
                            labelled=rng.integers(0, 255, (3, 32, 32), np.uint8))
    monkeypatch.chdir(tmp_path)
    text = isbi_section(PARAMS, paper_numbers(), tmp_path / "fig")
    assert "| `strong` recipe | test | 4 | **0.090** |" in text
    assert "| paper recipe | test | 4 | **0.410** |" in text and "0.0382" in text
    assert "watershed_h=2.0" in text and (tmp_path / "fig" / "isbi_cells.png").is_file()
