"""The part of a model's sidecar that ``predict`` needs beyond the weights (see
``segstudy.inference``): the input size, and the Tumour / No-tumour rule chosen on validation.

The rule is chosen here, once, when the model is exported, with the model that is published:
``evaluate`` and ``predict`` both read it from the sidecar, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from segstudy.data.prepared import Prepared
from segstudy.detection import choose_min_area
from segstudy.inference import predict_masks
from segstudy.metrics import binarise


def model_card(model: keras.Model, data: Prepared, rng_range: tuple[float, float],
               tile: int | None, recall_floor: float | None) -> dict[str, Any]:
    """``input_size``: ``None`` for a model trained on tiles (applied at any size), else the
    prepared square size every image is resized to. ``decision``: the rule chosen on the val
    split at ``recall_floor`` (``segstudy.detection.choose_min_area``), or ``None``."""
    decision = None
    if recall_floor is not None:
        idx = data.indices("val")
        pred = predict_masks(model, np.asarray(data.images[idx]), data.norm)
        areas = binarise(pred, rng_range).reshape(len(idx), -1).sum(axis=1)
        has_tumour = np.asarray(data.masks[idx]).reshape(len(idx), -1).max(axis=1) > 0
        decision = {**choose_min_area(areas, has_tumour, float(recall_floor)),
                    "chosen_on": "val", "measured_at_input_size": True}
    return {"input_size": None if tile else int(data.images.shape[1]), "decision": decision}
