"""The shape of ``params.yaml``: every key's type, range or choices, checked before a stage works.

``check_params(params)`` walks :data:`SCHEMA` and raises one ``SegstudyError`` for the first
violation, worded ``params.yaml: train.lgg.learning_rate: expected a positive number, got
'fast'``. A leaf is a checker (``segstudy.checkers``: a function of the value that returns
an error phrase or ``None``); ``<ds>`` stands for every name in ``datasets``. Choice lists
live here, so the modules that dispatch on a name import them from here (this module imports
nothing heavy).
Keys the schema does not name are refused too: a typo must not silently fall back to nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from segstudy import DATASETS, SegstudyError
from segstudy.checkers import (
    anything,
    boolean,
    fraction,
    integer,
    is_number,
    list_of,
    non_negative_int,
    non_negative_number,
    one_of,
    optional,
    positive_int,
    positive_number,
    share,
)

LOSS_NAMES = ("mse", "bce", "dice", "bce_dice", "soft_iou", "bce_lovasz")
METRIC_NAMES = ("module", "squaring", "percent", "iou")  # paper A's four (its tables' columns)
# what the GAN's discriminator may regress: paper A's four, and ``vrand`` (1 − adapted Rand error
# of the cells, segstudy.metrics.cell_agreement), a cell-level score no loss can optimise
GAN_TARGETS = (*METRIC_NAMES, "vrand")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")  # auto: segstudy.precision
OUTPUT_ACTIVATIONS = ("tanh", "sigmoid")
HEADS = ("plain", "conv_bn_lrelu")
GAN_INITS = ("unet", "scratch")
SCHEDULES = ("constant", "cosine")  # cosine: one epoch's linear warm-up, then cosine to 0
SELECT_ON = ("iou", "dice_per_patient")  # the validation score that picks the best epoch
POSTPROCESS = ("none", "choose")  # choose: segstudy.postprocess picks its steps on validation
FIXABLE = ("largest_3d", "hysteresis")  # volume steps a recipe may fix (segstudy.postprocess)

def border_weight(v: Any) -> str | None:
    """The U-Net paper's weight map settings (``segstudy.data.weights``)."""
    if (isinstance(v, dict) and set(v) == {"w0", "sigma"} and non_negative_number(v["w0"]) is None
            and positive_number(v["sigma"]) is None):
        return None
    return "expected {w0: a number ≥ 0, sigma: a number > 0}"


def hysteresis_ok(h: Any) -> bool:
    """A hysteresis level (``segstudy.postprocess.clean``): a fraction of the scale in [0, 0.5)
    (0 = off; at 0.5 or above it would grow nothing)."""
    return is_number(h) and 0 <= h < 0.5


def postprocess_spec(v: Any) -> str | None:
    """``none`` | ``choose`` or ``{mode, largest_3d, hysteresis}`` (``postprocess.plan``)."""
    if not isinstance(v, Mapping):
        return one_of(*POSTPROCESS)(v)
    if (any(k not in ("mode", *FIXABLE) for k in v)
            or v.get("mode", "choose") not in POSTPROCESS
            or not isinstance(v.get("largest_3d", False), bool)
            or not hysteresis_ok(v.get("hysteresis", 0.0))):
        return ("expected none, choose, or {mode: none|choose, largest_3d: true|false, "
                "hysteresis: a number in [0, 0.5)}")
    return None


AUGMENT = {"flip": boolean, "rot90": boolean, "elastic": boolean, "affine": boolean,
           # a transform's settings are needed only when it is on (checked in check_params)
           "elastic_alpha": (non_negative_number, "optional"),
           "elastic_sigma": (positive_number, "optional"),
           "affine_degrees": (non_negative_number, "optional"),
           "affine_scale": (fraction, "optional")}
AUGMENT_SETTINGS = {"elastic": ("elastic_alpha", "elastic_sigma"),
                    "affine": ("affine_degrees", "affine_scale")}
MODEL = {"base_filters": positive_int, "depth": positive_int, "convs_per_block": positive_int,
         "batchnorm": boolean, "head": one_of(*HEADS), "dropout": fraction,
         "leaky_alpha": non_negative_number, "output_activation": one_of(*OUTPUT_ACTIVATIONS)}
