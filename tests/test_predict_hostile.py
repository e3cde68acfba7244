"""``predict`` against hostile-but-realistic inputs (issue 34): it never touches a byte it does
not own, replaces a previous result as one step, handles every file name the OS holds, reads
every page of a stack, and ends each refusal in one ``error:`` line with exit 2."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from segstudy.outdir import MARK
from tests.conftest import ROOT, write_lgg, write_model
from tests.test_bad_inputs import tree_digest
from tests.test_predict_outputs import _predict


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def _first_result(model: Path, tmp_path: Path) -> tuple[Path, Path]:
    scans = write_lgg(tmp_path / "scans", cases=1, slices=2, size=32)
    out = tmp_path / "out"
    assert _predict(model, scans, out=out) == 0
    return scans, out


def test_a_users_file_with_a_new_outputs_name_is_refused_not_overwritten(
        lgg_model, tmp_path, capsys):
    scans, out = _first_result(lgg_model, tmp_path)
    case = next(scans.iterdir())
    (case / f"{case.name}_3.tif").write_bytes((case / f"{case.name}_1.tif").read_bytes())
    (out / case.name / f"{case.name}_3_mask.png").write_text("my own file")
    before = tree_digest(tmp_path)
    assert _predict(lgg_model, scans, out=out) == 2
    assert "was not written by predict" in _one_error_line(capsys)
    assert tree_digest(tmp_path) == before


def test_a_marker_entry_outside_out_is_never_deleted(lgg_model, tmp_path):
    scans, out = _first_result(lgg_model, tmp_path)
    victim = tmp_path / "precious.txt"
    victim.write_text("outside --out")
    (out / "link").symlink_to(tmp_path)
    marker = json.loads((out / MARK).read_text())
    marker["files"] += [str(victim), "../precious.txt", "link/precious.txt", MARK]
    (out / MARK).write_text(json.dumps(marker))
    assert _predict(lgg_model, scans, out=out) == 0
    assert victim.read_text() == "outside --out"


def test_a_users_file_named_like_a_case_folder_leaves_the_previous_result_whole(
        lgg_model, tmp_path, capsys):
    scans, out = _first_result(lgg_model, tmp_path)
    write_lgg(tmp_path / "more", cases=2, slices=2, size=32, seed=3)
    new_case = sorted((tmp_path / "more" / "kaggle_3m").iterdir())[1]
    os.rename(new_case, scans / new_case.name)
    (out / new_case.name).write_text("a user's file, not a folder")
    before = tree_digest(tmp_path / "out")
    assert _predict(lgg_model, scans, out=out) == 2
    assert "is the user's" in _one_error_line(capsys)
    assert tree_digest(tmp_path / "out") == before


def test_a_failure_in_the_middle_of_a_replace_restores_the_previous_result(
        lgg_model, tmp_path, monkeypatch, capsys):
    scans, out = _first_result(lgg_model, tmp_path)
    before = tree_digest(out)
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 5:  # old outputs moved aside, some new ones in
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    assert _predict(lgg_model, scans, out=out) == 2
    assert "previous result is unchanged" in _one_error_line(capsys)
    monkeypatch.setattr(os, "replace", real_replace)
    assert tree_digest(out) == before


def test_a_full_disk_while_writing_is_one_line_and_nothing_changes(
        lgg_model, tmp_path, monkeypatch, capsys):
    scans, out = _first_result(lgg_model, tmp_path)
    before = tree_digest(tmp_path)

    def full(path, pixels):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("segstudy.montage.write_png", full)
    assert _predict(lgg_model, scans, out=out) == 2
    assert "No space left" in _one_error_line(capsys)
    assert tree_digest(tmp_path) == before


def test_a_file_name_that_is_not_utf8_is_predicted_in_a_child_process(lgg_model, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    src = next(write_lgg(tmp_path / "scans", cases=1, slices=1, size=32).iterdir())
    image = next(p for p in src.iterdir() if not p.name.endswith("_mask.tif"))
    odd = os.fsencode(folder) + b"/M\xfcller_2.tif"
    with open(odd, "wb") as fh:
        fh.write(image.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "segstudy", "predict", "--no-progress",
                           "--model", str(lgg_model), str(folder), "--out", str(tmp_path / "o")],
                          capture_output=True, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert os.path.exists(os.fsencode(tmp_path / "o") + b"/M\xfcller_2_mask.png")
    assert not list(folder.glob(".tmp-predict-*"))


def test_an_unreadable_subfolder_is_an_error_naming_it(lgg_model, tmp_path, monkeypatch,
                                                       capsys):
    scans = write_lgg(tmp_path / "scans", cases=2, slices=1, size=32)
    locked = sorted(scans.iterdir())[1]
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # as root, chmod 000 would not stop a read
    assert _predict(lgg_model, scans, out=tmp_path / "o") == 2
    line = _one_error_line(capsys)
    assert locked.name in line and "cannot be read" in line
    assert not (tmp_path / "o").exists()


def test_a_stack_written_page_by_page_is_read_whole(tmp_path):
    isbi = write_model(tmp_path / "m", "isbi2012", 1, "tanh")
    stack = tmp_path / "pages.tif"
    pages = np.random.default_rng(0).integers(0, 256, (3, 32, 32), np.uint8)
    for page in pages:
        tifffile.imwrite(stack, page, append=True)
    assert len(tifffile.TiffFile(stack).series) == 3
    assert _predict(isbi, stack, out=tmp_path / "o") == 0
    assert len(pd.read_csv(tmp_path / "o" / "predictions.csv")) == 3
    assert tifffile.imread(tmp_path / "o" / "pages_mask.tif").shape == (3, 32, 32)


def test_a_dangling_symlink_out_and_an_overlong_name_are_one_line_each(
        lgg_model, tmp_path, capsys):
    scans = write_lgg(tmp_path / "scans", cases=1, slices=1, size=32)
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    assert _predict(lgg_model, scans, out=tmp_path / "gone") == 2
    assert "missing folder" in _one_error_line(capsys)
    image = next(p for p in next(scans.iterdir()).iterdir() if not p.stem.endswith("_mask"))
    long = tmp_path / ("x" * 248 + ".tif")
    long.write_bytes(image.read_bytes())
    assert _predict(lgg_model, long, out=tmp_path / "o") == 2
    assert "too long" in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_out_inside_a_case_folder_reached_through_a_symlink_is_refused(
        lgg_model, tmp_path, capsys):
    elsewhere = next(write_lgg(tmp_path / "elsewhere", cases=1, slices=1, size=32).iterdir())
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "linked_case").symlink_to(elsewhere)
    before = tree_digest(tmp_path / "elsewhere")
    assert _predict(lgg_model, scans, out=elsewhere / "out") == 2
    assert "inside the input folder" in _one_error_line(capsys)
    assert tree_digest(tmp_path / "elsewhere") == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("norm", {"mean": [127.5], "std": [127.5]}, "one per channel"),
    ("norm", {"mean": [127.5] * 3, "std": [float("inf")] * 3}, "norm: expected"),
    ("input_size", 100000, "input_size: expected"),
])
def test_a_sidecar_that_contradicts_itself_is_refused(tmp_path, capsys, field, value, message):
    model = write_model(tmp_path / "m", "lgg", 3, "sigmoid", input_size=32, min_area=3)
    info = json.loads(model.with_suffix(".json").read_text())
    info[field] = value
    model.with_suffix(".json").write_text(json.dumps(info))
    scans = write_lgg(tmp_path / "scans", cases=1, slices=1, size=32)
    assert _predict(model, scans, out=tmp_path / "o") == 2
    assert message in _one_error_line(capsys)


def test_a_model_whose_fixed_input_disagrees_with_its_sidecar_is_refused(tmp_path, capsys):
    import keras

    model = keras.Sequential([keras.Input((48, 48, 3)),
                              keras.layers.Conv2D(1, 1, activation="sigmoid")])
    path = tmp_path / "fixed.keras"
    model.save(path)
    info = {"dataset": "lgg", "in_channels": 3, "mask_range": [0.0, 1.0],
            "norm": {"mean": [127.5] * 3, "std": [127.5] * 3}, "input_size": 32,
            "decision": None}
    path.with_suffix(".json").write_text(json.dumps(info))
    scans = write_lgg(tmp_path / "scans", cases=1, slices=1, size=32)
    assert _predict(path, scans, out=tmp_path / "o") == 2
    assert "do not belong together" in _one_error_line(capsys)
