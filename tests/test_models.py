"""U-Net builders follow each paper's layer pattern; losses match hand-computed values."""

import keras
import numpy as np
import pytest

from segstudy import SegstudyError
from segstudy.models.unet import build_unet
from segstudy.training.losses import make_loss
from tests.conftest import TINY_UNET


def _types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_paper_b_blocks_are_conv_bn_leakyrelu_with_conv_head():
    model = build_unet(3, **{**TINY_UNET, "base_filters": 4, "depth": 4, "convs_per_block": 2})
    types = _types(model)
    conv_idx = [i for i, t in enumerate(types) if t == "Conv2D"]
    for i in conv_idx[:-1]:  # every hidden conv is followed by BN then LeakyReLU
        assert types[i + 1 : i + 3] == ["BatchNormalization", "LeakyReLU"]
    assert types.count("MaxPooling2D") == 4 and types.count("Conv2DTranspose") == 4
    assert types[-4:] == ["BatchNormalization", "LeakyReLU", "Conv2D", "Activation"]
    assert model.get_layer("enc1_lrelu1").negative_slope == pytest.approx(0.01)
    assert model.get_layer("mask").activation.__name__ == "sigmoid"
    assert model(np.zeros((2, 64, 64, 3), "float32")).shape == (2, 64, 64, 1)


def test_paper_a_is_plain_unet_with_leaky_relu_and_tanh_head():
    model = build_unet(1, **{**TINY_UNET, "base_filters": 4, "depth": 4, "convs_per_block": 2,
                             "batchnorm": False, "head": "plain", "output_activation": "tanh"})
    types = _types(model)
    assert "BatchNormalization" not in types and "ReLU" not in types
    assert types.count("LeakyReLU") == 2 * 9  # two convs in each of 4+1+4 blocks
    assert model.get_layer("mask").activation.__name__ == "tanh"
    x = np.random.default_rng(0).random((1, 96, 80, 1), "float32")
    out = keras.ops.convert_to_numpy(model(x))
    assert out.shape == (1, 96, 80, 1) and out.min() >= -1 and out.max() <= 1


def test_unknown_activation_is_refused():
    with pytest.raises(SegstudyError, match="output_activation='relu'"):
        build_unet(1, **{**TINY_UNET, "output_activation": "relu"})


T = np.array([[[1.0, 0.0], [1.0, 0.0]]], np.float32)[..., None]  # (1, 2, 2, 1)
P = np.array([[[0.5, 0.0], [1.0, 0.5]]], np.float32)[..., None]


def _loss(name, t=T, p=P, rng=(0.0, 1.0)):
    return float(keras.ops.convert_to_numpy(make_loss(name, rng)(t, p))[0])


def test_mse_matches_hand_value():
    assert _loss("mse") == pytest.approx((0.25 + 0 + 0 + 0.25) / 4)


def test_bce_matches_hand_value():
    eps = 1e-7
    expected = -(np.log(0.5) + np.log(1 - eps) + np.log(1 - eps) + np.log(0.5)) / 4
    assert _loss("bce") == pytest.approx(expected, rel=1e-4)


def test_soft_dice_and_iou_match_hand_values():
    inter, st, sp = 1.5, 2.0, 2.0
    assert _loss("dice") == pytest.approx(1 - (2 * inter + 1) / (st + sp + 1))
    assert _loss("soft_iou") == pytest.approx(1 - (inter + 1) / (st + sp - inter + 1))
    assert _loss("bce_dice") == pytest.approx(_loss("bce") + _loss("dice"), rel=1e-5)


def test_losses_map_the_tanh_scale_to_unit_first():
    t2, p2 = 2 * T - 1, 2 * P - 1
    assert _loss("soft_iou", t2, p2, (-1.0, 1.0)) == pytest.approx(_loss("soft_iou"))


def test_empty_target_and_prediction_give_zero_overlap_loss():
    z = np.zeros((1, 2, 2, 1), np.float32)
    assert _loss("dice", z, z) == pytest.approx(0.0)
    assert _loss("soft_iou", z, z) == pytest.approx(0.0)


def test_unknown_loss_lists_choices():
    with pytest.raises(SegstudyError, match="mse, bce, dice, bce_dice, soft_iou"):
        make_loss("l1", (0, 1))


@pytest.mark.parametrize("depth", [3, 5])
def test_inference_pads_to_the_models_own_depth_not_a_fixed_16(depth):
    from segstudy.inference import predict_masks, size_multiple

    model = build_unet(1, **{**TINY_UNET, "base_filters": 2, "depth": depth})
    assert size_multiple(model) == 2**depth
    images = np.random.default_rng(0).integers(0, 255, (2, 48, 40, 1), dtype=np.uint8)
    out = predict_masks(model, images, {"mean": [127.5], "std": [127.5]})
    assert out.shape == (2, 48, 40) and np.isfinite(out).all()
