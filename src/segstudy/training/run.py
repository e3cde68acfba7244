"""The one run skeleton every trainer uses (U-Net, its control, the GAN): seeded set-up, the
resumable state folder, the batch stream, callbacks, the post-fit checks, export and publish.

A run's state (weights + optimizer each epoch, the best weights so far, the curves' history)
lives in ``.resume/<dataset>-<name>-<key>/``, where ``key`` hashes everything that defines the
run. A run killed at any point and started again with the same inputs continues from its last
completed epoch; a change of inputs starts afresh. The folder is removed once the final model
has been published (or by the multi-seed caller, with ``keep_state``). Trainers keep only what
is theirs: building and compiling the model and scoring it on validation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from segstudy import SegstudyError
from segstudy.config import PRECISIONS
from segstudy.data.batches import TrainBatches, positive_sampled
from segstudy.data.prepared import Prepared
from segstudy.io import atomic_path, write_json
from segstudy.models.unet import build_unet_from_params
from segstudy.params import choice
from segstudy.precision import cpu_summary, resolve_precision
from segstudy.training.callbacks import (
    BatchTimer,
    KeepBest,
    LiveLogger,
    NaNGuard,
    TrainingProgress,
    ValidationScores,
)
from segstudy.training.card import model_card

log = logging.getLogger(__name__)


class WarmupHold(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate 0 for the first ``hold`` steps, then ``rate``."""

    def __init__(self, rate: float, hold: int):
        self.rate, self.hold = rate, hold

    def __call__(self, step: Any) -> Any:
        return keras.ops.where(keras.ops.cast(step, "float32") < self.hold, 0.0, self.rate)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "hold": self.hold}


def configure(seed: int, precision: str) -> str:
    """Seeds every generator Keras uses and sets the dtype policy for layers built next;
    ``precision`` may be ``auto`` (``segstudy.precision``). Returns the policy set."""
    keras.utils.set_random_seed(seed)
    policy = resolve_precision(choice(precision, PRECISIONS, "precision"))
    keras.mixed_precision.set_global_policy(policy)
    devices = data_parallel()
    if devices > 1:
        log.info("data parallel over %d devices", devices)
    return policy


def data_parallel() -> int:
    """Split every batch over all local devices with ``keras.distribution.DataParallel`` when
    there are several (GPUs; or CPU devices forced with XLA_FLAGS=
    --xla_force_host_platform_device_count=N); returns how many. JAX only: Keras'
    distribution API is JAX's; TensorFlow and a single device train as before (returns 1).
    Each device gets ``batch_size / devices`` samples, so the batch must divide evenly."""
    if keras.backend.backend() != "jax":
        return 1
    devices = keras.distribution.list_devices()
    if len(devices) < 2:
        return 1
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return len(devices)


def data_parallel_devices() -> int:
    """Devices the current ``keras.distribution`` splits a batch over (1 when none is set)."""
    dist = keras.distribution.distribution() if keras.backend.backend() == "jax" else None
    mesh = getattr(dist, "device_mesh", None)
    return int(np.prod(mesh.shape)) if mesh is not None else 1


def run_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def data_fingerprint(data: Prepared) -> str:
    split = (data.folder / "split.csv").read_bytes()
    parts = [hashlib.sha256(split).hexdigest(), data.norm, data.images.shape]
    if data.weights is not None:  # only where weighted: older runs' keys stay as they were
        parts.append(hashlib.sha256(np.ascontiguousarray(data.weights)).hexdigest())
    return run_key(*parts)


