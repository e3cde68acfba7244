"""Training throughput of the two papers' U-Nets at several widths and input sizes.

Times ``train_on_batch`` on random data (no input pipeline) after two warm-up batches, so the
numbers isolate the model's cost on this machine. Usage:

    python benchmarks/speed_probe.py [auto|float32|mixed_bfloat16]   (default auto)
"""

from __future__ import annotations

import platform
import sys
import time

import keras
import numpy as np

from segstudy.models.unet import build_unet
from segstudy.precision import cpu_summary, resolve_precision

# Paper B's U-Net as params.yaml builds it; paper A's differs in these three choices.
PAPER_B = {"depth": 4, "convs_per_block": 2, "batchnorm": True, "head": "conv_bn_lrelu",
           "dropout": 0.0, "leaky_alpha": 0.01, "output_activation": "sigmoid"}
PAPER_A = {"batchnorm": False, "head": "plain", "output_activation": "tanh"}
CASES = [
    ("paper-B U-Net, base 16", {"base_filters": 16}, 3, 256, 16),
    ("paper-B U-Net, base 24", {"base_filters": 24}, 3, 256, 16),
    ("paper-B U-Net, base 16", {"base_filters": 16}, 3, 128, 16),
    ("paper-B U-Net, base 32", {"base_filters": 32}, 3, 128, 16),
    ("paper-A U-Net (no BN), base 16", {"base_filters": 16, **PAPER_A}, 1, 256, 8),
]


def main(requested: str = "auto", timed_batches: int = 4) -> None:
    precision = resolve_precision(requested)
    keras.mixed_precision.set_global_policy(precision)
    cpu = cpu_summary()
    print(f"# {cpu['model']} ({platform.machine()}, {cpu['cores']} cores; flags "
          f"{', '.join(cpu['flags']) or 'none'}), keras {keras.__version__} "
          f"({keras.backend.backend()}), precision {requested} → {precision}, "
          f"{time.strftime('%Y-%m-%d')}")
    print("| model | input | params | img/s |\n|---|---|---|---|")
    rng = np.random.default_rng(0)
    for label, kw, ch, size, batch in CASES:
        model = build_unet(ch, **{**PAPER_B, **kw})
        model.compile(keras.optimizers.Adam(3e-4), "mse")
        x = rng.random((batch, size, size, ch), "float32")
        y = rng.random((batch, size, size, 1), "float32")
        for _ in range(2):
            model.train_on_batch(x, y)
        t0 = time.perf_counter()
        for _ in range(timed_batches):
            model.train_on_batch(x, y)
        rate = timed_batches * batch / (time.perf_counter() - t0)
        print(f"| {label} | {size}×{size}×{ch} | {model.count_params() / 1e6:.2f} M | {rate:.1f} |",
              flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:2])
