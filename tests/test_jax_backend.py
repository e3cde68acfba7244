"""The training code runs on Keras' JAX backend on a machine without TensorFlow (a lent GPU
machine has JAX and PyTorch only): U-Net, GAN (both optimizers' state threaded through JAX's
pure train step), losses, metrics and the input pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("jax")
pytestmark = pytest.mark.slow  # JAX compiles every shape: ~12 min on 2 cores

# Runs in a child: the backend is fixed at Keras' import, and this process already has TF's.
CHILD = r"""
import json, sys
sys.modules["tensorflow"] = None  # as on the GPU machine: importing TensorFlow fails
from pathlib import Path
import keras, numpy as np
from segstudy.models.discriminator import build_discriminator
from segstudy.models.unet import build_unet
from segstudy.training.fit import train_unet
from segstudy.training.gan import MetricGAN, train_gan

a = json.loads(sys.argv[1])
tmp = Path(a["tmp"])
import jax
out = {"backend": keras.backend.backend(), "platforms": sorted({d.platform for d in jax.devices()})}

# GAN steps with G frozen: D alone learns, so its error on G's masks must fall; G unchanged.
keras.utils.set_random_seed(0)
g = build_unet(1, base_filters=4, depth=2, convs_per_block=2, batchnorm=True, head="plain",
               dropout=0.0, leaky_alpha=0.01, output_activation="tanh", name="g")
d = build_discriminator(2, base_filters=4, depth=2, convs_per_block=1, batchnorm=False,
                        extra_convs=2, dense_units=8, leaky_alpha=0.2)
gan = MetricGAN(g, d, "iou", (-1.0, 1.0), power=2.0, seed=0)
gan.build()
gan.compile(keras.optimizers.Adam(0.0), keras.optimizers.Adam(3e-3))
rng = np.random.default_rng(0)
x = rng.normal(size=(8, 16, 16, 1)).astype("float32")
y = np.where(x > 0, 1.0, -1.0).astype("float32")

def d_error():
    fake = gan.generator(x)
    return float(np.mean(np.abs(keras.ops.convert_to_numpy(gan.judge(fake, x))
                                - keras.ops.convert_to_numpy(gan.true_quality(fake, y)))))

kernels = [w.copy() for w in g.get_weights() if w.ndim > 1]
out["d_error_before"] = d_error()
gan.fit(x, y, batch_size=4, epochs=15, verbose=0)
out["d_error_after"] = d_error()
out["g_kernels_unchanged"] = all(np.array_equal(k, w) for k, w in
                                 zip(kernels, [w for w in g.get_weights() if w.ndim > 1]))

# The study's own train_unet and train_gan, bf16 as in params.yaml, on the tiny LGG set.
model, train = a["model"], {**a["train"], "epochs": 2, "steps_per_epoch": 3,
                            "precision": "mixed_bfloat16"}
unet = train_unet("lgg", a["prep"], model, train, seed=3, out_model=tmp / "unet.keras",
                  live_dir=tmp / "live", resume_root=tmp / "resume", empty_iou=1.0)
gan_cfg = {"metric": "iou", "metric_power": {"iou": 2}, "init": "unet", "d_steps": 1,
           "d_warmup_steps": 2, "perturb_max": 0.5, "precision": "mixed_bfloat16",
           "replay": {"fraction": 0.5, "capacity": 8, "batch": 2},  # the fair recipe's set
           "select_on": "quality",
           "supervised_weight": 0.0, "supervised_loss": "mse",
           "discriminator": {"base_filters": 2, "depth": 2, "convs_per_block": 1,
                             "batchnorm": False, "extra_convs": 1, "dense_units": 4,
                             "leaky_alpha": 0.2, "spectral_norm": True},
           "epochs": 2, "steps_per_epoch": 3, "batch_size": 4,
           "g_learning_rate": 1e-3, "d_learning_rate": 1e-3}
metric_gan = train_gan("lgg", a["prep"], model, train, gan_cfg, 3,
                       out_model=tmp / "gan.keras", live_dir=tmp / "glive",
                       resume_root=tmp / "resume", init_model=tmp / "unet.keras",
                       empty_iou=1.0)
start = keras.models.load_model(tmp / "unet.keras").get_weights()
tuned = keras.models.load_model(tmp / "gan.keras").get_weights()
out["gan_moved_generator"] = any(not np.allclose(s, t) for s, t in zip(start, tuned))
out["summaries"] = [unet["backend"], metric_gan["backend"], unet["best_val_iou"],
                    metric_gan["final_val_d_error"]]
print("RESULT", json.dumps(out))
"""


def test_unet_and_gan_train_under_jax_without_tensorflow(tmp_path: Path):
    from tests.test_training import TINY_MODEL, TINY_TRAIN, _project

    proj = _project(tmp_path)
    arg = json.dumps({"tmp": str(tmp_path), "prep": str(proj / "data/prepared/lgg"),
                      "model": TINY_MODEL, "train": TINY_TRAIN})
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT / "src"),
           # cpu by default; a lent GPU machine sets SEGSTUDY_TEST_JAX_PLATFORMS=cuda
           "JAX_PLATFORMS": os.environ.get("SEGSTUDY_TEST_JAX_PLATFORMS", "cpu")}
    proc = subprocess.run([sys.executable, "-c", CHILD, arg], env=env, capture_output=True,
                          text=True, timeout=2400)  # JAX compiles every shape: ~12 min here
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert out["backend"] == "jax"
    print("child:", json.dumps(out))
    assert out["d_error_after"] < 0.5 * out["d_error_before"]
    assert out["g_kernels_unchanged"]
    assert out["gan_moved_generator"]
    assert out["summaries"][:2] == ["jax", "jax"]
    assert 0.0 <= out["summaries"][2] <= 1.0 and out["summaries"][3] is not None


def test_a_quick_lgg_branch_runs_under_jax_from_download_to_metrics(tmp_path: Path):
    """``KERAS_BACKEND=jax make quick`` restricted to download → … → evaluate for LGG."""
    from tests.conftest import SHARED_DATA
    from tests.quick_project import quick_copy

    if not (SHARED_DATA / "lgg").is_dir():
        pytest.skip(f"data mirror {SHARED_DATA} not present")
    proj = tmp_path / "segstudy"
    quick_copy(proj, "evaluate@lgg-unet", extra_env={"KERAS_BACKEND": "jax"})
    info = json.loads((proj / "models/lgg/unet.json").read_text())
    assert info["backend"] == "jax"
    metrics = json.loads((proj / "metrics/lgg/unet.json").read_text())
    assert all(0.0 <= metrics[s]["iou"] <= 1.0 for s in ("train", "val", "test"))
