"""Every module a stage imports is one of its dvc.yaml deps, so an edit reruns what it changes.

The imports are read from the source (``ast``), function-level imports included, starting at
the stage's script and following ``segstudy`` modules transitively. Exempt are files that
cannot change a stage's outputs: package markers and the terminal plumbing (``EXEMPT``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

SRC = ROOT / "src"
EXEMPT = {"src/segstudy/__init__.py", "src/segstudy/_quiet_tf.py", "src/segstudy/stage.py",
          "src/segstudy/data/__init__.py", "src/segstudy/models/__init__.py",
          "src/segstudy/training/__init__.py", "src/segstudy/report/__init__.py"}


def _module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(script: Path) -> set[str]:
    """Repository-relative paths of every ``segstudy`` source file ``script`` reaches."""
    seen: set[Path] = set()
    todo = [script]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] != "segstudy":
                    continue
                parts = name.split(".")
                for i in range(1, len(parts) + 1):  # parents are imported too
                    found = _module_file(".".join(parts[:i]))
                    if found is not None:
                        todo.append(found)
    return {str(p.relative_to(ROOT)) for p in seen if p != script}


def _stages() -> list[tuple[str, str, list[str]]]:
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    out = []
    for name, stage in spec["stages"].items():
        body = stage.get("do", stage)
        script = re.search(r"stages/\w+\.py", body["cmd"]).group(0)
        deps = [re.sub(r"\$\{[^}]+\}", "X", d) for d in body.get("deps", [])]
        out.append((name, script, deps))
    return out


def _covered(module: str, deps: list[str]) -> bool:
    return any(module == d or module.startswith(d.rstrip("/") + "/") for d in deps)


@pytest.mark.parametrize(("stage", "script", "deps"), _stages(), ids=[s[0] for s in _stages()])
def test_every_imported_module_is_a_dependency_of_its_stage(stage, script, deps):
    assert script in deps, f"{stage}: its own script {script} is not in deps"
    missing = sorted(m for m in imported_modules(ROOT / script)
                     if m not in EXEMPT and not _covered(m, deps))
    assert not missing, f"dvc.yaml stage {stage!r} imports but does not depend on {missing}"


def test_every_listed_source_dependency_exists():
    for stage, _, deps in _stages():
        for dep in deps:
            if dep.startswith(("src/", "stages/")):
                assert (ROOT / dep).exists(), f"dvc.yaml stage {stage!r}: {dep} does not exist"


def test_the_check_sees_a_function_level_import(tmp_path: Path):
    script = tmp_path / "stage.py"
    script.write_text("def main():\n    from segstudy.training.fit import train_unet\n")
    found = imported_modules(script)
    assert "src/segstudy/training/fit.py" in found
    assert "src/segstudy/data/batches.py" in found  # fit's own imports, followed
    assert not _covered("src/segstudy/training/fit.py", ["src/segstudy/data"])
