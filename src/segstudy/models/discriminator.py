"""Study A's discriminator: it does not say real/fake, it *regresses a quality score*.

Input: the mask to judge concatenated with the source image. Body: a U-Net (the same builder
as the generator, so "a modified U-Net" in the paper's words), then extra strided encoding
convolutions and dense layers down to one sigmoid output: the predicted quality in [0, 1]
(the metric mapped by ``segstudy.metrics.quality``: higher is better).
"""

from __future__ import annotations

import keras
from keras import layers

from segstudy.models.unet import build_unet


def build_discriminator(
    in_channels: int,
    *,
    base_filters: int,
    depth: int,
    convs_per_block: int,
    batchnorm: bool,
    extra_convs: int,
    dense_units: int,
    leaky_alpha: float,
    spectral_norm: bool = False,
    name: str = "discriminator",
) -> keras.Model:
    """``in_channels`` = 1 (the mask) + the image's channels. Arguments as ``build_unet``'s
    (from ``gan.discriminator`` in params.yaml), plus ``extra_convs`` strided convolutions
    after the U-Net body and a dense layer of ``dense_units``. ``spectral_norm``: every
    convolution and dense layer wrapped in ``keras.layers.SpectralNormalization`` (Miyato et
    al. 2018; MetricGAN+'s discriminator has it), which bounds how fast D's verdict can
    change with its input, so G follows a smoother surrogate."""
    body = build_unet(
        in_channels, base_filters=base_filters, depth=depth, convs_per_block=convs_per_block,
        batchnorm=batchnorm, head="plain", dropout=0.0, leaky_alpha=leaky_alpha,
        output_activation="sigmoid", name=f"{name}_unet",
    )
    x = body.get_layer(f"dec1_lrelu{convs_per_block}").output  # full-resolution features
    for i in range(extra_convs):
        x = layers.Conv2D(base_filters * 2 ** (i + 1), 3, strides=2, padding="same",
                          name=f"{name}_down{i + 1}")(x)
        x = layers.LeakyReLU(negative_slope=leaky_alpha, name=f"{name}_down{i + 1}_lrelu")(x)
    x = layers.GlobalAveragePooling2D(name=f"{name}_pool")(x)
    x = layers.Dense(dense_units, name=f"{name}_dense")(x)
    x = layers.LeakyReLU(negative_slope=leaky_alpha, name=f"{name}_dense_lrelu")(x)
    out = layers.Dense(1, activation="sigmoid", dtype="float32", name="quality")(x)
    model = keras.Model(body.input, out, name=name)
    if not spectral_norm:
        return model
    return keras.models.clone_model(model, clone_function=_spectral)


def _spectral(layer: layers.Layer) -> layers.Layer:
    """A fresh copy of ``layer``, wrapped in spectral normalisation if it has a kernel."""
    fresh = layer.__class__.from_config(layer.get_config())
    if isinstance(layer, layers.Conv2D | layers.Dense):
        return layers.SpectralNormalization(fresh, name=f"{layer.name}_sn")
    return fresh