def file_fingerprint(path: str | Path | None, why: str) -> str | None:
    """sha256 of a model a run starts from (part of its key); ``None`` for a random start."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise SegstudyError(f"{path}: missing; {why}")
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def done_epochs(backup: Path) -> int:
    meta = backup / "training_metadata.json"
    return int(json.loads(meta.read_text())["epoch"]) if meta.is_file() else 0


def first_selectable_epoch(hold_steps: int, steps_per_epoch: int) -> int:
    """The first epoch (1-based) in which the model was updated at least once after a hold of
    ``hold_steps`` steps with learning rate 0: model selection starts there, so a run cannot
    "win" by returning the weights it started from."""
    return hold_steps // max(1, steps_per_epoch) + 1


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


def publish(state: Path, out_model: Path, summary: dict[str, Any], keep_state: bool,
            extra_suffixes: Sequence[str] = ()) -> dict[str, Any]:
    """Copy a finished run's model (and ``final<suffix>`` files) beside ``out_model``
    atomically, with its summary as the sidecar; return the summary."""
    for suffix in extra_suffixes:
        with atomic_path(out_model.with_suffix(suffix)) as tmp:
            shutil.copyfile(state / f"final{suffix}", tmp)
    with atomic_path(out_model) as tmp:
        shutil.copyfile(state / "final.keras", tmp)
    write_json(out_model.with_suffix(".json"), summary)
    if keep_state:
        return {**summary, "_state": str(state)}  # for the caller's clean-up, not persisted
    shutil.rmtree(state, ignore_errors=True)
    return summary


class Run:
    """One training run of ``name`` on ``dataset``, identified by ``key_parts``."""

    def __init__(self, dataset: str, name: str, data: Prepared, key_parts: Sequence[Any],
                 resume_root: str | Path, live_dir: str | Path):
        self.t_start = time.time()
        self.dataset, self.name, self.data = dataset, name, data
        key = run_key(dataset, name, data_fingerprint(data), *key_parts)
        self.state = Path(resume_root) / f"{dataset}-{name}-{key}"
        self.backup = self.state / "backup"
        self.live_dir = Path(live_dir)
        self.start_epoch = done_epochs(self.backup)
        self.timer: BatchTimer | None = None
        self.keep: KeepBest | None = None

    def finished(self) -> dict[str, Any] | None:
        """The summary of an earlier, completed run with the same key, if there is one."""
        summary = self.state / "final.json"
        if summary.is_file() and (self.state / "final.keras").is_file():
            return json.loads(summary.read_text())
        return None

    def batches(self, rng_range: tuple[float, float], batch_size: int,
                train_cfg: Mapping[str, Any], steps: int | None, seed: int) -> TrainBatches:
        """The training stream: the same ``seed``, batch size and steps give the same batches,
        whoever trains on them (the GAN and its control do)."""
        devices = data_parallel_devices()
        if batch_size % devices:
            raise SegstudyError(f"batch_size {batch_size} does not split over {devices} devices "
                                f"(data parallel); choose a multiple of {devices}")
        train = self.data.indices("train")
        if train_cfg.get("positive_share"):
            masks = np.asarray(self.data.masks)
            positive = masks.reshape(len(masks), -1).max(axis=1) > 0
            train = positive_sampled(train, positive, float(train_cfg["positive_share"]))
        return TrainBatches(self.data, train, rng_range, batch_size,
                            train_cfg["augment"], seed, steps=steps, tile=train_cfg["tile"],
                            first_epoch=self.start_epoch)

    def fit(self, model: keras.Model, batches: TrainBatches, epochs: int, first_epoch: int,
            score: Callable[[keras.Model], dict[str, float]], nan_keys: tuple[str, ...],
            where: str, nan_hint: str, callbacks: Sequence[keras.callbacks.Callback] = (),
            monitor: str = "val_iou") -> None:
        """``fit`` from the last completed epoch with the study's callbacks (validation scores,
        NaN guard, keep-best from ``first_epoch``, curves, backup), then the checks; errors
        name ``where`` (the params section) and, for a NaN, give ``nan_hint``."""
        if first_epoch > epochs:
            raise SegstudyError(f"{where}: no epoch of {epochs} has an update after the "
                                "learning-rate hold; lower the hold or raise the epochs")
        self.timer, guard = BatchTimer(batches.batch_size), NaNGuard(nan_keys)
        self.keep = KeepBest(self.state, monitor=monitor, first_epoch=first_epoch)
        if self.start_epoch:
            log.info("resuming %s %s from epoch %d (%s)", self.dataset, self.name,
                     self.start_epoch, self.state)
        if self.start_epoch < epochs:
            model.fit(batches, epochs=epochs, verbose=2, callbacks=[
                TrainingProgress(f"train {self.dataset}/{self.name}", len(batches), epochs),
                self.timer, ValidationScores(score), guard, self.keep,
                LiveLogger(self.live_dir, self.state / "curves.json", self.start_epoch),
                keras.callbacks.BackupAndRestore(str(self.backup), double_checkpoint=True),
                *callbacks])
        if guard.bad_epoch is not None:
            raise SegstudyError(f"{where}: loss became NaN/inf at epoch {guard.bad_epoch}; "
                                f"{nan_hint}")
        if not self.keep.weights.is_file():
            raise SegstudyError(f"{where}: no epoch produced a finite validation {monitor}")

    def export(self, weights: Path, model_cfg: Mapping[str, Any], rng_range: tuple[float, float],
               train_cfg: Mapping[str, Any], recall_floor: float | None, seed: int, epochs: int,
               first_epoch: int, precision: str, own: Mapping[str, Any],
               postprocess: str | Mapping[str, Any] = "none") -> dict[str, Any]:
        """Write ``final.keras`` from ``weights`` and ``final.json``: the fields every model's
        sidecar has (``segstudy.inference``), the trainer's ``own`` fields, timing."""
        data = self.data
        model = export_generator(weights, model_cfg, data.channels, self.state / "final.keras")
        best = self.keep.state() if self.keep else {"epoch": None, "val_iou": None}
        selected_on = self.keep.monitor if self.keep else "val_iou"
        summary = {
            "dataset": self.dataset, "model": self.name, "seed": seed, **own,
            "norm": data.norm, "mask_range": list(rng_range), "in_channels": data.channels,
            **model_card(model, data, rng_range, train_cfg["tile"], recall_floor, postprocess,
                         self.dataset),
            "depth": int(model_cfg["depth"]), "params": int(model.count_params()),
            "epochs": epochs, "first_selectable_epoch": first_epoch,
            "best_epoch": best["epoch"], "best_val_iou": best.get("val_iou"),
            "selected_on": selected_on, "best_val_score": best.get(selected_on),
            "resumed_from_epoch": self.start_epoch,
            "train_images_per_second": round(self.timer.images_per_second, 3)
            if self.timer else None,
            "wall_seconds_this_run": round(time.time() - self.t_start, 1),
            "precision": precision, "precision_requested": train_cfg.get("precision"),
            "cpu": cpu_summary(), "keras": keras.__version__,
            "backend": keras.backend.backend(),
        }
        write_json(self.state / "final.json", summary)
        return summary
