"""Train study A's GAN (``segstudy.training.metric_gan.MetricGAN``) on the shared run skeleton
(``segstudy.training.run``): what is the GAN's own here is building G and D, compiling their
two optimizers, and the validation score that also measures D's error on G's outputs.

The generator kept is the best on validation IoU among the epochs in which G was updated
(after D's warm-up), so a GAN that only degrades its start shows as worse, not as equal. Its
batch stream is the control's: same seed, batch size and steps (``Run.batches``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from segstudy import layout
from segstudy.data.prepared import Prepared, normalise, to_mask_scale
from segstudy.inference import predict_masks
from segstudy.io import atomic_path, read_live_series
from segstudy.metrics import iou, quality
from segstudy.models.discriminator import build_discriminator
from segstudy.models.unet import build_unet_from_params, mask_range
from segstudy.precision import resolve_precision
from segstudy.training.losses import make_loss
from segstudy.training.metric_gan import MetricGAN, check_metric
from segstudy.training.run import (
    Run,
    WarmupHold,
    configure,
    file_fingerprint,
    first_selectable_epoch,
    publish,
)

__all__ = ["MetricGAN", "check_metric", "train_gan"]


class GanScorer:
    """Per epoch on the val split: G's IoU, supervised loss and mean true quality (the
    target's, ``quality``); D's mean absolute error on G's
    outputs (``d_error``), the spread (sd) of those outputs' true quality (``quality_sd``: D
    must err less than this to rank G's outputs) and the correlation of D's verdicts with the
    truth (``d_corr``). Each epoch's (verdict, truth) pairs are kept in ``pairs_dir``."""

    def __init__(self, data: Prepared, metric: str, power: float,
                 rng_range: tuple[float, float], sup_loss: Any, batch: int, empty_iou: float,
                 pairs_dir: Path, done_epochs: int):
        val_idx = data.indices("val")
        self.val_x = np.asarray(data.images[val_idx])
        self.val_y = to_mask_scale(np.asarray(data.masks[val_idx]), rng_range)[..., 0]
        self.val_inputs = normalise(self.val_x, data.norm)
        self.data, self.metric, self.power, self.rng = data, metric, power, rng_range
        self.sup_loss, self.batch, self.empty = sup_loss, batch, empty_iou
        self.pairs_dir, self.epoch = pairs_dir, done_epochs

    def __call__(self, model: keras.Model) -> dict[str, float]:
        self.epoch += 1
        b = self.batch
        pred = predict_masks(model.generator, self.val_x, self.data.norm, b)  # once per epoch
        judged = np.concatenate([
            ops.convert_to_numpy(model.judge(pred[i : i + b, ..., None],
                                             ops.convert_to_tensor(self.val_inputs[i : i + b])))
            for i in range(0, len(pred), b)])
        truth = np.asarray(quality(self.metric, pred, self.val_y, self.rng, self.power,
                                   empty=self.empty), np.float64)
        loss = keras.ops.convert_to_numpy(self.sup_loss(self.val_y[..., None], pred[..., None]))
        self.pairs_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.pairs_dir / f"epoch{self.epoch}.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, judged=judged, truth=truth)
        corr = (float(np.corrcoef(judged, truth)[0, 1])
                if len(truth) > 1 and np.std(judged) > 0 and np.std(truth) > 0 else 0.0)
        return {"iou": float(np.mean(iou(pred, self.val_y, self.rng, empty=self.empty))),
                "loss": float(np.mean(loss)), "quality": float(np.mean(truth)),
                "d_error": float(np.mean(np.abs(judged - truth))),
                "quality_sd": float(np.std(truth)), "d_corr": corr}


def d_vs_truth(pairs_dir: Path, start: int, kept: int, out: Path) -> None:
    """One file with D's verdicts and the true quality on val at the ``start`` epoch (the last
    of D's warm-up, G not yet moved; epoch 1 without a warm-up) and at the kept epoch
    (``segstudy.report`` draws them)."""
    parts = {}
    for tag, epoch in (("first", start), ("kept", kept)):
        with np.load(pairs_dir / f"epoch{epoch}.npz") as f:
            parts.update({f"judged_{tag}": f["judged"], f"truth_{tag}": f["truth"]})
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, epochs=np.array([start, kept]), **parts)


