"""Data parallel training (JAX, 2 forced host devices) gives the losses of one device.

Each run is a fresh process: the device count is fixed when JAX starts. The study's own
``configure`` sets ``keras.distribution.DataParallel``; the same seeded U-Net is then fitted on
the same batches. Tolerance: rtol 1e-4 on every step's loss (float32; the two devices sum
their halves of the batch in another order than one device does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, TINY_UNET

CHILD = r"""
import json, sys
import numpy as np
import keras
from segstudy.models.unet import build_unet
from segstudy.training.run import configure, data_parallel_devices

configure(7, "float32")
model = build_unet(1, **{**json.loads(sys.argv[1]), "base_filters": 4})
model.compile(keras.optimizers.Adam(1e-3), "mse")
rng = np.random.default_rng(0)
x = rng.normal(size=(16, 32, 32, 1)).astype("float32")
y = (x > 0).astype("float32")
hist = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
print("RESULT", json.dumps({"devices": data_parallel_devices(),
                            "loss": hist.history["loss"]}))
"""


def _run(devices: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(ROOT / "src"),
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(TINY_UNET)], env=env,
                          capture_output=True, text=True, timeout=600)
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    return json.loads(line[0][7:])


def test_two_forced_host_devices_train_with_the_losses_of_one():
    pytest.importorskip("jax")
    one, two = _run(1), _run(2)
    assert one["devices"] == 1 and two["devices"] == 2
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
