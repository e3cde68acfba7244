"""Train a U-Net on a prepared data set: seeded, streamed, resumable, best-on-validation.

A run's state (weights + optimizer each epoch, the best weights so far, dvclive's step) lives in
``.resume/<dataset>-<name>-<key>/``, where ``key`` hashes everything that defines the run
(params, data fingerprint). A run killed at any point and started again with the same params
continues from its last completed epoch; a change of params starts afresh. The folder is
removed once the final model has been written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from segstudy import SegstudyError
from segstudy.config import PRECISIONS
from segstudy.data.pipeline import Prepared, TrainBatches, predict_masks, to_mask_scale
from segstudy.io import atomic_path, write_json
from segstudy.metrics import iou
from segstudy.models.unet import build_unet_from_params, mask_range
from segstudy.params import choice
from segstudy.training.callbacks import (
    BatchTimer,
    KeepBest,
    LiveLogger,
    NaNGuard,
    ValidationScores,
)
from segstudy.training.card import model_card
from segstudy.training.losses import make_loss

log = logging.getLogger(__name__)


class WarmupHold(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate 0 for the first ``hold`` steps, then ``rate``."""

    def __init__(self, rate: float, hold: int):
        self.rate, self.hold = rate, hold

    def __call__(self, step: Any) -> Any:
        return keras.ops.where(keras.ops.cast(step, "float32") < self.hold, 0.0, self.rate)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "hold": self.hold}


def configure(seed: int, precision: str) -> None:
    """Seeds every generator Keras uses and sets the dtype policy for layers built next."""
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_global_policy(choice(precision, PRECISIONS, "train.precision"))


def run_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def data_fingerprint(data: Prepared) -> str:
    split = (data.folder / "split.csv").read_bytes()
    return run_key(hashlib.sha256(split).hexdigest(), data.norm, data.images.shape)


def done_epochs(backup: Path) -> int:
    meta = backup / "training_metadata.json"
    return int(json.loads(meta.read_text())["epoch"]) if meta.is_file() else 0


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


def export_generator(weights: Path, model_cfg: Mapping[str, Any], in_channels: int,
                     out: Path) -> keras.Model:
    """Rebuild the U-Net in float32 with the given weights and save it without compile state,
    so ``keras.models.load_model`` needs nothing from this package (safe mode works)."""
    keras.mixed_precision.set_global_policy("float32")
    model = build_unet_from_params(model_cfg, in_channels)
    model.load_weights(weights)
    with atomic_path(out) as tmp:
        model.save(tmp)
    return model


def first_selectable_epoch(hold_steps: int, steps_per_epoch: int) -> int:
    """The first epoch (1-based) in which the model was updated at least once after a hold of
    ``hold_steps`` steps with learning rate 0: model selection starts there, so a run cannot
    "win" by returning the weights it started from."""
    return hold_steps // max(1, steps_per_epoch) + 1


