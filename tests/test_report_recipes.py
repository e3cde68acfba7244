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


def test_no_recipe_outputs_no_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert lgg_section(PARAMS, paper_numbers(), tmp_path / "fig") == ""
