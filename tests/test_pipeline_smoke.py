"""The DVC pipeline runs for real in the fast suite: ``make quick`` restricted to one branch
(download → prepare → train_unet → evaluate for LGG) on the shared data mirror, in a
throw-away copy of the repository. The whole DAG runs in ``tests/test_pipeline_e2e.py``
(``make test-all``). Skipped, with the reason, when ../shared/data is absent."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SHARED_DATA, mirror_lgg_split_counts
from tests.quick_project import locked_stages, quick_copy

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "lgg").is_dir(),
                                reason=f"data mirror {SHARED_DATA} not present")


def test_one_branch_of_the_dag_runs_from_download_to_metrics(tmp_path: Path):
    proj = tmp_path / "segstudy"
    quick_copy(proj, "evaluate@lgg-unet")

    split = pd.read_csv(proj / "data/prepared/lgg/split.csv")
    # the paper's 3182/657/90 scaled to however many slices the mirror holds today
    assert split["split"].value_counts().to_dict() == mirror_lgg_split_counts()
    cases = [d for d in (SHARED_DATA / "lgg/kaggle_3m").iterdir() if d.is_dir()]
    assert split["case_id"].nunique() == len(cases), "every mirror patient is in the split"

    assert not (proj / "models/isbi2012").exists(), "only the named branch runs"
    # DVC recorded what this run wrote (the copied dvc.lock came from another run)
    lock = locked_stages(proj)
    recorded = {o["path"]: o["md5"] for o in lock["evaluate@lgg-unet"]["outs"]}
    written = (proj / "metrics/lgg/unet.json").read_bytes()
    assert recorded["metrics/lgg/unet.json"] == hashlib.md5(written).hexdigest()

    info = json.loads((proj / "models/lgg/unet.json").read_text())
    assert info["input_size"] == 64 and info["decision"]["chosen_on"] == "val"
    metrics = json.loads((proj / "metrics/lgg/unet.json").read_text())
    for split_name in ("train", "val", "test"):
        for col in ("module", "squaring", "percent", "iou"):
            value = metrics[split_name][col]
            assert isinstance(value, float) and math.isfinite(value), (split_name, col, value)
