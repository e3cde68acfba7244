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


def gan_scorer(data: Prepared, metric: str, power: float, rng_range: tuple[float, float],
               sup_loss: Any, batch: int, empty_iou: float) -> Any:
    """Validation IoU and loss of G, and D's mean absolute error on G's outputs."""
    val_idx = data.indices("val")
    val_x = np.asarray(data.images[val_idx])
    val_y = to_mask_scale(np.asarray(data.masks[val_idx]), rng_range)[..., 0]
    val_inputs = normalise(val_x, data.norm)

    def scores(model: keras.Model) -> dict[str, float]:
        pred = predict_masks(model.generator, val_x, data.norm, batch)  # once per epoch
        judged = np.concatenate([
            ops.convert_to_numpy(model.judge(pred[i : i + batch, ..., None],
                                             ops.convert_to_tensor(val_inputs[i : i + batch])))
            for i in range(0, len(pred), batch)])
        truth = quality(metric, pred, val_y, rng_range, power, empty=empty_iou)
        loss = keras.ops.convert_to_numpy(sup_loss(val_y[..., None], pred[..., None]))
        return {"iou": float(np.mean(iou(pred, val_y, rng_range, empty=empty_iou))),
                "loss": float(np.mean(loss)),
                "d_error": float(np.mean(np.abs(judged - truth)))}

    return scores


def train_gan(dataset: str, prepared: str | Path, model_cfg: Mapping[str, Any],
              train_cfg: Mapping[str, Any], gan_cfg: Mapping[str, Any], seed: int,
              out_model: str | Path, live_dir: str | Path, empty_iou: float,
              resume_root: str | Path = layout.RESUME, *, init_model: str | Path | None = None,
              keep_state: bool = False, recall_floor: float | None = None) -> dict[str, Any]:
    """Train the GAN; write ``out_model`` (the generator, ``.keras``), its ``.json`` sidecar
    and ``<stem>.discriminator.keras`` beside it; return the summary. ``keep_state`` and
    ``recall_floor`` as in ``segstudy.training.fit.train_unet``."""
    metric = check_metric(gan_cfg["metric"])
    power = gan_cfg["metric_power"][metric]
    init = gan_cfg["init"]
    out_model = Path(out_model)
    data = Prepared(prepared)
    rng_range = mask_range(model_cfg["output_activation"])
    init_fp = (file_fingerprint(init_model, "gan.init=unet needs train_unet first")
               if init == "unet" else None)
    run = Run(dataset, f"gan-{metric}", data,
              [dict(model_cfg), dict(gan_cfg), train_cfg["augment"], train_cfg["tile"], seed,
               empty_iou, init_fp, recall_floor, resolve_precision(gan_cfg["precision"])],
              resume_root, live_dir)
    discriminator_file = (layout.DISCRIMINATOR,)
    done = run.finished()
    if done is not None:
        return publish(run.state, out_model, done, keep_state, discriminator_file)
    epochs, batch = int(gan_cfg["epochs"]), int(gan_cfg["batch_size"])
    hold = int(gan_cfg["d_warmup_steps"])

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
                    perturb_max=float(gan_cfg["perturb_max"]), seed=seed)
    gan.build()
    gan.compile(keras.optimizers.Adam(WarmupHold(float(gan_cfg["g_learning_rate"]), hold)),
                keras.optimizers.Adam(float(gan_cfg["d_learning_rate"])))
    batches = run.batches(rng_range, batch, train_cfg, gan_cfg["steps_per_epoch"], seed)
    first = first_selectable_epoch(hold, len(batches))
    run.fit(gan, batches, epochs, first,
            gan_scorer(data, metric, float(power), rng_range, sup_loss, batch, empty_iou),
            nan_keys=("g_loss", "d_loss"), where="gan",
            nan_hint="lower gan.g_learning_rate / gan.d_learning_rate and rerun")

    d_errors = _logged(run.live_dir, "val_d_error")
    best_epoch = run.keep.state()["epoch"]
    gan.load_weights(run.keep.weights)
    with atomic_path(run.state / f"final{layout.DISCRIMINATOR}") as tmp:
        gan.discriminator.save(tmp)
    generator_weights = run.state / "generator.weights.h5"
    gan.generator.save_weights(generator_weights)
    own = {"metric": metric, "metric_power": power, "init": init,
           "supervised_weight": float(gan_cfg["supervised_weight"]),
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
