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

from segstudy import SegstudyError
from segstudy.data.prepared import Prepared, to_mask_scale
from segstudy.inference import predict_masks
from segstudy.metrics import iou
from segstudy.models.unet import build_unet_from_params, mask_range
from segstudy.precision import resolve_precision
from segstudy.training.losses import make_loss
from segstudy.training.run import (
    Run,
    WarmupHold,
    configure,
    file_fingerprint,
    first_selectable_epoch,
    publish,
)


def validation_scorer(data: Prepared, split: str, rng_range: tuple[float, float], loss_fn: Any,
                      batch_size: int, empty_iou: float) -> Any:
    idx = data.indices(split)
    if len(idx) == 0:
        raise SegstudyError(f"{data.folder}: the {split} split is empty")
    images = np.asarray(data.images[idx])
    targets = to_mask_scale(np.asarray(data.masks[idx]), rng_range)

    def score(model: keras.Model) -> dict[str, float]:
        pred = predict_masks(model, images, data.norm, batch_size)
        loss = keras.ops.convert_to_numpy(loss_fn(targets, pred[..., None]))
        return {"iou": float(np.mean(iou(pred, targets[..., 0], rng_range, empty=empty_iou))),
                "loss": float(np.mean(loss))}

    return score


def train_unet(dataset: str, prepared: str | Path, model_cfg: Mapping[str, Any],
               train_cfg: Mapping[str, Any], seed: int, out_model: str | Path,
               live_dir: str | Path, empty_iou: float,
               resume_root: str | Path = ".resume", *, name: str = "unet",
               init_model: str | Path | None = None, hold_steps: int = 0,
               keep_state: bool = False, recall_floor: float | None = None,
               callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict[str, Any]:
    """Train and write ``out_model`` (``.keras``) + its ``.json`` sidecar; return the summary.

    ``init_model`` starts from a trained model's weights instead of random ones (a fine-tune);
    ``hold_steps`` keeps the learning rate at 0 for that many steps, the GAN's warm-up, so a
    control run can match the GAN's updates one for one. With ``keep_state`` the finished run's
    state stays in ``resume_root`` (a multi-seed stage removes it once every seed is done, so
    a killed stage does not retrain the seeds it had finished). ``recall_floor``: where slices
    are classified (LGG), the floor of the Tumour rule chosen on validation for the sidecar.
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
                                    hold_steps, recall_floor, policy], resume_root, live_dir)
    done = run.finished()
    if done is not None:
        return publish(run.state, out_model, done, keep_state)

    precision = configure(seed, train_cfg["precision"])
    model = build_unet_from_params(model_cfg, data.channels)
    if init_fp is not None:
        model.set_weights(keras.models.load_model(init_model, safe_mode=True).get_weights())
    loss_fn = make_loss(train_cfg["loss"], rng_range)
    rate = float(train_cfg["learning_rate"])
    model.compile(optimizer=keras.optimizers.Adam(WarmupHold(rate, hold_steps) if hold_steps
                                                  else rate), loss=loss_fn)
    batches = run.batches(rng_range, batch, train_cfg, train_cfg["steps_per_epoch"], seed)
    first = first_selectable_epoch(hold_steps, len(batches))
    run.fit(model, batches, epochs, first,
            validation_scorer(data, "val", rng_range, loss_fn, batch, empty_iou),
            nan_keys=("loss",), where=f"train.{dataset}",
            nan_hint=f"lower train.{dataset}.learning_rate (now {rate}) and rerun",
            callbacks=callbacks)
    own = {"loss": train_cfg["loss"],
           "init": str(init_model) if init_model is not None else "scratch"}
    summary = run.export(run.keep.weights, model_cfg, rng_range, train_cfg, recall_floor, seed,
                         epochs, first, precision, own)
    return publish(run.state, out_model, summary, keep_state)
