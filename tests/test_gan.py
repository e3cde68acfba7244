"""Study A's metric GAN: D's target is the evaluation metric; G and D steps do their jobs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from segstudy import SegstudyError
from segstudy.metrics import iou, module, percent, squaring
from segstudy.models.discriminator import build_discriminator
from segstudy.models.unet import build_unet
from segstudy.training.gan import MetricGAN, check_metric
from tests.conftest import TINY_D, TINY_UNET

A = (-1.0, 1.0)


def _gan(metric: str = "iou", power: float = 2.0, g_lr: float = 1e-3, d_lr: float = 1e-3,
         d_steps: int = 1, **kwargs) -> MetricGAN:
    keras.utils.set_random_seed(0)
    g = build_unet(1, **{**TINY_UNET, "base_filters": 4, "convs_per_block": 2, "batchnorm": False,
                         "head": "plain",
                         "output_activation": "tanh"}, name="g")
    d = build_discriminator(2, **TINY_D)
    gan = MetricGAN(g, d, metric, A, power=power, d_steps=d_steps, seed=0, **kwargs)
    gan.build()
    gan.compile(keras.optimizers.Adam(g_lr), keras.optimizers.Adam(d_lr))
    return gan


def _batch(n: int = 4, size: int = 16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, size, size, 1)).astype("float32")
    y = np.where(x > 0, 1.0, -1.0).astype("float32")  # a learnable toy task
    return x, y


def test_discriminator_target_is_the_evaluation_metric_on_hand_made_masks():
    truth = np.array([[[1, 1], [-1, -1]]], np.float32)[..., None]
    guess = np.array([[[1, -1], [-1, -1]]], np.float32)[..., None]  # IoU 1/2, 3 of 4 right
    expected = {
        "iou": iou(guess, truth, A) ** 2,
        "percent": percent(guess, truth, A) / 100,
        "module": 1 - module(guess, truth, A) / 2,
        "squaring": 1 - squaring(guess, truth, A) / 4,
    }
    assert expected["iou"][0] == pytest.approx(0.25) and expected["percent"][0] == 0.75
    for metric, value in expected.items():
        gan = _gan(metric, power=2.0 if metric == "iou" else 1.0)
        got = keras.ops.convert_to_numpy(gan.true_quality(guess, truth))
        np.testing.assert_allclose(got, value, rtol=1e-6)


@pytest.mark.parametrize("empty_iou", [0.0, 1.0])
def test_the_iou_target_of_an_empty_mask_on_an_empty_truth_follows_evaluate_empty_iou(empty_iou):
    empty = np.full((1, 2, 2, 1), -1.0, np.float32)
    gan = _gan("iou", power=2.0, empty_iou=empty_iou)
    got = keras.ops.convert_to_numpy(gan.true_quality(empty, empty))
    np.testing.assert_allclose(got, [empty_iou])


def test_generator_step_raises_the_predicted_quality():
    gan = _gan(d_steps=0, g_lr=1e-2)  # D frozen: only G moves
    x, y = _batch()
    before = float(np.mean(keras.ops.convert_to_numpy(gan.judge(gan.generator(x), x))))
    for _ in range(5):
        gan.train_step((x, y))
    after = float(np.mean(keras.ops.convert_to_numpy(gan.judge(gan.generator(x), x))))
    assert after > before


def test_discriminator_steps_lower_its_approximation_error():
    gan = _gan(g_lr=0.0, d_lr=3e-3)  # G frozen: only D learns
    x, y = _batch()

    def error() -> float:
        fake = gan.generator(x)
        return float(np.mean(np.abs(keras.ops.convert_to_numpy(gan.judge(fake, x))
                                    - keras.ops.convert_to_numpy(gan.true_quality(fake, y)))))

    before = error()
    for _ in range(30):
        gan.train_step((x, y))
    assert error() < before * 0.5


def test_unknown_metric_lists_the_four_choices():
    with pytest.raises(SegstudyError, match=r"gan.metric='bogus'.*module, squaring, percent, iou"):
        check_metric("bogus")
