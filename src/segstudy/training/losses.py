"""Training losses on the model's mask scale. Each returns one value per sample.

``mse`` is study B's loss. ``bce``, ``dice``, ``bce_dice``, ``soft_iou`` and ``bce_lovasz``
map predictions and targets from ``(lo, hi)`` to [0, 1] first. The soft (differentiable) Dice
and IoU use probabilities instead of binarised masks, with +1 smoothing so that an empty target
and an empty prediction give loss 0. A target may carry a pixel weight map (``split_weight``).
``fine_tuned`` switches a run to a second loss for its last epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
from keras import ops

from segstudy import SegstudyError, config

LOSS_NAMES = config.LOSS_NAMES
_SMOOTH = 1.0


def _unit(x: Any, mask_range: tuple[float, float]) -> Any:
    lo, hi = mask_range
    return ops.clip((ops.cast(x, "float32") - lo) / (hi - lo), 0.0, 1.0)


def _sum(x: Any) -> Any:
    return ops.sum(x, axis=tuple(range(1, len(x.shape))))


def split_weight(y_true: Any) -> tuple[Any, Any]:
    """(target, pixel weight): a target with two channels carries the U-Net paper's weight map
    in its second (``data.batches``, where ``prepare`` made one); one channel = weight 1.
    ``mse`` and ``bce`` weight each pixel's term; the overlap losses (Dice, IoU) do not."""
    if y_true.shape[-1] == 2:
        return y_true[..., :1], ops.cast(y_true[..., 1:], "float32")
    return y_true, 1.0


def lovasz_iou(t: Any, q: Any) -> Any:
    """Per sample, the Lovász extension of 1 − IoU of the foreground (Berman et al. 2018,
    "The Lovász-Softmax loss", arXiv:1705.08790, the binary case on probabilities): the pixel
    errors |t − q| sorted in decreasing order, each weighted by how much 1 − IoU grows when
    that pixel, in that order, is counted wrong. Exactly 1 − IoU where ``q`` is a binary mask
    (the extension is tight on the cube's vertices) and convex in ``q``. A sample without
    foreground scores 0 (their "present classes" rule): empty slices are left to another
    term. ``t``, ``q`` in [0, 1], shape (batch, ...)."""
    n = 1
    for d in q.shape[1:]:
        n *= int(d)
    t, q = ops.reshape(ops.cast(t, "float32"), (-1, n)), ops.reshape(q, (-1, n))
    errors = ops.abs(t - q)
    order = ops.flip(ops.argsort(ops.stop_gradient(errors), axis=-1), axis=-1)
    errors, t = ops.take_along_axis(errors, order, axis=-1), ops.take_along_axis(t, order, axis=-1)
    gts = ops.sum(t, axis=-1, keepdims=True)
    # 1 − IoU once the first k pixels of the order are counted wrong (union ≥ 1 throughout)
    jaccard = 1 - (gts - ops.cumsum(t, axis=-1)) / (gts + ops.cumsum(1 - t, axis=-1))
    grad = ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=-1)
    present = ops.cast(gts[:, 0] > 0, "float32")
    return present * ops.sum(errors * ops.stop_gradient(grad), axis=-1)


def make_loss(name: str, mask_range: tuple[float, float]) -> Callable[[Any, Any], Any]:
    if name not in LOSS_NAMES:
        raise SegstudyError(f"params.yaml: loss={name!r}; choose one of {', '.join(LOSS_NAMES)}")

    def mse(y_true: Any, y_pred: Any) -> Any:
        y_true, w = split_weight(y_true)
        d = ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")
        return ops.mean(w * ops.square(d), axis=tuple(range(1, len(d.shape))))

    def bce(y_true: Any, y_pred: Any) -> Any:
        y_true, w = split_weight(y_true)
        t, p = _unit(y_true, mask_range), ops.clip(_unit(y_pred, mask_range), 1e-7, 1 - 1e-7)
        ll = w * (t * ops.log(p) + (1 - t) * ops.log(1 - p))
        return -ops.mean(ll, axis=tuple(range(1, len(ll.shape))))

    def dice(y_true: Any, y_pred: Any) -> Any:
        t, p = _unit(split_weight(y_true)[0], mask_range), _unit(y_pred, mask_range)
        return 1 - (2 * _sum(t * p) + _SMOOTH) / (_sum(t) + _sum(p) + _SMOOTH)

    def soft_iou(y_true: Any, y_pred: Any) -> Any:
        t, p = _unit(split_weight(y_true)[0], mask_range), _unit(y_pred, mask_range)
        inter = _sum(t * p)
        return 1 - (inter + _SMOOTH) / (_sum(t) + _sum(p) - inter + _SMOOTH)

    def bce_dice(y_true: Any, y_pred: Any) -> Any:
        return bce(y_true, y_pred) + dice(y_true, y_pred)

    def bce_lovasz(y_true: Any, y_pred: Any) -> Any:
        """BCE keeps empty slices empty; Lovász is the IoU of each foreground slice."""
        t, p = _unit(split_weight(y_true)[0], mask_range), _unit(y_pred, mask_range)
        return bce(y_true, y_pred) + lovasz_iou(t, p)

    fn = {"mse": mse, "bce": bce, "dice": dice, "bce_dice": bce_dice, "soft_iou": soft_iou,
          "bce_lovasz": bce_lovasz}[name]
    fn.__name__ = name
    return fn


class _Switch(keras.callbacks.Callback):
    """From epoch ``at`` (0-based) on, ``state["on"]``; the train step is traced again when it
    flips, since the compiled step read it when traced (any backend; resumed runs too)."""

    def __init__(self, state: dict[str, bool], at: int):
        super().__init__()
        self.state, self.at = state, at

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch >= self.at) != self.state["on"]:
            self.state["on"] = epoch >= self.at
            self.model.make_train_function(force=True)


def fine_tuned(train_cfg: Mapping[str, Any], mask_range: tuple[float, float],
               where: str) -> tuple[Callable[[Any, Any], Any], list[keras.callbacks.Callback]]:
    """The run's loss and the callbacks it needs: ``train.loss`` throughout, or, with
    ``train.finetune: {loss, epochs: k}`` (k > 0), ``finetune.loss`` for the last k epochs.

    One ``fit`` (and its resume) covers both phases: at the switch the train step is traced
    anew with the second loss, as a recompile would, while the optimizer, its moments and the
    learning-rate schedule go on (Berman et al. fine-tune with Lovász after a cross-entropy
    start). ``where`` names the params section in errors."""
    first = make_loss(train_cfg["loss"], mask_range)
    at = config.fine_tune_start(train_cfg, where)
    if at is None:
        return first, []
    second = make_loss(train_cfg["finetune"]["loss"], mask_range)
    state = {"on": False}

    def loss(y_true: Any, y_pred: Any) -> Any:
        return (second if state["on"] else first)(y_true, y_pred)

    loss.__name__ = f"{first.__name__}_then_{second.__name__}"
    return loss, [_Switch(state, at)]
