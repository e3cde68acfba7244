"""One U-Net builder for both papers (functional Keras 3, backend-agnostic).

- Study B (LGG): ``conv_block`` = Conv2D → BatchNormalization → LeakyReLU(0.01), four encoder
  blocks with max-pooling, a bridge, four decoder blocks (Conv2DTranspose → concatenate the
  skip → conv_block), head Conv2D → BN → LeakyReLU → Conv2D.
- Study A (ISBI): the 2015 U-Net (two 3×3 convs per block, no batch norm) with leaky ReLU in the
  hidden layers and a tanh output.

The input size is free (``None``); it must be divisible by ``2**depth``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
from keras import layers

from segstudy import SegstudyError, config

OUTPUT_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
HEADS = config.HEADS


def mask_range(output_activation: str) -> tuple[float, float]:
    """The scale masks live on for a given output activation (targets are mapped onto it)."""
    if output_activation not in OUTPUT_RANGES:
        raise SegstudyError(
            f"params.yaml: output_activation={output_activation!r}; "
            f"choose one of {', '.join(OUTPUT_RANGES)}"
        )
    return OUTPUT_RANGES[output_activation]


def conv_block(
    x: Any, filters: int, convs: int, batchnorm: bool, alpha: float, name: str
) -> Any:
    for i in range(convs):
        x = layers.Conv2D(
            filters, 3, padding="same", use_bias=not batchnorm, name=f"{name}_conv{i + 1}"
        )(x)
        if batchnorm:
            x = layers.BatchNormalization(name=f"{name}_bn{i + 1}")(x)
        x = layers.LeakyReLU(negative_slope=alpha, name=f"{name}_lrelu{i + 1}")(x)
    return x


def build_unet(
    in_channels: int,
    *,
    base_filters: int,
    depth: int,
    convs_per_block: int,
    batchnorm: bool,
    head: str,
    dropout: float,
    leaky_alpha: float,
    output_activation: str,
    name: str = "unet",
) -> keras.Model:
    """A U-Net for (H, W, ``in_channels``) inputs of any size divisible by 2^depth.

    Every architectural choice is an argument, with no default: ``params.yaml``'s
    ``model.<dataset>`` (checked by ``segstudy.config``) is their one source.

    Args:
        base_filters: filters of the first level; each level down doubles them.
        depth: number of 2× poolings (and of up-convolutions back).
        convs_per_block: 3×3 convolutions per level, each + (batch norm) + LeakyReLU.
        batchnorm: batch normalisation after each convolution (paper B: yes; paper A: no).
        head: ``plain`` (a 1×1 convolution) or ``conv_bn_lrelu`` (paper B: one more
            Conv → BN → LeakyReLU before it).
        dropout: dropout rate at the bridge, in [0, 1).
        leaky_alpha: LeakyReLU slope for negative inputs.
        output_activation: ``sigmoid`` (masks in [0, 1]) or ``tanh`` (masks in [-1, 1]).
        name: the Keras model's name.
    """
    mask_range(output_activation)
    if head not in HEADS:
        raise SegstudyError(f"params.yaml: head={head!r}; choose one of {', '.join(HEADS)}")
    block = dict(convs=convs_per_block, batchnorm=batchnorm, alpha=leaky_alpha)
    inputs = keras.Input((None, None, in_channels), name="image")
    x, skips = inputs, []
    for level in range(depth):
        x = conv_block(x, base_filters * 2**level, name=f"enc{level + 1}", **block)
        skips.append(x)
        x = layers.MaxPooling2D(name=f"pool{level + 1}")(x)
    if dropout:  # the 2015 U-Net drops out at the end of the contracting path
        x = layers.Dropout(dropout, name="bridge_dropout")(x)
    x = conv_block(x, base_filters * 2**depth, name="bridge", **block)
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        x = layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name=f"up{level + 1}")(x)
        x = layers.Concatenate(name=f"skip{level + 1}")([x, skips[level]])
        x = conv_block(x, filters, name=f"dec{level + 1}", **block)
    if head == "conv_bn_lrelu":
        x = layers.Conv2D(base_filters, 3, padding="same", use_bias=False, name="head_conv")(x)
        x = layers.BatchNormalization(name="head_bn")(x)
        x = layers.LeakyReLU(negative_slope=leaky_alpha, name="head_lrelu")(x)
    x = layers.Conv2D(1, 1, name="logits")(x)
    # float32 output even under mixed precision: losses and metrics need the full range.
    outputs = layers.Activation(output_activation, dtype="float32", name="mask")(x)
    return keras.Model(inputs, outputs, name=name)


def build_unet_from_params(cfg: Mapping[str, Any], in_channels: int, name: str = "unet") -> keras.Model:
    known = {
        "base_filters", "depth", "convs_per_block", "batchnorm", "head", "dropout",
        "leaky_alpha", "output_activation",
    }
    unknown = set(cfg) - known
    if unknown:
        raise SegstudyError(f"params.yaml: unknown model option(s) {sorted(unknown)}")
    return build_unet(in_channels, name=name, **dict(cfg))
