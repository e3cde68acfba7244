"""Off one machine, on DVC's own engines, at ``make quick``'s settings (one LGG branch):

- a shared remote (a local folder here): a second clone gets the trained models, curves and
  metrics with ``dvc pull`` and ``dvc repro`` retrains nothing;
- seeds as queued experiments run two at a time (``dvc queue start -j 2``), collected with
  ``dvc exp show`` and ``dvc exp diff``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.quick_project import copy_repo, quick_params_committed, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED_DATA / "lgg").is_dir(),
                       reason=f"data mirror {SHARED_DATA} not present"),
]
BRANCH = "evaluate@lgg-unet"
QUEUE_TIMEOUT_S = 2400


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    proj = tmp_path_factory.mktemp("shared") / "segstudy"
    env = copy_repo(proj)
    quick_params_committed(proj, env)
    run(["dvc", "repro", BRANCH], proj, env)
    run(["git", "add", "-A"], proj, env)
    run(["git", "commit", "-qm", "trained at the quick settings"], proj, env)
    return proj, env


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_a_second_clone_pulls_the_results_and_dvc_repro_retrains_nothing(trained, tmp_path):
    proj, env = trained
    run(["dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote")], proj, env)
    run(["dvc", "push"], proj, env)
    run(["git", "commit", "-qam", "shared remote"], proj, env)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(proj), str(clone)], tmp_path, env)
    # no data mirror: a stage that ran would have to download, and fail
    clone_env = {k: v for k, v in env.items() if k != "SEGSTUDY_DATA_MIRROR"}
    clone_env["PYTHONPATH"] = str(clone / "src")
    run(["dvc", "pull", BRANCH, "--with-deps"], clone, clone_env)
    out = run(["dvc", "repro", BRANCH], clone, clone_env)
    assert "Running stage" not in out, out
    for path in ("models/lgg/unet.keras", "metrics/lgg/unet.json",
                 "plots/lgg/unet/seed42/plots/metrics/val_iou.tsv"):
        assert _md5(clone / path) == _md5(proj / path), path


def _queue_finished(proj: Path, env: dict[str, str]) -> str:
    deadline = time.time() + QUEUE_TIMEOUT_S
    while time.time() < deadline:
        status = run(["dvc", "queue", "status"], proj, env)
        if not any(word in status for word in ("Queued", "Running")):
            return status
        time.sleep(10)
    raise AssertionError(f"queue not done after {QUEUE_TIMEOUT_S} s:\n{status}")


def test_queued_seeds_run_two_at_a_time_and_are_compared_by_dvc(trained):
    proj, env = trained
    for seed in (43, 44):
        run(["dvc", "exp", "run", "--queue", "-n", f"seed{seed}", "-S",
             f"train.lgg.seeds=[{seed}]", BRANCH], proj, env)
    run(["dvc", "queue", "start", "-j", "2"], proj, env)
    status = _queue_finished(proj, env)
    assert "Failed" not in status, status + run(["dvc", "queue", "logs", "seed43"], proj, env)

    shown = json.loads(run(["dvc", "exp", "show", "--json"], proj, env))
    exps = {e["name"]: e for rev in shown for e in rev.get("experiments") or []
            for e in [e["revs"][0]]}
    assert {"seed43", "seed44"} <= set(exps), list(exps)
    for name, seed in (("seed43", 43), ("seed44", 44)):
        data = exps[name]["data"]
        assert data["params"]["params.yaml"]["data"]["train"]["lgg"]["seeds"] == [seed]
        test_iou = data["metrics"]["metrics/lgg/unet.json"]["data"]["test"]["iou"]
        assert math.isfinite(test_iou)

    diff = json.loads(run(["dvc", "exp", "diff", "seed43", "seed44", "--json"], proj, env))
    assert "metrics/lgg/unet.json" in diff["metrics"]
    # exp diff renders a list-valued param as its text ("[44]")
    assert str(diff["params"]["params.yaml"]["train.lgg.seeds"]["new"]).replace(" ", "") == "[44]"
