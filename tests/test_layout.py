"""dvc.yaml spells every artefact's path for DVC; ``segstudy.layout`` spells it for the code.
Every data, model, metrics, predictions and plots path a stage declares (expanded over its
``foreach`` / ``matrix``) must be one that layout's functions give, so the two cannot drift."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import yaml

from segstudy import layout
from tests.conftest import ROOT

ARTEFACT = re.compile(r"^(data|models|metrics|predictions|plots|report)(/|$)")


def _params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def _resolve(value, params: dict):
    """``${a.b}`` of params.yaml, as dvc.yaml's top-level interpolation reads it."""
    if isinstance(value, str) and value.startswith("${"):
        node = params
        for key in value[2:-1].split("."):
            node = node[key]
        return node
    return value


def _items(stage: dict, params: dict) -> list:
    if "foreach" in stage:
        return list(_resolve(stage["foreach"], params))
    if "matrix" in stage:
        axes = {k: _resolve(v, params) for k, v in stage["matrix"].items()}
        return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    return [None]


def _declared_paths() -> set[str]:
    params = _params()
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    paths = set()
    for stage in stages.values():
        body = stage.get("do", stage)
        for item in _items(stage, params):
            for key in ("deps", "outs", "metrics", "plots"):
                for entry in body.get(key, []):
                    path = next(iter(entry)) if isinstance(entry, dict) else entry
                    if isinstance(item, dict):
                        for k, v in item.items():
                            path = path.replace(f"${{item.{k}}}", str(v))
                    elif item is not None:
                        path = path.replace("${item}", str(item))
                    if ARTEFACT.match(path):
                        paths.add(path.rstrip("/"))
    return paths


def _layout_paths() -> set[str]:
    params = _params()
    names = ["unet", "control", *params.get("recipes", {}),
             *(f"gan-{m}" for m in params["gan"]["metrics"]),
             *(f"gan-fair-{m}" for m in params["gan"].get("fair_metrics", []))]
    out: set[Path] = set()
    for ds in params["datasets"]:
        out |= {layout.raw(ds), layout.prepared(ds), layout.metrics_dir(ds)}
        out |= {layout.prepared(ds, r) for r in params.get("recipes", {})}
        for name in names:
            model = layout.model(ds, name)
            out |= {model, layout.sidecar(model), layout.seeds_dir(model),
                    layout.discriminator(model), layout.curves(ds, name, 0).parent,
                    layout.eval_plots(ds, name), layout.metrics(ds, name),
                    layout.per_sample(ds, name), layout.per_seed_sample(ds, name),
                    layout.predictions(ds, name)}
    from segstudy.report.dashboard import CONFUSIONS, FIGURES

    out |= {layout.REPORT, *(layout.DASHBOARD / f for f in (*FIGURES, *CONFUSIONS.values()))}
    folders = {"metrics", "predictions", "models", "plots"} | {str(p.parent) for p in out}
    return {str(p) for p in out} | folders


def test_every_artefact_path_in_dvc_yaml_is_one_layout_gives():
    declared = _declared_paths()
    assert len(declared) > 40  # the expansion found the stages' paths
    stray = sorted(declared - _layout_paths())
    assert not stray, f"dvc.yaml declares paths layout.py does not know: {stray}"


def test_a_path_layout_does_not_know_is_caught():
    assert "models/lgg/unet_v2.keras" not in _layout_paths()
    assert "models/lgg/strong.keras" in _layout_paths()
