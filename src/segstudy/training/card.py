"""The part of a model's sidecar that ``predict`` needs beyond the weights (see
``segstudy.inference``): the input size, and the Tumour / No-tumour rule chosen on validation.

The rule is chosen here, once, when the model is exported, with the model that is published:
``evaluate`` and ``predict`` both read it from the sidecar, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from segstudy import postprocess
from segstudy.data.prepared import Prepared, to_mask_scale
from segstudy.detection import choose_min_area
from segstudy.metrics import binarise, region_scores
from segstudy.patients import mean_dice_per_patient


def model_card(model: keras.Model, data: Prepared, rng_range: tuple[float, float],
               tile: int | None, recall_floor: float | None,
               postprocess_spec: str | Mapping[str, Any] = "none",
               dataset: str = "lgg") -> dict[str, Any]:
    """``input_size``: ``None`` for a model trained on tiles (applied at any size), else the
    prepared square size every image is resized to. ``postprocess``: ``segstudy.postprocess``'s
    settings, chosen on the val split when the recipe's ``postprocess_spec`` says ``choose``
    (LGG: by Dice per patient, with the steps the spec fixes applied last; ISBI: by adapted
    Rand error of the cells), else none (``segstudy.postprocess.plan``). ``decision``: the
    Tumour rule chosen on the val split's post-processed output at ``recall_floor``
    (``segstudy.detection.choose_min_area``), or ``None``."""
    postprocess_mode, fixed = postprocess.plan(postprocess_spec)
    post: dict[str, Any] = dict(postprocess.NONE)
    decision = None
    if recall_floor is not None or postprocess_mode == "choose":
        idx = data.indices("val")
        images = np.asarray(data.images[idx])
        table = data.table.iloc[idx].reset_index(drop=True)
        masks = np.asarray(data.masks[idx])
        truth = masks.reshape(len(idx), -1) > 0
        cases = table["case_id"].to_numpy() if "case_id" in table else None
        if postprocess_mode == "choose" and dataset == "isbi2012":
            target = to_mask_scale(masks, rng_range)[..., 0]
            post = postprocess.choose_cells(
                model, images, data.norm, 8, rng_range,
                lambda prob: float(np.mean([region_scores(p, t, rng_range)["rand_error"]
                                            for p, t in zip(prob, target, strict=True)])))
        elif postprocess_mode == "choose":
            post = postprocess.choose(model, images, data.norm, 8, cases, rng_range,
                                      lambda prob: mean_dice_per_patient(
                                          table, truth, binarise(prob, rng_range) > 0, 1.0),
                                      fixed)
        if recall_floor is not None:
            pred = postprocess.apply(model, images, data.norm, 8, cases, rng_range, post)
            areas = binarise(pred, rng_range).reshape(len(idx), -1).sum(axis=1)
            decision = {**choose_min_area(areas, truth.any(axis=1), float(recall_floor)),
                        "chosen_on": "val", "measured_at_input_size": True}
    return {"input_size": None if tile else int(data.images.shape[1]), "decision": decision,
            "postprocess": post}
