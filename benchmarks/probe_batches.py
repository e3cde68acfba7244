"""Training-batch wrappers, an EMA swap and losses for ``lgg_recipe_probe.py`` (probe
ingredients that are not recipe params): intensity jitter, channel dropout, exchanging Adam's
moving averages with the trained weights, and the probe losses: BCE + a Dice over the whole
batch, + a per-sample soft IoU, + a Tversky loss (BCE + Lovász IoU, once here, is the
losses module's ``bce_lovasz`` since the recipe uses it)."""

from __future__ import annotations

import numpy as np


def jittered(base: type, width: float) -> type:
    """``base`` whose batches get a random scale in [1 - width, 1 + width] and shift in
    [-width, width] per slice and channel, after normalisation; seeded by (seed, step)."""

    class Jittered(base):
        def __getitem__(self, i: int):
            x, y = super().__getitem__(i)
            draw = int(self._draws[i])  # this step's epoch (already counted by the base)
            r = np.random.default_rng([self.seed, draw, i, 7])
            shape = (x.shape[0], 1, 1, x.shape[-1])
            x = x * r.uniform(1 - width, 1 + width, shape) + r.uniform(-width, width, shape)
            return x.astype(np.float32), y

    return Jittered


def channel_dropped(base: type, p: float) -> type:
    """``base`` whose batches lose one random channel (set to 0) in each slice with
    probability ``p``, after normalisation; seeded by (seed, epoch, step)."""

    class ChannelDropped(base):
        def __getitem__(self, i: int):
            x, y = super().__getitem__(i)
            r = np.random.default_rng([self.seed, int(self._draws[i]), i, 11])
            drop = r.random(x.shape[0]) < p
            channel = r.integers(0, x.shape[-1], x.shape[0])
            x = np.array(x, dtype=np.float32)
            x[drop, ..., channel[drop]] = 0.0
            return x, y

    return ChannelDropped


def swap_ema(optimizer) -> None:
    """Exchange the trained weights with their moving averages (as keras.callbacks.
    SwapEMAWeights does on a non-TensorFlow backend); twice restores them."""
    for var, avg in zip(optimizer._trainable_variables,
                        optimizer._model_variables_moving_average, strict=True):
        raw = var.numpy()
        var.assign(avg)
        avg.assign(raw)


def bce_batch_dice(mask_range: tuple[float, float]):
    """BCE per sample + one soft Dice over the whole batch (nnU-Net's ``batch_dice``), the same
    value added to every sample's loss: an empty slice no longer has a Dice term of its own
    (the recipe's per-sample Dice, +1 smoothed, pushes every pixel of it to zero)."""
    from keras import ops

    from segstudy.training.losses import _SMOOTH, _unit, make_loss, split_weight

    bce = make_loss("bce", mask_range)

    def loss(y_true, y_pred):  # the losses module's mapping to [0, 1] and smoothing
        t, q = _unit(split_weight(y_true)[0], mask_range), _unit(y_pred, mask_range)
        dice = 1 - (2 * ops.sum(t * q) + _SMOOTH) / (ops.sum(t) + ops.sum(q) + _SMOOTH)
        return bce(y_true, y_pred) + dice

    loss.__name__ = "bce_batch_dice"
    return loss


def bce_soft_iou(mask_range: tuple[float, float]):
    """BCE + the per-sample soft IoU (Jaccard) loss of ``segstudy.training.losses``, instead of
    the recipe's soft Dice: the IoU penalises a poor overlap more than the Dice does (1 − IoU
    = 2 (1 − Dice) / (2 − Dice)), and issue 39 scores IoU per tumour slice."""
    from segstudy.training.losses import make_loss

    bce, iou = make_loss("bce", mask_range), make_loss("soft_iou", mask_range)

    def loss(y_true, y_pred):
        return bce(y_true, y_pred) + iou(y_true, y_pred)

    loss.__name__ = "bce_soft_iou"
    return loss


def bce_tversky(mask_range: tuple[float, float], alpha: float = 0.3, beta: float = 0.7):
    """BCE + the per-sample Tversky loss (Salehi et al. 2017, arXiv:1706.05721) instead of
    the recipe's soft Dice: 1 − (TP + s) / (TP + α·FP + β·FN + s) on soft counts, s = the
    losses module's smoothing. α = β = 0.5 is the soft Dice (up to the smoothing); β > α
    makes a missed tumour pixel cost more than a false one, aimed at issue 39's slice recall
    (the slices the recipe misses are tiny sections predicted empty)."""
    from segstudy.training.losses import _SMOOTH, _sum, _unit, make_loss, split_weight

    bce = make_loss("bce", mask_range)

    def loss(y_true, y_pred):
        t, q = _unit(split_weight(y_true)[0], mask_range), _unit(y_pred, mask_range)
        tp, fp, fn = _sum(t * q), _sum((1 - t) * q), _sum(t * (1 - q))
        return bce(y_true, y_pred) + 1 - (tp + _SMOOTH) / (tp + alpha * fp + beta * fn
                                                           + _SMOOTH)

    loss.__name__ = "bce_tversky"
    return loss
