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
    gan.build_replay((16, 16, 1), (16, 16, 1), 4)  # _batch's shapes; no-op without a set
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


def test_replay_set_keeps_past_outputs_with_the_quality_they_had():
    gan = _gan(g_lr=0.0, replay_fraction=0.5, replay_capacity=3, replay_batch=2)  # 2 per step
    x, y = _batch()
    gan_built = _gan(g_lr=0.0)  # same seed and weights, no set: the reference outputs
    for _ in range(2):
        gan.train_step((x, y))
    assert int(keras.ops.convert_to_numpy(gan.replay_written)) == 4
    stored = keras.ops.convert_to_numpy(gan.replay_masks)
    fake = keras.ops.convert_to_numpy(gan_built.generator(x))
    # ring of 3: slots 0, 1 from step 1 (samples 0, 1), then step 2 wrote slots 2 and 0
    np.testing.assert_allclose(stored[[1, 2, 0]], fake[[1, 0, 1]], atol=1e-5)
    q = keras.ops.convert_to_numpy(gan.replay_quality)
    want = keras.ops.convert_to_numpy(gan.true_quality(fake[:2], y[:2]))
    np.testing.assert_allclose(q[[2, 0]], want, rtol=1e-5)


def test_an_empty_replay_set_leaves_the_discriminator_loss_of_the_paper_recipe():
    x, y = _batch()
    paper, fair = _gan(), _gan(replay_fraction=0.2, replay_capacity=8)
    args = [keras.ops.convert_to_tensor(np.asarray(a, np.float32))
            for a in (x, y, np.tanh(x), np.full(4, 0.5), y, np.ones(4))]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fair.d_loss(*args)),
                               keras.ops.convert_to_numpy(paper.d_loss(*args)), rtol=1e-6)


def test_vrand_target_is_one_minus_the_adapted_rand_error_of_the_cells():
    from segstudy.metrics import cell_agreement, region_scores

    truth = -np.ones((1, 8, 8, 1), np.float32)
    truth[0, 1:7, 1:3], truth[0, 1:7, 5:7] = 1, 1  # two cells
    merged = truth.copy()
    merged[0, 3, 3:5] = 1  # a bridge through the membrane joins them
    gan = _gan("vrand", power=1.0)
    got = keras.ops.convert_to_numpy(gan.true_quality(np.concatenate([truth, merged]),
                                                      np.concatenate([truth, truth])))
    want = 1 - region_scores(merged[0, ..., 0], truth[0, ..., 0], A)["rand_error"]
    np.testing.assert_allclose(got, [1.0, want], rtol=1e-6)
    assert 0 < want < 1
    np.testing.assert_allclose(cell_agreement(merged, truth, A), [want], rtol=1e-6)


def test_spectral_norm_keeps_each_layers_largest_singular_value_near_one():
    from tests.conftest import TINY_D as d_cfg

    keras.utils.set_random_seed(0)
    d = build_discriminator(2, **{**d_cfg, "spectral_norm": True})
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 2)).astype("float32")
    for _ in range(20):  # each training call is one power iteration
        d(x, training=True)
    wrapped = [layer for layer in d.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert wrapped
    for layer in wrapped:
        kernel = keras.ops.convert_to_numpy(layer.layer.kernel)
        top = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        assert top == pytest.approx(1.0, abs=0.05), layer.name
