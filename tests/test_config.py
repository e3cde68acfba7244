"""params.yaml's schema: the project's own settings and `make quick`'s pass; nonsense does not."""

from __future__ import annotations

import copy

import pytest
import yaml

from segstudy import SegstudyError
from segstudy.config import check_params
from segstudy.quick import QUICK_OVERRIDES
from tests.conftest import ROOT


@pytest.fixture
def params() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def _with(params: dict, dotted: str, value: object) -> dict:
    out = copy.deepcopy(params)
    *parents, last = dotted.split(".")
    node = out
    for key in parents:
        node = node[key]
    node[last] = value
    return out


def test_the_projects_params_pass(params):
    check_params(params)


def test_make_quicks_overrides_pass(params):
    for key, value in QUICK_OVERRIDES.items():
        params = _with(params, key, yaml.safe_load(str(value)))  # as `dvc exp run -S` parses
    check_params(params)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("train.lgg.learning_rate", "fast",
     "train.lgg.learning_rate: expected a positive number, got 'fast'"),
    ("train.lgg.learning_rate", float("nan"), "expected a positive number, got nan"),
    ("prepare.lgg.resize_to", True, "expected a positive integer or null, got True"),
    ("model.isbi2012.dropout", 1.5, "model.isbi2012.dropout: expected a number in [0, 1]"),
    ("train.isbi2012.augment.affine", True,
     "train.isbi2012.augment.affine_degrees: missing; affine: true needs it"),
    ("gan.metric_power.iou", 0, "gan.metric_power.iou: expected a positive number, got 0"),
    ("datasets", [], "datasets: expected a non-empty list"),
    ("prepare.isbi2012.border_weight", {"w0": 10, "sigma": 0},
     "prepare.isbi2012.border_weight: expected {w0: a number ≥ 0, sigma: a number > 0}"),
    ("prepare.lgg.normalise", "per_patient",
     "expected one of per_channel, range, per_image"),
    ("recipes.strong.lgg.postprocess", {"mode": "choose", "hysteresis": 0.6},
     "recipes.strong.lgg.postprocess: expected none, choose, or {mode: none|choose, "
     "largest_3d: true|false, hysteresis: a number in [0, 0.5)}"),
    ("recipes.strong.lgg.postprocess", {"mode": "choose", "largest": True},
     "recipes.strong.lgg.postprocess: expected none, choose, or {mode"),
    ("recipes.strong.lgg.postprocess", "pick",
     "recipes.strong.lgg.postprocess: expected one of none, choose"),
    ("recipes.strong.isbi2012.postprocess", {"mode": "choose", "largest_3d": True},
     "recipes.strong.isbi2012.postprocess: fixed steps are per patient volume"),
    ("recipes.strong.lgg.train.finetune.epochs", 8,
     "recipes.strong.lgg.train.finetune.epochs: the last 8 of 8 epochs leave none on bce_dice"),
    ("recipes.strong.lgg.train.finetune.loss", "lovasz",
     "recipes.strong.lgg.train.finetune.loss: expected one of mse, bce"),
    ("train.lgg.finetune", {"loss": "bce_lovasz", "epochs": -1},
     "train.lgg.finetune.epochs: expected an integer ≥ 0, got -1"),
])
def test_a_bad_value_is_named_with_what_was_expected(params, key, value, message):
    with pytest.raises(SegstudyError) as err:
        check_params(_with(params, key, value))
    assert message in str(err.value)


def test_a_data_set_left_out_of_datasets_needs_no_settings(params):
    params = _with(params, "datasets", ["lgg"])
    del params["train"]["isbi2012"], params["model"]["isbi2012"]
    check_params(params)
