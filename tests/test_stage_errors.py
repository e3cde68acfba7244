"""Stages fail with one clear line, a non-zero exit and no output DVC could take as done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT, write_isbi


def _stage(name: str, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    return subprocess.run([sys.executable, str(ROOT / "stages" / f"{name}.py"), *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=300)


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def _params(tmp_path: Path, **override: object) -> None:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params.update(override)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))


def test_download_from_a_corrupt_mirror_fails_cleanly(tmp_path: Path):
    mirror = tmp_path / "mirror"
    write_isbi(mirror / "isbi2012", n=2, size=8)
    _params(tmp_path)
    line = _one_error_line(_stage("download", ["isbi2012"], tmp_path,
                                  SEGSTUDY_DATA_MIRROR=str(mirror)))
    assert "train-volume.tif: checksum mismatch" in line
    assert not (tmp_path / "data" / "raw" / "isbi2012").exists()
    assert not list((tmp_path / "data" / "raw").glob(".tmp-*"))


def test_unknown_dataset_names_the_choices(tmp_path: Path):
    _params(tmp_path)
    line = _one_error_line(_stage("prepare", ["mnist"], tmp_path))
    assert "unknown dataset 'mnist'; choose one of isbi2012, lgg" in line


def test_prepare_without_raw_data_says_what_to_run(tmp_path: Path):
    _params(tmp_path)
    line = _one_error_line(_stage("prepare", ["lgg"], tmp_path))
    assert "data/raw/lgg: missing; run the download stage first" in line
    assert not (tmp_path / "data" / "prepared" / "lgg").exists()


def test_bogus_gan_metric_lists_the_valid_names(tmp_path: Path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["gan"]["metric"] = "bogus"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    line = _one_error_line(_stage("train_gan", ["isbi2012", "iou"], tmp_path))
    assert "gan.metric='bogus'" in line and "module, squaring, percent, iou" in line


def test_missing_params_file_is_named(tmp_path: Path):
    line = _one_error_line(_stage("prepare", ["lgg"], tmp_path))
    assert "params.yaml: not found" in line