def train_gan(dataset: str, prepared: str | Path, model_cfg: Mapping[str, Any],
              train_cfg: Mapping[str, Any], gan_cfg: Mapping[str, Any], seed: int,
              out_model: str | Path, live_dir: str | Path, empty_iou: float,
              resume_root: str | Path = layout.RESUME, *, init_model: str | Path | None = None,
              keep_state: bool = False, recall_floor: float | None = None,
              name: str | None = None) -> dict[str, Any]:
    """Train the GAN; write ``out_model`` (the generator, ``.keras``), its ``.json`` sidecar
    and ``<stem>.discriminator.keras`` beside it; return the summary. ``keep_state`` and
    ``recall_floor`` as in ``segstudy.training.fit.train_unet``; ``name``: the run's name
    (default ``gan-<metric>``)."""
    metric = check_metric(gan_cfg["metric"])
    power = gan_cfg["metric_power"][metric]
    init = gan_cfg["init"]
    out_model = Path(out_model)
    data = Prepared(prepared)
    rng_range = mask_range(model_cfg["output_activation"])
    init_fp = (file_fingerprint(init_model, "gan.init=unet needs train_unet first")
               if init == "unet" else None)
    run = Run(dataset, name or f"gan-{metric}", data,
              [dict(model_cfg), dict(gan_cfg), train_cfg["augment"], train_cfg["tile"], seed,
               empty_iou, init_fp, recall_floor, resolve_precision(gan_cfg["precision"])],
              resume_root, live_dir)
    discriminator_file = (layout.DISCRIMINATOR, layout.D_VS_TRUTH)
    done = run.finished()
    if done is not None:
        return publish(run.state, out_model, done, keep_state, discriminator_file)
    epochs, batch = int(gan_cfg["epochs"]), int(gan_cfg["batch_size"])
    hold = int(gan_cfg["d_warmup_steps"])
    replay = gan_cfg["replay"]

    precision = configure(seed, gan_cfg["precision"])
    generator = build_unet_from_params(model_cfg, data.channels, name="generator")
    if init_fp is not None:
        generator.set_weights(keras.models.load_model(init_model, safe_mode=True).get_weights())
    discriminator = build_discriminator(1 + data.channels, **gan_cfg["discriminator"])
    sup_loss = make_loss(gan_cfg["supervised_loss"], rng_range)
    gan = MetricGAN(generator, discriminator, metric, rng_range, power=float(power),
                    supervised_loss=sup_loss,
                    supervised_weight=float(gan_cfg["supervised_weight"]),
                    d_steps=int(gan_cfg["d_steps"]), empty_iou=empty_iou,
                    perturb_max=float(gan_cfg["perturb_max"]), seed=seed,
                    replay_fraction=float(replay["fraction"]),
                    replay_capacity=int(replay["capacity"]), replay_batch=int(replay["batch"]))
    side = int(train_cfg["tile"] or data.images.shape[1])
    gan.build_replay((side, side, 1), (side, side, data.channels), batch)
    gan.build()
    gan.compile(keras.optimizers.Adam(WarmupHold(float(gan_cfg["g_learning_rate"]), hold)),
                keras.optimizers.Adam(float(gan_cfg["d_learning_rate"])))
    batches = run.batches(rng_range, batch, train_cfg, gan_cfg["steps_per_epoch"], seed)
    first = first_selectable_epoch(hold, len(batches))
    pairs = run.state / "d_vs_truth"
    run.fit(gan, batches, epochs, first,
            GanScorer(data, metric, float(power), rng_range, sup_loss, batch, empty_iou, pairs,
                      run.start_epoch),
            nan_keys=("g_loss", "d_loss"), where="gan",
            nan_hint="lower gan.g_learning_rate / gan.d_learning_rate and rerun",
            monitor="val_iou" if gan_cfg["select_on"] == "iou" else "val_quality")

    d_errors = _logged(run.live_dir, "val_d_error")
    best_epoch = run.keep.state()["epoch"]
    d_vs_truth(pairs, max(1, first - 1), best_epoch, run.state / f"final{layout.D_VS_TRUTH}")
    gan.load_weights(run.keep.weights)
    with atomic_path(run.state / f"final{layout.DISCRIMINATOR}") as tmp:
        gan.discriminator.save(tmp)
    generator_weights = run.state / "generator.weights.h5"
    gan.generator.save_weights(generator_weights)
    own = {"metric": metric, "metric_power": power, "init": init,
           "supervised_weight": float(gan_cfg["supervised_weight"]),
           "d_steps": int(gan_cfg["d_steps"]), "replay": dict(replay),
           "spectral_norm": bool(gan_cfg["discriminator"].get("spectral_norm", False)),
           "discriminator_params": int(discriminator.count_params()),
           "final_val_d_error": d_errors[-1] if d_errors else None,
           "best_epoch_val_d_error": (d_errors[best_epoch - 1]
                                      if len(d_errors) >= best_epoch else None)}
    summary = run.export(generator_weights, model_cfg, rng_range, train_cfg, recall_floor, seed,
                         epochs, first, precision, own)
    return publish(run.state, out_model, summary, keep_state, discriminator_file)


def _logged(live_dir: Path, name: str) -> list[float]:
    """One metric's per-epoch values from the run's dvclive curve (complete after a resume)."""
    return read_live_series(live_dir, name)[1]
