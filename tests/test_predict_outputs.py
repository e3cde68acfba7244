"""``predict`` never destroys a user's files, names outputs uniquely, follows symlinked case
folders, and gives the same answer wherever its model folder and working directory are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from segstudy.__main__ import main
from segstudy.outdir import MARK, output_folder
from tests.conftest import write_lgg
from tests.test_bad_inputs import tree_digest


def _predict(model: Path, *inputs: Path | str, out: Path | str) -> int:
    return main(["predict", "--no-progress", "--model", str(model), *map(str, inputs),
                 "--out", str(out)])


def test_out_at_a_users_folder_its_parent_the_inputs_folder_or_cwd_changes_no_byte(
        lgg_model, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    scans = write_lgg(home / "scans", cases=1, slices=2, size=32)
    case = next(scans.iterdir())
    (home / "thesis").mkdir()
    (home / "thesis" / "draft.txt").write_text("two years of work")
    (home / "thesis" / "figure.tif").write_bytes(b"not even a TIFF")
    monkeypatch.chdir(home)
    before = tree_digest(home)
    for out in (home / "thesis", home, case, scans, Path(".")):
        assert _predict(lgg_model, case, out=out) == 2, out
        assert tree_digest(home) == before, f"--out {out} changed files"
    err = capsys.readouterr().err
    assert "holds files predict did not write" in err and "working directory" in err


def test_rerun_into_its_own_folder_replaces_only_its_own_outputs(lgg_model, tmp_path):
    scans = write_lgg(tmp_path / "scans", cases=1, slices=2, size=32)
    case = next(scans.iterdir())
    out = tmp_path / "pred"
    assert _predict(lgg_model, case, out=out) == 0
    first = sorted(p.name for p in out.iterdir())
    (out / "my_notes.txt").write_text("keep me")
    (case / f"{case.name}_2.tif").unlink()  # the second run sees fewer slices
    (case / f"{case.name}_2_mask.tif").unlink()
    assert _predict(lgg_model, case, out=out) == 0
    assert (out / "my_notes.txt").read_text() == "keep me"
    now = sorted(p.name for p in out.iterdir())
    assert f"{case.name}_2_mask.png" in first and f"{case.name}_2_mask.png" not in now
    assert len(pd.read_csv(out / "predictions.csv")) == 1
    assert not [p for p in tmp_path.rglob(".tmp-predict-*")]


def test_equal_file_names_in_two_folders_get_two_outputs(lgg_model, tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(tmp_path / folder / "slice.tif", rgb)
    assert _predict(lgg_model, tmp_path / "a", tmp_path / "b", out=tmp_path / "o") == 0
    assert (tmp_path / "o" / "a" / "slice_mask.png").is_file()
    assert (tmp_path / "o" / "b" / "slice_mask.png").is_file()
    table = pd.read_csv(tmp_path / "o" / "predictions.csv")
    assert sorted(table["mask"]) == ["a/slice_mask.png", "b/slice_mask.png"]


def test_symlinked_case_folders_are_followed(lgg_model, tmp_path):
    real = write_lgg(tmp_path / "store", cases=2, slices=3, size=32)
    linked = tmp_path / "linked"
    linked.mkdir()
    for case in real.iterdir():
        (linked / case.name).symlink_to(case, target_is_directory=True)
    assert _predict(lgg_model, linked, out=tmp_path / "o") == 0
    assert len(pd.read_csv(tmp_path / "o" / "predictions.csv")) == 6


def test_a_model_folder_copied_alone_predicts_the_same_anywhere(lgg_model, tmp_path,
                                                               monkeypatch):
    scans = write_lgg(tmp_path / "scans", cases=1, slices=3, size=48)  # resized to 32 inside
    case = next(scans.iterdir())
    assert _predict(lgg_model, case, out=tmp_path / "here") == 0
    elsewhere = tmp_path / "usb" / "model"
    elsewhere.mkdir(parents=True)
    for f in (lgg_model, lgg_model.with_suffix(".json")):
        shutil.copy(f, elsewhere / f.name)
    (tmp_path / "other_cwd").mkdir()
    (tmp_path / "other_cwd" / "params.yaml").write_text("prepare: {lgg: {resize_to: 7}}\n")
    monkeypatch.chdir(tmp_path / "other_cwd")  # a params.yaml here must not matter
    assert _predict(elsewhere / "unet.keras", case, out=tmp_path / "there") == 0
    here = pd.read_csv(tmp_path / "here" / "predictions.csv")
    there = pd.read_csv(tmp_path / "there" / "predictions.csv")
    pd.testing.assert_frame_equal(here, there)
    assert "decision" in here
    masks = sorted((tmp_path / "here").rglob("*_mask.png"))
    assert len(masks) == 3  # one per slice: the comparison below is not vacuous
    for mask in masks:
        twin = tmp_path / "there" / mask.relative_to(tmp_path / "here")
        assert mask.read_bytes() == twin.read_bytes()


def test_a_failure_inside_the_output_block_keeps_the_previous_result(tmp_path):
    out = tmp_path / "o"
    with output_folder(out) as tmp:
        (tmp / "a_mask.png").write_bytes(b"first")
    with pytest.raises(KeyboardInterrupt), output_folder(out) as tmp:
        (tmp / "a_mask.png").write_bytes(b"half")
        raise KeyboardInterrupt
    assert (out / "a_mask.png").read_bytes() == b"first"
    assert (out / MARK).is_file()
    assert sorted(os.listdir(tmp_path)) == ["o"] and sorted(os.listdir(out)) == [MARK,
                                                                                 "a_mask.png"]


def test_a_killed_runs_temporary_folder_is_cleared_by_the_next_run(tmp_path):
    dead = tmp_path / ".tmp-predict-999999999-o"  # no such pid
    dead.mkdir()
    (dead / "x_mask.png").write_bytes(b"partial")
    with output_folder(tmp_path / "o") as tmp:
        (tmp / "y_mask.png").write_bytes(b"y")
    assert not dead.exists()
