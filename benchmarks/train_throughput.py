"""Training throughput of the LGG U-Net, model and input pipeline measured apart.

    KERAS_BACKEND=jax python benchmarks/train_throughput.py --prepared data/prepared/lgg

Model: ``train_on_batch`` on fixed random batches (compiled once, then ``--steps`` timed
steps; ``train_on_batch`` returns host numbers, so every step is waited for). Input: the
project's ``TrainBatches`` (augmentation + normalisation) on one thread. Prints one line per
setting; the ratio of the two says which one bounds an epoch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

MODEL = {"depth": 4, "convs_per_block": 2, "batchnorm": True, "head": "conv_bn_lrelu",
         "dropout": 0.0, "leaky_alpha": 0.01, "output_activation": "sigmoid"}
AUGMENT = {"flip": True, "rot90": False, "elastic": False, "affine": True,
           "affine_degrees": 10.0, "affine_scale": 0.05}


def model_rate(size: int, base: int, batch: int, steps: int) -> float:
    import keras

    from segstudy.models.unet import build_unet
    from segstudy.precision import resolve_precision
    from segstudy.training.losses import make_loss

    keras.mixed_precision.set_global_policy(resolve_precision("auto"))
    model = build_unet(in_channels=3, base_filters=base, **MODEL)
    model.compile(keras.optimizers.Adam(3e-4), loss=make_loss("bce_dice", (0.0, 1.0)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, size, size, 3)).astype("float32")
    y = (rng.random((batch, size, size, 1)) > 0.9).astype("float32")
    for _ in range(3):
        model.train_on_batch(x, y)
    t = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return batch * steps / (time.perf_counter() - t)


def input_rate(prepared: str, batch: int, batches: int) -> float:
    from segstudy.data.batches import TrainBatches
    from segstudy.data.prepared import Prepared

    data = Prepared(prepared)
    stream = TrainBatches(data, data.indices("train"), (0.0, 1.0), batch, AUGMENT, 0, workers=1)
    stream[0]
    t = time.perf_counter()
    for i in range(1, batches + 1):
        stream[i % len(stream)]
    return batch * batches / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepared")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--sizes", nargs="+", type=int, default=[128, 256])
    ap.add_argument("--bases", nargs="+", type=int, default=[16, 32])
    ap.add_argument("--batches", nargs="+", type=int, default=[16, 64])
    a = ap.parse_args()
    import keras

    from segstudy.precision import cpu_summary, resolve_precision

    cpu = cpu_summary()
    print(f"CPU {cpu['model']} ({cpu['cores']} cores; flags {', '.join(cpu['flags']) or 'none'}); "
          f"precision auto → {resolve_precision('auto')}")
    print("backend", keras.backend.backend(), keras.distribution.list_devices(), flush=True)
    if a.prepared:
        print(f"input pipeline, 1 thread, batch 16 at the prepared size: "
              f"{input_rate(a.prepared, 16, 20):.1f} img/s", flush=True)
    for size in a.sizes:
        for base in a.bases:
            for batch in a.batches:
                print(f"model {size}² base {base} batch {batch}: "
                      f"{model_rate(size, base, batch, a.steps):.1f} img/s", flush=True)


if __name__ == "__main__":
    main()
