"""Train a U-Net on a prepared data set (also its control: a fine-tune with the GAN's schedule):
seeded, streamed, resumable, best-on-validation. The shared skeleton is
``segstudy.training.run``; this module keeps what is the U-Net's own: its model, its loss
and its validation score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from segstudy import SegstudyError, layout
from segstudy.data.prepared import Prepared, to_mask_scale
from segstudy.inference import predict_masks
from segstudy.metrics import binarise, iou
from segstudy.models.unet import build_unet_from_params, mask_range
from segstudy.patients import mean_dice_per_patient
from segstudy.precision import resolve_precision
from segstudy.training.losses import fine_tuned
from segstudy.training.run import (
    Run,
    WarmupHold,
    configure,
    file_fingerprint,
    first_selectable_epoch,
    publish,
)


def validation_scorer(data: Prepared, split: str, rng_range: tuple[float, float], loss_fn: Any,
                      batch_size: int, empty_iou: float, per_patient_dice: bool = False) -> Any:
    """``score(model)``: mean IoU over the split's slices and the loss; with
    ``per_patient_dice`` also the mean Dice per patient volume (``segstudy.patients``)."""
    idx = data.indices(split)
    if len(idx) == 0:
        raise SegstudyError(f"{data.folder}: the {split} split is empty")
    images = np.asarray(data.images[idx])
    targets = to_mask_scale(np.asarray(data.masks[idx]), rng_range)
    truth = np.asarray(data.masks[idx]).reshape(len(idx), -1) > 0
    table = data.table.iloc[idx].reset_index(drop=True)

    def score(model: keras.Model) -> dict[str, float]:
        pred = predict_masks(model, images, data.norm, batch_size)
        loss = keras.ops.convert_to_numpy(loss_fn(targets, pred[..., None]))
        out = {"iou": float(np.mean(iou(pred, targets[..., 0], rng_range, empty=empty_iou))),
               "loss": float(np.mean(loss))}
        if per_patient_dice:
            out["dice_per_patient"] = mean_dice_per_patient(
                table, truth, binarise(pred, rng_range) > 0, empty_iou)
        return out

    return score


def learning_rate(train_cfg: Mapping[str, Any], steps_per_epoch: int, hold_steps: int) -> Any:
    """``train.<ds>.learning_rate`` under ``schedule``: constant (after an optional hold of
    ``hold_steps`` at 0), or cosine: linear warm-up over the first epoch, then cosine decay to
    0 at the last step."""
    rate = float(train_cfg["learning_rate"])
    if train_cfg.get("schedule", "constant") == "constant":
        return WarmupHold(rate, hold_steps) if hold_steps else rate
    if hold_steps:
        raise SegstudyError("train: schedule cosine cannot be combined with a hold "
                            "(the GAN control's fine-tune); use schedule: constant")
    total = steps_per_epoch * int(train_cfg["epochs"])
    warm = min(steps_per_epoch, max(0, total - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, total - warm), warmup_target=rate, warmup_steps=warm)


def train_unet(dataset: str, prepared: str | Path, model_cfg: Mapping[str, Any],
               train_cfg: Mapping[str, Any], seed: int, out_model: str | Path,
               live_dir: str | Path, empty_iou: float,
               resume_root: str | Path = layout.RESUME, *, name: str = "unet",
               init_model: str | Path | None = None, hold_steps: int = 0,
               keep_state: bool = False, recall_floor: float | None = None,
               postprocess: str | Mapping[str, Any] = "none",
               callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict[str, Any]:
    """Train and write ``out_model`` (``.keras``) + its ``.json`` sidecar; return the summary.

    ``init_model`` starts from a trained model's weights instead of random ones (a fine-tune);
    ``hold_steps`` keeps the learning rate at 0 for that many steps, the GAN's warm-up, so a
    control run can match the GAN's updates one for one. With ``keep_state`` the finished run's
    state stays in ``resume_root`` (a multi-seed stage removes it once every seed is done, so
    a killed stage does not retrain the seeds it had finished). ``recall_floor``: where slices
    are classified (LGG), the floor of the Tumour rule chosen on validation for the sidecar.
    ``postprocess``: ``choose`` picks ``segstudy.postprocess``'s steps on validation at export
    (the sidecar keeps them), ``none`` keeps the raw output; a mapping also fixes steps
    (``segstudy.postprocess.plan``).
    ``callbacks`` run after the study's own (validation scores are in ``logs`` by then), e.g.
    a benchmark's early stop.
    """
    out_model = Path(out_model)
    data = Prepared(prepared)
    rng_range = mask_range(model_cfg["output_activation"])
    epochs, batch = int(train_cfg["epochs"]), int(train_cfg["batch_size"])
    init_fp = file_fingerprint(init_model, f"{name} starts from it, train it first")
    # keyed on the policy `auto` resolves to: a run resumed on other hardware starts afresh
    policy = resolve_precision(train_cfg["precision"])
    run = Run(dataset, name, data, [dict(model_cfg), dict(train_cfg), seed, empty_iou, init_fp,
                                    hold_steps, recall_floor, policy, postprocess],
              resume_root, live_dir)
    done = run.finished()
    if done is not None:
        return publish(run.state, out_model, done, keep_state)

    precision = configure(seed, train_cfg["precision"])
    model = build_unet_from_params(model_cfg, data.channels)
    if init_fp is not None:
        model.set_weights(keras.models.load_model(init_model, safe_mode=True).get_weights())
    loss_fn, switch = fine_tuned(train_cfg, rng_range, f"train.{dataset}")
    rate = float(train_cfg["learning_rate"])
    batches = run.batches(rng_range, batch, train_cfg, train_cfg["steps_per_epoch"], seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(train_cfg, len(batches),
                                                                hold_steps)), loss=loss_fn)
    first = first_selectable_epoch(hold_steps, len(batches))
    select_on = train_cfg.get("select_on", "iou")
    run.fit(model, batches, epochs, first,
            validation_scorer(data, "val", rng_range, loss_fn, batch, empty_iou,
                              per_patient_dice=select_on == "dice_per_patient"),
            nan_keys=("loss",), where=f"train.{dataset}",
            nan_hint=f"lower train.{dataset}.learning_rate (now {rate}) and rerun",
            callbacks=[*switch, *callbacks], monitor=f"val_{select_on}")
    own = {"loss": train_cfg["loss"],
           "init": str(init_model) if init_model is not None else "scratch"}
    if switch:
        own["finetune"] = dict(train_cfg["finetune"])
    summary = run.export(run.keep.weights, model_cfg, rng_range, train_cfg, recall_floor, seed,
                         epochs, first, precision, own, postprocess)
    return publish(run.state, out_model, summary, keep_state)
