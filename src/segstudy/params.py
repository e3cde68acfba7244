"""Read ``params.yaml``, the single home of every tunable, and check values at the door."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from segstudy import DATASETS, SegstudyError
from segstudy.config import check_params

PARAMS_FILE = Path(os.environ.get("SEGSTUDY_PARAMS", "params.yaml"))


def load_params(path: str | os.PathLike | None = None) -> dict[str, Any]:
    path = Path(path) if path is not None else PARAMS_FILE
    try:
        with open(path) as fh:
            params = yaml.safe_load(fh)
    except FileNotFoundError:
        raise SegstudyError(f"{path}: not found; run from the project's root") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        why = getattr(exc, "problem", None) or exc
        raise SegstudyError(f"{path}: not valid YAML{at} ({why})") from None
    if not isinstance(params, dict):
        raise SegstudyError(f"{path}: expected a mapping at the top level")
    check_params(params)  # every stage validates the whole file before it does any work
    return params


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise SegstudyError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return name


def section(params: Mapping[str, Any], dotted: str) -> Any:
    """``section(p, "train.lgg")`` with an error naming the missing key."""
    node: Any = params
    for i, key in enumerate(dotted.split(".")):
        if not isinstance(node, Mapping) or key not in node:
            where = ".".join(dotted.split(".")[: i + 1])
            raise SegstudyError(f"params.yaml: missing key {where!r}")
        node = node[key]
    return node


def tumour_rule_floor(params: Mapping[str, Any], dataset: str) -> float | None:
    """``evaluate.<dataset>.recall_floor``: set only for data sets whose slices are classified
    Tumour / No tumour (LGG); ``None`` elsewhere, and the model's sidecar then has no rule."""
    floor = section(params, "evaluate").get(dataset, {}).get("recall_floor")
    return None if floor is None else float(floor)


def choice(value: Any, allowed: Iterable[str], name: str) -> str:
    allowed = list(allowed)
    if value not in allowed:
        raise SegstudyError(
            f"params.yaml: {name}={value!r} is not valid; choose one of {', '.join(allowed)}"
        )
    return value
