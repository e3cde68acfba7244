"""A throw-away copy of the repository in which ``python -m segstudy.quick`` runs, so the
developer's workspace (data/, models/, dvc.lock) is never touched by a test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT, SHARED_DATA


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 3600) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return proc.stdout + proc.stderr


def copy_repo(proj: Path) -> dict[str, str]:
    """Copy the repository's files into ``proj`` as a fresh git repo with one commit; return
    the environment the project's commands run in (data mirror, this interpreter, git user)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (proj / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, proj / f)
    env = {**os.environ, "SEGSTUDY_DATA_MIRROR": str(SHARED_DATA),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(proj / "src"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@localhost",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@localhost"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "copy"]):
        run(cmd, proj, env)
    return env


def quick_copy(proj: Path, *targets: str, extra_env: dict[str, str] | None = None
               ) -> dict[str, str]:
    """``copy_repo``, then ``make quick`` (only ``targets`` and their upstream stages, when
    given) with ``extra_env`` added; return the environment used."""
    env = {**copy_repo(proj), **(extra_env or {})}
    params_before = (proj / "params.yaml").read_bytes()
    run([sys.executable, "-m", "segstudy.quick", *targets], proj, env)
    assert (proj / "params.yaml").read_bytes() == params_before, "quick must not edit params.yaml"
    return env


def quick_params_committed(proj: Path, env: dict[str, str]) -> None:
    """Make ``make quick``'s settings the project's own params.yaml (a commit) and drop the
    copied dvc.lock, so plain ``dvc repro`` runs the tiny study from scratch."""
    from segstudy.quick import QUICK_OVERRIDES

    params = yaml.safe_load((proj / "params.yaml").read_text())
    for key, value in QUICK_OVERRIDES.items():
        *parents, leaf = key.split(".")
        node = params
        for part in parents:
            node = node[part]
        node[leaf] = yaml.safe_load(str(value))
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (proj / "dvc.lock").unlink(missing_ok=True)
    for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "quick settings"]):
        run(cmd, proj, env)


def locked_stages(proj: Path) -> dict:
    """The stages of ``proj``'s ``dvc.lock``: what DVC recorded of the last run there (a quick
    run is a temporary experiment, so ``params.yaml`` does not say what it used; this does)."""
    return yaml.safe_load((proj / "dvc.lock").read_text())["stages"]
