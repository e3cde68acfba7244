"""Training losses on the model's mask scale. Each returns one value per sample.

``mse`` is study B's loss. ``bce``, ``dice``, ``bce_dice`` and ``soft_iou`` map predictions
and targets from ``(lo, hi)`` to [0, 1] first. The soft (differentiable) Dice and IoU use
probabilities instead of binarised masks, with +1 smoothing so that an empty target and an
empty prediction give loss 0. A target may carry a pixel weight map (``split_weight``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

    fn = {"mse": mse, "bce": bce, "dice": dice, "bce_dice": bce_dice, "soft_iou": soft_iou}[name]
    fn.__name__ = name
    return fn
