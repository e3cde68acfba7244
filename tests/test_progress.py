"""Progress: a bar on a terminal, a few whole lines in logs, and no change to any result."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest

from segstudy.progress import LINE_STEPS, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv("SEGSTUDY_PROGRESS", raising=False)


def test_a_log_gets_one_whole_line_per_tenth_and_no_carriage_returns():
    log = io.StringIO()
    with Progress(250, "evaluate lgg/unet", "slice", stream=log) as bar:
        for _ in range(250):
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert len(lines) == LINE_STEPS
    assert "\r" not in log.getvalue()
    assert lines[0].startswith("evaluate lgg/unet: 25/250 slices (10 %)")
    assert lines[-1].startswith("evaluate lgg/unet: 250/250 slices (100 %)")


def test_an_unfinished_loop_still_ends_with_one_line_saying_how_far_it_got():
    log = io.StringIO()
    bar = Progress(100, "predict", "slice", stream=log)
    bar.update(5)
    bar.close()
    bar.close()
    assert log.getvalue().splitlines() == [log.getvalue().splitlines()[0]]
    assert log.getvalue().startswith("predict: 5/100 slices (5 %)")


def test_a_terminal_gets_a_redrawn_bar():
    term = Terminal()
    with Progress(40, "predict", "slice", stream=term) as bar:
        bar.update(40)
    assert "\r" in term.getvalue()
    assert "40/40" in term.getvalue()


@pytest.mark.parametrize(("setting", "stream", "expected"),
                         [("off", Terminal(), ""), ("lines", Terminal(), "x: 3/3 slices"),
                          (None, io.StringIO(), "x: 3/3 slices")])
def test_segstudy_progress_overrides_what_the_terminal_suggests(monkeypatch, setting, stream,
                                                                 expected):
    if setting:
        monkeypatch.setenv("SEGSTUDY_PROGRESS", setting)
    with Progress(3, "x", "slice", stream=stream) as bar:
        bar.update(3)
    assert stream.getvalue().startswith(expected) if expected else stream.getvalue() == ""


def test_disabled_progress_prints_nothing():
    log = io.StringIO()
    with Progress(3, "x", "slice", enabled=False, stream=log) as bar:
        bar.update(3)
    assert log.getvalue() == ""


def test_evaluate_counts_every_model_pass_and_averages_the_mirrored_image_once():
    import keras

    from segstudy.evaluate import _probability
    from segstudy.inference import predict_masks

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, None, 1)),
                              keras.layers.Conv2D(4, 3, padding="same"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Conv2D(1, 3, padding="same", activation="tanh")])
    images = np.random.default_rng(0).integers(0, 256, (71, 16, 16, 1), dtype=np.uint8)
    norm = {"mode": "range", "mean": [127.5], "std": [127.5]}
    log = io.StringIO()
    bar = Progress(2 * len(images), "evaluate", "slice", stream=log)
    post = {"tta_flip": True, "tta_dihedral": False}
    got = _probability(model, SimpleNamespace(images=images), norm, post, bar)
    bar.close()
    plain = predict_masks(model, images, norm)
    mirrored = predict_masks(model, np.ascontiguousarray(images[:, :, ::-1]), norm)
    np.testing.assert_allclose(got, (plain + mirrored[:, :, ::-1]) / 2, rtol=0, atol=1e-6)
    assert not np.allclose(got, plain, atol=1e-4)  # the mirrored pass counted
    assert log.getvalue().splitlines()[-1].startswith(f"evaluate: {2 * len(images)}/")


def test_training_shows_each_epochs_batches_with_an_eta_in_four_plain_lines():
    import keras

    from segstudy.training.callbacks import TrainingProgress

    log = io.StringIO()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((40, 4), "float32"), np.zeros((40, 1), "float32")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0,
              callbacks=[TrainingProgress("train lgg/strong", 20, 2, stream=log)])
    lines = log.getvalue().splitlines()
    assert len(lines) == 8 and "\r" not in log.getvalue()
    assert lines[0].startswith("train lgg/strong epoch 1/2: 5/20 batches (25 %)")
    assert "ETA" in lines[0] and "ETA" not in lines[3]
    assert lines[-1].startswith("train lgg/strong epoch 2/2: 20/20 batches (100 %)")
