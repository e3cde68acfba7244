"""Callbacks shared by U-Net and GAN training: validation scores, best-model keeping,
NaN guard, batch timing, dvclive logging. Order matters: scores first, then who reads them."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from segstudy.io import atomic_path, write_json
from segstudy.progress import Progress


class ValidationScores(keras.callbacks.Callback):
    """Adds ``val_<name>`` to the epoch logs, computed by ``score(model) -> dict``."""

    def __init__(self, score: Callable[[keras.Model], dict[str, float]]):
        super().__init__()
        self.score = score

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs.update({f"val_{k}": float(v) for k, v in self.score(self.model).items()})


class NaNGuard(keras.callbacks.Callback):
    """Stops training on a non-finite loss and remembers the epoch, so the caller can fail."""

    def __init__(self, keys: tuple[str, ...] = ("loss",)):
        super().__init__()
        self.keys, self.bad_epoch = keys, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for k in self.keys:
            v = (logs or {}).get(k)
            if v is not None and not math.isfinite(float(v)):
                self.bad_epoch = epoch + 1
                self.model.stop_training = True


class KeepBest(keras.callbacks.Callback):
    """Saves the weights of the best epoch by ``monitor`` (max) into ``folder``; resumable:
    the best value so far is read back from ``best.json`` at the start of training. Epochs
    before ``first_epoch`` (1-based) are not candidates."""

    def __init__(self, folder: Path, monitor: str = "val_iou", first_epoch: int = 1):
        super().__init__()
        self.folder, self.monitor, self.first_epoch = Path(folder), monitor, first_epoch
        self.weights = self.folder / "best.weights.h5"
        self.meta = self.folder / "best.json"

    def state(self) -> dict[str, Any]:
        if self.meta.is_file():
            return json.loads(self.meta.read_text())
        return {"epoch": 0, self.monitor: -math.inf}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if epoch + 1 < self.first_epoch or value is None or not math.isfinite(value):
            return
        if value <= self.state()[self.monitor]:
            return
        with atomic_path(self.weights) as tmp:
            self.model.save_weights(tmp)
        # the IoU of the kept epoch too, whatever selected it (the seeds' tables print it)
        write_json(self.meta, {"epoch": epoch + 1, self.monitor: float(value),
                               "val_iou": float(logs.get("val_iou", math.nan))})


class TrainingProgress(keras.callbacks.Callback):
    """A per-batch bar for every epoch ("train lgg/strong epoch 3/18", rate, ETA) on a
    terminal; four plain lines per epoch in a log or CI; ``SEGSTUDY_PROGRESS`` as everywhere
    (``segstudy.progress``). Keras' own line per finished epoch stays."""

    def __init__(self, desc: str, steps: int, epochs: int, stream: Any = None):
        super().__init__()
        self.desc, self.steps, self.epochs, self.stream = desc, int(steps), int(epochs), stream
        self.bar: Progress | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.bar = Progress(self.steps, f"{self.desc} epoch {epoch + 1}/{self.epochs}", "batch",
                            stream=self.stream, line_steps=4)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class BatchTimer(keras.callbacks.Callback):
    """Images per second over training batches only (not validation, not end-of-fit stalls);
    the first ``skip`` batches (graph tracing) are left out."""

    def __init__(self, batch_size: int, skip: int = 2):
        super().__init__()
        self.batch_size, self.skip = batch_size, skip
        self.seen, self.elapsed, self._t0 = 0, 0.0, 0.0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.skip > 0:
            self.skip -= 1
            return
        self.elapsed += time.perf_counter() - self._t0
        self.seen += self.batch_size

    @property
    def images_per_second(self) -> float:
        return self.seen / self.elapsed if self.elapsed else float("nan")


class LiveLogger(keras.callbacks.Callback):
    """Per-epoch metrics to dvclive (``dvc plots show`` draws them). Backend-agnostic, unlike
    ``dvclive.keras.DVCLiveCallback`` which imports TensorFlow.

    The curves' source of truth is ``history`` (a JSON list, one dict per epoch, in the run's
    resume state), written atomically each epoch *before* ``BackupAndRestore`` saves (place
    this callback before it). On resume from epoch ``start_epoch`` the dvclive folder is
    rewritten from the first ``start_epoch`` entries, so a kill at any moment (before, between
    or after the two writes) leaves curves with exactly one row per completed epoch.
    """

    def __init__(self, folder: Path, history: Path, start_epoch: int = 0):
        super().__init__()
        from dvclive import Live

        self.history_file = history
        done = json.loads(history.read_text()) if start_epoch and history.is_file() else []
        self.history: list[dict[str, float]] = done[:start_epoch]
        # resume=False clears the folder; dvcyaml=None: dvc.yaml declares the plots itself.
        self.live = Live(str(folder), resume=False, dvcyaml=None, save_dvc_exp=False)
        for row in self.history:
            self._log(row)

    def _log(self, row: dict[str, float]) -> None:
        for k, v in row.items():
            self.live.log_metric(k, v)
        self.live.next_step()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {k: float(v) for k, v in (logs or {}).items()
               if np.isscalar(v) and math.isfinite(float(v))}
        self.history.append(row)
        write_json(self.history_file, self.history)
        self._log(row)

    def on_train_end(self, logs: dict | None = None) -> None:
        self.live.end()