TRAIN = {"seeds": list_of(integer), "loss": one_of(*LOSS_NAMES),
         "learning_rate": positive_number, "batch_size": positive_int, "epochs": positive_int,
         "steps_per_epoch": optional(positive_int), "tile": optional(positive_int),
         "precision": one_of(*PRECISIONS), "augment": AUGMENT,
         "schedule": one_of(*SCHEDULES), "positive_share": optional(share),
         "select_on": one_of(*SELECT_ON),
         # the last `epochs` epochs on another loss (0 = off; segstudy.training.losses)
         "finetune": ({"loss": one_of(*LOSS_NAMES), "epochs": non_negative_int}, "optional"),
         # the published model: the first seed (false, the default) or the seeds' average
         "ensemble": (boolean, "optional")}
GAN_SCHEDULE = {"epochs": positive_int, "steps_per_epoch": positive_int,
                "batch_size": positive_int, "g_learning_rate": positive_number,
                "d_learning_rate": positive_number}

SCHEMA: dict[str, Any] = {
    "seed": integer,
    "datasets": list_of(one_of(*DATASETS)),
    "download": {"<ds>": anything},
    "prepare": {
        "isbi2012": {"normalise": one_of("range", "per_channel"),
                     "border_weight": (optional(border_weight), "optional"),
                     "split": {"rule": one_of("contiguous"),
                               "counts": list_of(non_negative_int, unique=False, length=3)}},
        "lgg": {"resize_to": optional(positive_int),
                "normalise": one_of("per_channel", "range", "per_image", "per_volume"),
                "split": {"by": one_of("slice", "patient"),
                          "counts": list_of(non_negative_int, unique=False, length=3)}},
    },
    "model": {"<ds>": MODEL},
    "train": {"<ds>": TRAIN},
    "evaluate": {"empty_iou": fraction,
                 "lgg": {"recall_floor": fraction, "postprocess": postprocess_spec}},
    "gan": {
        "metric": one_of(*GAN_TARGETS), "metrics": list_of(one_of(*GAN_TARGETS)),
        "metric_power": {name: positive_number for name in GAN_TARGETS},
        "init": one_of(*GAN_INITS), "supervised_weight": non_negative_number,
        "supervised_loss": one_of(*LOSS_NAMES), "d_steps": positive_int,
        "d_warmup_steps": non_negative_int, "perturb_max": fraction,
        "precision": one_of(*PRECISIONS),
        "replay": {"fraction": fraction, "capacity": non_negative_int, "batch": positive_int},
        "select_on": one_of("iou", "quality"),  # the generator kept: best val IoU or target
        "discriminator": {"spectral_norm": boolean, "base_filters": positive_int,
                          "depth": positive_int, "convs_per_block": positive_int,
                          "batchnorm": boolean, "extra_convs": non_negative_int,
                          "dense_units": positive_int, "leaky_alpha": non_negative_number},
        "<ds>": GAN_SCHEDULE,
        # MetricGAN+'s recipe beside the paper's, and the targets trained under it: only what
        # differs from the keys above, checked merged (check_gan_fair)
        "fair_metrics": (list_of(one_of(*GAN_TARGETS)), "optional"),
        "fair": (anything, "optional"),
    },
    "control": {"loss": one_of(*LOSS_NAMES)},
    "bench": {"time_to_quality": {"max_epochs": positive_int}},
    # recipes beside the paper's (segstudy.recipes): each checked merged, in check_recipes
    "recipes": (anything, "optional"),
}


def _fail(where: str, problem: str, value: Any) -> SegstudyError:
    return SegstudyError(f"params.yaml: {where}: {problem}, got {value!r}")


def _walk(node: Any, schema: Any, where: str, active: tuple[str, ...]) -> None:
    if isinstance(schema, tuple):  # (section, "optional")
        schema = schema[0]
    if callable(schema):
        problem = schema(node)
        if problem is not None:
            raise _fail(where, problem, node)
        return
    if not isinstance(node, Mapping):
        raise _fail(where, "expected a mapping of settings", node)
    expanded: dict[str, tuple[Any, bool]] = {}  # name -> (schema, required)
    for key, sub in schema.items():
        if key == "<ds>":  # every data set may be configured; the active ones must be
            expanded.update({ds: (sub, ds in active) for ds in DATASETS})
        else:
            expanded[key] = (sub, not isinstance(sub, tuple))
    prefix = f"{where}." if where else ""
    for key in node:
        if key not in expanded:
            raise SegstudyError(f"params.yaml: {prefix}{key}: unknown setting; known here: "
                                f"{', '.join(expanded)}")
    for key, (sub, required) in expanded.items():
        if key in node:
            _walk(node[key], sub, prefix + key, active)
        elif required:
            raise SegstudyError(f"params.yaml: {prefix}{key}: missing; add it (the project's "
                                "params.yaml shows its meaning)")


