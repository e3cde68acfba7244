"""Bad input as a user meets it: ``python -m segstudy predict`` and the stage scripts, run as
processes in a scratch project. Every case must exit 2 (or 130), print exactly one line on
stderr (no TensorFlow start-up lines, no traceback) that names the file, flag or parameter,
and leave every file and folder of the scratch project exactly as it was (hashed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_input_cases import CASES, Project, tree_digest
from tests.conftest import write_model


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    write_model(root / "lgg", "lgg", 3, "sigmoid", input_size=32, min_area=4)
    return root


@pytest.mark.parametrize(("name", "setup", "message", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_ends_in_one_line_and_changes_nothing(tmp_path: Path, tiny_models: Path,
                                                        name, setup, message, code):
    project = Project(tmp_path, tiny_models)
    argv = setup(project)
    before = tree_digest(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["SEGSTUDY_DATA_MIRROR"] = str(tmp_path / "mirror")
    proc = subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    assert lines[0].startswith("error: ")
    assert re.search(message, lines[0]), lines[0]
    assert tree_digest(tmp_path) == before, "the failed run changed files"


def test_the_table_holds_at_least_forty_distinct_cases_across_every_entry_point(
        tmp_path: Path, tiny_models: Path):
    assert len({c[0] for c in CASES}) >= 40
    entry_points = set()
    for i, (_, setup, _, _) in enumerate(CASES):
        (tmp_path / str(i)).mkdir()
        argv = setup(Project(tmp_path / str(i), tiny_models))
        entry_points.add(argv[2] if argv[0] == "-m" else Path(argv[0]).stem)
    assert {"predict", "download", "prepare", "train_unet", "evaluate"} <= entry_points
