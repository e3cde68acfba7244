"""segstudy.training.losses: the Lovász IoU loss is what its formula says, and a fine-tune
switches the loss for the last epochs only, resumed runs included."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from segstudy.training.losses import fine_tuned, lovasz_iou, make_loss
from tests.conftest import ROOT
from tests.conftest import square_mask as _square

UNIT = (0.0, 1.0)


def _iou(truth: np.ndarray, pred: np.ndarray) -> float:
    return float((truth * pred).sum() / np.maximum(truth, pred).sum())


def test_lovasz_of_a_binary_prediction_is_one_minus_its_iou() -> None:
    rng = np.random.default_rng(0)
    truth = _square()
    preds = [_square(lo=20, hi=52), _square(lo=40, hi=60), np.zeros_like(truth),
             (rng.random(truth.shape) < 0.3).astype(np.float32)]
    for pred in preds:
        got = float(np.asarray(lovasz_iou(truth, pred))[0])
        assert got == pytest.approx(1 - _iou(truth, pred), abs=1e-5)


def test_lovasz_leaves_an_empty_slice_to_the_bce() -> None:
    empty = np.zeros((1, 64, 64, 1), np.float32)
    pred = np.full_like(empty, 0.4)
    assert float(np.asarray(lovasz_iou(empty, pred))[0]) == 0.0
    bce = make_loss("bce", UNIT)(empty, pred)
    both = make_loss("bce_lovasz", UNIT)(empty, pred)
    assert np.asarray(both) == pytest.approx(np.asarray(bce), abs=1e-6)


def test_lovasz_falls_as_a_soft_prediction_moves_towards_the_truth() -> None:
    truth = _square()
    near, far = 0.8 * truth + 0.1, 0.4 * truth + 0.3
    assert float(np.asarray(lovasz_iou(truth, near))[0]) < float(
        np.asarray(lovasz_iou(truth, far))[0])


def test_bce_lovasz_reads_a_tanh_scaled_mask_like_a_unit_one() -> None:
    truth, pred = _square(), 0.7 * _square(lo=20, hi=52) + 0.1
    unit = make_loss("bce_lovasz", UNIT)(truth, pred)
    tanh = make_loss("bce_lovasz", (-1.0, 1.0))(2 * truth - 1, 2 * pred - 1)
    assert np.asarray(tanh) == pytest.approx(np.asarray(unit), abs=1e-5)


TRAIN = {"loss": "mse", "epochs": 3}


def test_without_a_fine_tune_the_loss_is_the_trains_own_and_nothing_switches() -> None:
    for cfg in (TRAIN, {**TRAIN, "finetune": {"loss": "bce", "epochs": 0}}):
        loss, callbacks = fine_tuned(cfg, UNIT, "train.lgg")
        assert loss.__name__ == "mse" and callbacks == []


def _fit_losses(initial_epoch: int) -> tuple[list[float], list[float]]:
    """Per-epoch training losses of a model that cannot move (learning rate 0), so each epoch's
    loss is the active loss of the same predictions; and the MSE and BCE of those predictions."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    loss, callbacks = fine_tuned({**TRAIN, "finetune": {"loss": "bce", "epochs": 1}}, UNIT,
                                 "train.lgg")
    model.compile(keras.optimizers.Adam(0.0), loss=loss)
    x = np.random.default_rng(0).random((8, 4)).astype(np.float32)
    y = (x[:, :1] > 0.5).astype(np.float32)
    hist = model.fit(x, y, batch_size=8, epochs=3, initial_epoch=initial_epoch, verbose=0,
                     callbacks=callbacks)
    pred = model.predict(x, verbose=0)
    expected = [float(np.mean(make_loss(n, UNIT)(y, pred))) for n in ("mse", "bce")]
    return hist.history["loss"], expected


def test_a_fine_tune_trains_its_last_epochs_on_the_second_loss_resumed_runs_too() -> None:
    got, (mse, bce) = _fit_losses(initial_epoch=0)
    assert got == pytest.approx([mse, mse, bce], abs=1e-5)
    resumed, _ = _fit_losses(initial_epoch=2)  # as BackupAndRestore restarts a killed run
    assert resumed == pytest.approx([bce], abs=1e-5)


def test_a_fine_tunes_loss_switch_reaches_jaxs_compiled_step() -> None:
    """JAX compiles the train step once: the switch must trace it again (as on TensorFlow).
    In a child: the backend is fixed at Keras' import, and this process has TensorFlow's."""
    pytest.importorskip("jax")
    child = ("import json; from tests.test_losses import _fit_losses; "
             "got, want = _fit_losses(0); print('RESULT', json.dumps([got, want]))")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-c", "import sys; sys.modules['tensorflow'] = None; "
                           + child], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    got, (mse, bce) = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert got == pytest.approx([mse, mse, bce], abs=1e-5)
