"""`python -m segstudy predict` on stacks, case folders, single images, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from segstudy.__main__ import main
from tests.conftest import write_lgg, write_model


def _model(folder: Path, dataset: str, channels: int, activation: str) -> Path:
    size, rule = (32, 5) if dataset == "lgg" else (None, None)
    return write_model(folder, dataset, channels, activation, input_size=size, min_area=rule)


@pytest.fixture
def lgg_model(tmp_path: Path) -> Path:
    return _model(tmp_path / "models" / "lgg", "lgg", 3, "sigmoid")


@pytest.fixture
def isbi_model(tmp_path: Path) -> Path:
    return _model(tmp_path / "models" / "isbi2012", "isbi2012", 1, "tanh")


def test_stack_gets_a_multipage_mask_a_montage_and_csvs(isbi_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stack = tmp_path / "test-volume.tif"
    tifffile.imwrite(stack, np.random.default_rng(0).integers(0, 256, (3, 40, 36), np.uint8))
    assert main(["predict", "--model", str(isbi_model), str(stack), "--out", "out",
                 "--no-progress"]) == 0
    mask = tifffile.imread(tmp_path / "out" / "test-volume_mask.tif")
    assert mask.shape == (3, 40, 36) and set(np.unique(mask)) <= {0, 255}
    assert (tmp_path / "out" / "test-volume_montage.png").is_file()
    assert not list((tmp_path / "out").glob("*_overlay.png")), "per-slice overlays on request"
    assert len(pd.read_csv(tmp_path / "out" / "predictions.csv")) == 3
    cases = pd.read_csv(tmp_path / "out" / "cases.csv")
    assert cases.to_dict("records") == [{"case": "test-volume", "slices": 3,
                                         "mask_area_px": int((mask > 0).sum())}]


def test_case_folder_gets_one_mask_per_slice_and_decisions(lgg_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_lgg(tmp_path / "scans", cases=1, slices=3, size=32)
    case = next(root.iterdir())
    assert main(["predict", "--model", str(lgg_model), str(case), "--out", "out",
                 "--min-area", "5", "--no-progress"]) == 0
    table = pd.read_csv(tmp_path / "out" / "predictions.csv")
    assert len(table) == 3 and set(table["decision"]) <= {"Tumour", "No tumour"}
    assert len(list((tmp_path / "out").glob("*_mask.png"))) == 3
    assert (tmp_path / "out" / f"{case.name}_montage.png").is_file()
    cases = pd.read_csv(tmp_path / "out" / "cases.csv")
    assert len(cases) == 1 and cases["slices"][0] == 3
    assert cases["tumour_slices"][0] == (table["decision"] == "Tumour").sum()
    assert cases["mask_area_px"][0] == table["mask_area_px"].sum()


def test_a_case_folder_given_itself_is_named_after_it_in_both_csvs(lgg_model, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    case = next(write_lgg(tmp_path / "scans", cases=1, slices=2, size=32).iterdir())
    assert main(["predict", "--model", str(lgg_model), str(case), "--out", "out",
                 "--no-progress"]) == 0
    assert set(pd.read_csv(tmp_path / "out" / "predictions.csv")["case"]) == {case.name}
    assert list(pd.read_csv(tmp_path / "out" / "cases.csv")["case"]) == [case.name]
    assert (tmp_path / "out" / f"{case.name}_montage.png").is_file()


def test_slice_overlays_on_request_one_per_image(lgg_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_lgg(tmp_path / "scans", cases=2, slices=2, size=32)
    assert main(["predict", "--model", str(lgg_model), str(root), "--out", "out",
                 "--slice-overlays", "--no-progress"]) == 0
    assert len(list((tmp_path / "out").rglob("*_overlay.png"))) == 4
    assert len(list((tmp_path / "out").glob("*_montage.png"))) == 2  # one per case folder


def test_corrupt_file_exits_nonzero_with_one_line_and_no_output(lgg_model, tmp_path, capsys):
    bad = tmp_path / "scan.tif"
    bad.write_bytes(b"II*\x00broken")
    out = tmp_path / "out"
    assert main(["predict", "--model", str(lgg_model), str(bad), "--out", str(out)]) == 2
    assert "scan.tif: not a readable TIFF" in capsys.readouterr().err
    assert not out.exists()


def test_model_of_the_other_data_set_is_refused(lgg_model, tmp_path, capsys):
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, np.zeros((2, 16, 16, 2), np.uint8))
    assert main(["predict", "--model", str(lgg_model), str(stack), "--out",
                 str(tmp_path / "o")]) == 2
    assert "model expects 3" in capsys.readouterr().err


def test_empty_folder_and_16_bit_images_are_refused(isbi_model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["predict", "--model", str(isbi_model), str(tmp_path / "empty"), "--out",
                 str(tmp_path / "o")]) == 2
    assert "folder holds no .tif/.tiff/.png images" in capsys.readouterr().err
    wide = tmp_path / "wide.tif"
    tifffile.imwrite(wide, np.zeros((16, 16), np.uint16))
    assert main(["predict", "--model", str(isbi_model), str(wide), "--out",
                 str(tmp_path / "o")]) == 2
    assert "dtype uint16" in capsys.readouterr().err


def test_missing_model_says_to_train_first(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "nope.keras"), "x.tif", "--out",
                 str(tmp_path / "o")]) == 2
    assert "no such model; train it first" in capsys.readouterr().err


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = capsys.readouterr().out
    for opt in ("--model", "--out", "--min-area", "--batch-size", "--no-progress"):
        assert opt in text
