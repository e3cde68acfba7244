"""Training recipes as params, not code forks.

``paper`` is the study's own sections of ``params.yaml`` (``prepare.<ds>``, ``model.<ds>``,
``train.<ds>``, ``evaluate.<ds>.recall_floor`` / ``.postprocess``): the papers' protocol.
Every other recipe lives under ``recipes.<name>.<ds>`` and lists only what it changes; its
values are merged over the paper's key by key (nested mappings merged, anything else
replaced). A recipe trains its own model, ``models/<ds>/<name>.keras``, on its own prepared
folder, ``data/prepared/<ds>-<name>`` (its split may differ: ``strong`` splits LGG by
patient), so the paper's rows never move.

    >>> r = resolve(params, "lgg", "strong")
    >>> r.train["loss"], r.model_name, r.prepared
    ('bce_dice', 'strong', PosixPath('data/prepared/lgg-strong'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segstudy import SegstudyError, layout
from segstudy.config import PAPER, merge


@dataclass(frozen=True)
class Recipe:
    """Everything a stage needs to prepare, train and evaluate one recipe on one data set."""

    name: str
    dataset: str
    prepare: dict[str, Any]
    model: dict[str, Any]
    train: dict[str, Any]
    recall_floor: float | None
    postprocess: str | dict[str, Any]  # none | choose | {mode, fixed steps} (postprocess.plan)

    @property
    def model_name(self) -> str:
        """``unet`` for the paper's recipe (the name every table and GAN uses), else the
        recipe's name."""
        return "unet" if self.name == PAPER else self.name

    @property
    def prepared(self) -> Path:
        return layout.prepared(self.dataset, self.name)


def names(params: Mapping[str, Any], dataset: str) -> list[str]:
    """The recipes defined for ``dataset``: ``paper`` first, then ``recipes.*.<dataset>``."""
    extra = [n for n, per_ds in (params.get("recipes") or {}).items() if dataset in per_ds]
    return [PAPER, *extra]


def resolve(params: Mapping[str, Any], dataset: str, recipe: str = PAPER) -> Recipe:
    """The merged sections of ``recipe`` for ``dataset`` (``SegstudyError`` if undefined)."""
    own = params.get("evaluate", {}).get(dataset) or {}
    base = {"prepare": params["prepare"][dataset], "model": params["model"][dataset],
            "train": params["train"][dataset], "recall_floor": own.get("recall_floor"),
            "postprocess": own.get("postprocess", "none")}
    if recipe != PAPER:
        if recipe not in names(params, dataset):
            raise SegstudyError(f"params.yaml: recipes.{recipe}.{dataset}: not defined; "
                                f"recipes for {dataset}: {', '.join(names(params, dataset))}")
        base = merge(base, params["recipes"][recipe][dataset])
    floor = base["recall_floor"]
    return Recipe(recipe, dataset, dict(base["prepare"]), dict(base["model"]),
                  dict(base["train"]), None if floor is None else float(floor),
                  base["postprocess"])


def recipe_of_model(params: Mapping[str, Any], dataset: str, model_name: str) -> Recipe:
    """The recipe a published model was trained with: a recipe's own name, else ``paper``
    (``unet`` and the GAN / control models all start from the paper's recipe)."""
    return resolve(params, dataset, model_name if model_name in names(params, dataset)[1:]
                   else PAPER)


GAN_FAIR = "fair"  # the GAN recipe of ``gan.fair`` (issue 37), beside the paper's


def gan_config(params: Mapping[str, Any], dataset: str, metric: str,
               recipe: str = PAPER) -> dict[str, Any]:
    """The GAN's settings for one data set and target: ``gan.<key>`` shared by both data sets,
    ``gan.<dataset>`` (the schedule) over them, and for ``recipe="fair"`` the keys of
    ``gan.fair`` merged over that (its ``<dataset>`` mapping over the schedule)."""
    from segstudy import DATASETS

    gan = params["gan"]
    shared = {k: v for k, v in gan.items()
              if k not in (*DATASETS, "metric", "metrics", GAN_FAIR, "fair_metrics")}
    cfg = {**shared, **gan[dataset], "metric": metric}
    if recipe == PAPER:
        return cfg
    if recipe != GAN_FAIR or not gan.get(GAN_FAIR):
        raise SegstudyError(f"params.yaml: gan.{recipe}: not defined; GAN recipes: paper"
                            + (", fair" if gan.get(GAN_FAIR) else ""))
    over = gan[GAN_FAIR]
    return merge(cfg, {**{k: v for k, v in over.items() if k not in DATASETS},
                       **over.get(dataset, {})})


def gan_model_name(metric: str, recipe: str = PAPER) -> str:
    """``gan-<metric>`` for the paper's GAN recipe, ``gan-<recipe>-<metric>`` otherwise."""
    return f"gan-{metric}" if recipe == PAPER else f"gan-{recipe}-{metric}"