def train_unet(dataset: str, prepared: str | Path, model_cfg: Mapping[str, Any],
               train_cfg: Mapping[str, Any], seed: int, out_model: str | Path,
               live_dir: str | Path, empty_iou: float = 1.0,
               resume_root: str | Path = ".resume", *, name: str = "unet",
               init_model: str | Path | None = None, hold_steps: int = 0,
               keep_state: bool = False, recall_floor: float | None = None,
               callbacks: Sequence[keras.callbacks.Callback] = ()) -> dict[str, Any]:
    """Train and write ``out_model`` (``.keras``) + its ``.json`` sidecar; return the summary.

    ``init_model`` starts from a trained model's weights instead of random ones (a fine-tune);
    ``hold_steps`` keeps the learning rate at 0 for that many steps, the GAN's warm-up, so a
    control run can match the GAN's updates one for one. With ``keep_state`` the finished run's
    state stays in ``resume_root`` (a multi-seed stage removes it once every seed is done, so
    a killed stage does not retrain the seeds it had finished). ``callbacks`` run after the
    study's own (validation scores are in ``logs`` by then), e.g. a benchmark's early stop.
    ``recall_floor``: where slices are classified (LGG), the floor of the Tumour rule chosen on
    validation for the sidecar (``segstudy.training.card``).
    """
    t_start = time.time()
    out_model = Path(out_model)
    data = Prepared(prepared)
    rng_range = mask_range(model_cfg["output_activation"])
    epochs = int(train_cfg["epochs"])
    batch = int(train_cfg["batch_size"])
    init_fp = None
    if init_model is not None:
        init_model = Path(init_model)
        if not init_model.is_file():
            raise SegstudyError(f"{init_model}: missing; {name} starts from it, train it first")
        init_fp = hashlib.sha256(init_model.read_bytes()).hexdigest()
    key = run_key(dataset, name, dict(model_cfg), dict(train_cfg), seed, empty_iou,
                  data_fingerprint(data), init_fp, hold_steps, recall_floor)
    state = Path(resume_root) / f"{dataset}-{name}-{key}"
    finished = state / "final.json"
    if finished.is_file() and (state / "final.keras").is_file():
        log.info("%s seed %d finished earlier (%s): reusing it", name, seed, state)
        return publish(state, out_model, json.loads(finished.read_text()), keep_state)
    backup = state / "backup"
    start_epoch = done_epochs(backup)
    if start_epoch:
        log.info("resuming %s from epoch %d (%s)", dataset, start_epoch, state)

    configure(seed, train_cfg.get("precision", "float32"))
    model = build_unet_from_params(model_cfg, data.channels)
    if init_fp is not None:
        model.set_weights(keras.models.load_model(init_model, safe_mode=True).get_weights())
    loss_fn = make_loss(train_cfg["loss"], rng_range)
    rate = float(train_cfg["learning_rate"])
    model.compile(optimizer=keras.optimizers.Adam(WarmupHold(rate, hold_steps) if hold_steps
                                                  else rate), loss=loss_fn)

    batches = TrainBatches(
        data, data.indices("train"), rng_range, batch, train_cfg.get("augment", {}), seed,
        steps=train_cfg.get("steps_per_epoch"), tile=train_cfg.get("tile"),
        first_epoch=start_epoch,
    )
    first = first_selectable_epoch(hold_steps, len(batches))
    if first > epochs:
        raise SegstudyError(f"{name}: {hold_steps} hold steps leave no epoch of {epochs} with an "
                            "update; lower the hold or raise the epochs")
    timer, guard = BatchTimer(batch), NaNGuard()
    keep = KeepBest(state, first_epoch=first)
    all_callbacks = [
        timer,
        ValidationScores(validation_scorer(data, "val", rng_range, loss_fn, batch, empty_iou)),
        guard,
        keep,
        LiveLogger(Path(live_dir), state / "curves.json", start_epoch),  # before the backup
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
        *callbacks,
    ]
    if start_epoch < epochs:
        model.fit(batches, epochs=epochs, callbacks=all_callbacks, verbose=2)
    if guard.bad_epoch is not None:
        raise SegstudyError(
            f"train.{dataset}: loss became NaN/inf at epoch {guard.bad_epoch}; lower "
            f"train.{dataset}.learning_rate (now {train_cfg['learning_rate']}) and rerun"
        )
    if not keep.weights.is_file():
        raise SegstudyError(f"train.{dataset}: no epoch produced a finite validation IoU")

    exported = export_generator(keep.weights, model_cfg, data.channels, state / "final.keras")
    best = keep.state()
    summary = {
        "dataset": dataset,
        "model": name,
        "seed": seed,
        "loss": train_cfg["loss"],
        "init": str(init_model) if init_model is not None else "scratch",
        "norm": data.norm,
        "mask_range": list(rng_range),
        "in_channels": data.channels,
        **model_card(exported, data, rng_range, train_cfg.get("tile"), recall_floor),
        "depth": int(model_cfg["depth"]),
        "params": int(model.count_params()),
        "epochs": epochs,
        "first_selectable_epoch": first,
        "best_epoch": best["epoch"],
        "best_val_iou": best["val_iou"],
        "resumed_from_epoch": start_epoch,
        "train_images_per_second": round(timer.images_per_second, 3),
        "wall_seconds_this_run": round(time.time() - t_start, 1),
        "precision": train_cfg.get("precision", "float32"),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    write_json(finished, summary)
    return publish(state, out_model, summary, keep_state)


def publish(state: Path, out_model: Path, summary: dict[str, Any],
            keep_state: bool) -> dict[str, Any]:
    """Copy a finished run's model to ``out_model`` (atomically) and its summary beside it."""
    with atomic_path(out_model) as tmp:
        shutil.copyfile(state / "final.keras", tmp)
    write_json(out_model.with_suffix(".json"), summary)
    if keep_state:
        return {**summary, "_state": str(state)}  # for the caller's clean-up, not persisted
    shutil.rmtree(state, ignore_errors=True)
    return summary