def check_params(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """Raise ``SegstudyError`` naming the first key whose value is out of type, range or choice."""
    if not isinstance(params, Mapping):
        raise SegstudyError("params.yaml: expected a mapping at the top level")
    _walk({"datasets": params.get("datasets")}, {"datasets": SCHEMA["datasets"]}, "", ())
    _walk(params, SCHEMA, "", tuple(params["datasets"]))
    for ds in params["datasets"]:
        augment = params["train"][ds].get("augment", {})
        for flag, keys in AUGMENT_SETTINGS.items():
            for key in keys:
                if augment.get(flag) and key not in augment:
                    raise SegstudyError(f"params.yaml: train.{ds}.augment.{key}: missing; "
                                        f"{flag}: true needs it")
        fine_tune_start(params["train"][ds], f"train.{ds}")
    check_recipes(params)
    check_gan_fair(params)
    return params


def fine_tune_start(train: Mapping[str, Any], where: str) -> int | None:
    """The 0-based epoch from which ``train.finetune.loss`` replaces ``train.loss`` (the last
    ``finetune.epochs``), None without a fine-tune; ``SegstudyError`` if none would be left."""
    k, epochs = int((train.get("finetune") or {}).get("epochs", 0)), int(train["epochs"])
    if k >= epochs:
        raise _fail(f"{where}.finetune.epochs", f"the last {k} of {epochs} epochs leave none on "
                    f"{train['loss']}; choose 0-{epochs - 1} (0 = off)", k)
    return epochs - k if k else None


def check_gan_fair(params: Mapping[str, Any]) -> None:
    """``gan.fair``: every key a ``gan`` setting, valid once merged over the paper's."""
    gan = params["gan"]
    fair = gan.get("fair")
    if fair is None:
        return
    if not isinstance(fair, Mapping):
        raise _fail("gan.fair", "expected a mapping of gan settings", fair)
    own = ("fair", "fair_metrics")
    schema = {k: v for k, v in SCHEMA["gan"].items() if k not in own}
    merged = merge({k: v for k, v in gan.items() if k not in own}, fair)
    _walk(merged, schema, "gan.fair", tuple(params["datasets"]))


PAPER = "paper"  # the recipe of the sections themselves (segstudy.recipes)
RECIPE_KEYS = ("prepare", "model", "train", "recall_floor", "postprocess")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: mappings key by key, other values replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_recipes(params: Mapping[str, Any]) -> None:
    """``recipes.<name>.<ds>``: known data sets and keys, and the merged sections valid."""
    recipes = params.get("recipes") or {}
    if not isinstance(recipes, Mapping):
        raise _fail("recipes", "expected a mapping of recipe names", recipes)
    for name, per_ds in recipes.items():
        where = f"recipes.{name}"
        if name == PAPER or not str(name).isidentifier():
            raise _fail(where, "a recipe name must be an identifier other than 'paper'", name)
        if not isinstance(per_ds, Mapping):
            raise _fail(where, "expected a mapping of data sets", per_ds)
        for ds, over in per_ds.items():
            if ds not in DATASETS:
                raise _fail(f"{where}.{ds}", f"not a data set ({', '.join(DATASETS)})", ds)
            if ds not in params["datasets"] and any(ds not in params[k] for k in
                                                    ("prepare", "model", "train")):
                continue  # a data set left out of `datasets` needs no settings
            if not isinstance(over, Mapping):
                raise _fail(f"{where}.{ds}", "expected a mapping of settings", over)
            unknown = [k for k in over if k not in RECIPE_KEYS]
            if unknown:
                raise SegstudyError(f"params.yaml: {where}.{ds}.{unknown[0]}: unknown setting; "
                                    f"known here: {', '.join(RECIPE_KEYS)}")
            parts = {"prepare": SCHEMA["prepare"][ds], "model": MODEL, "train": TRAIN}
            for key, schema in parts.items():
                base = params[key][ds]
                _walk(merge(base, over.get(key) or {}), schema, f"{where}.{ds}.{key}", ())
            fine_tune_start(merge(params["train"][ds], over.get("train") or {}),
                            f"{where}.{ds}.train")
            if "recall_floor" in over:
                _walk(over["recall_floor"], fraction, f"{where}.{ds}.recall_floor", ())
            if "postprocess" in over:
                _walk(over["postprocess"], postprocess_spec, f"{where}.{ds}.postprocess", ())
                if ds != "lgg" and isinstance(over["postprocess"], Mapping):
                    raise _fail(f"{where}.{ds}.postprocess", "fixed steps are per patient "
                                "volume (lgg); use none or choose", over["postprocess"])
