"""The VAE-GAN super-resolver of notebook 01: conv encoder -> latent -> deconv decoder, plus a
conv discriminator.

Two generator variants:

* ``residual=False`` (*latent only*): the SR image is decoded from the latent vector alone.
* ``residual=True``: the decoder predicts a correction that is added to the bicubic upsample of
  the LR input (its last layer starts at zero, so training starts from bicubic).
"""

from __future__ import annotations

import keras
from keras import layers

from sr_lib.layers import Clip, Resize, Sampling


def _hw(shape, name):
    if len(shape) != 3 or min(shape) <= 0:
        raise ValueError(f"{name} must be (height, width, channels), got {shape!r}")
    return tuple(int(s) for s in shape)


def _check_latent(latent_dim):
    if not isinstance(latent_dim, int) or latent_dim <= 0:
        raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")


def build_encoder(lr_shape=(26, 26, 1), latent_dim=128, kl_weight=1.0, seed=None):
    """Conv encoder ``LR -> [z_mean, z_log_var, z]`` (``z`` from :class:`Sampling`)."""
    lr_shape = _hw(lr_shape, "lr_shape")
    _check_latent(latent_dim)
    lr = keras.Input(lr_shape, name="lr")
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(lr)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(kl_weight=kl_weight, seed=seed, name="z")([z_mean, z_log_var])
    return keras.Model(lr, [z_mean, z_log_var, z], name="encoder")


def build_decoder(latent_dim=128, hr_shape=(28, 28, 1), residual=False):
    """Deconv decoder ``z -> HR image`` (the usual DCGAN generator).

    HR height and width must be multiples of 4. With ``residual=True`` the output is a linear
    correction starting at zero; otherwise a sigmoid image in [0, 1].
    """
    _check_latent(latent_dim)
    height, width, channels = _hw(hr_shape, "hr_shape")
    if height % 4 or width % 4:
        raise ValueError(f"hr_shape height and width must be multiples of 4, got {hr_shape!r}")
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(height // 4 * width // 4 * 32, activation="relu")(z)
    x = layers.Reshape((height // 4, width // 4, 32))(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
    if residual:
        out = layers.Conv2D(channels, 3, padding="same", kernel_initializer="zeros",
                            name="residual")(x)
    else:
        out = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="image")(x)
    return keras.Model(z, out, name="decoder")


def build_generator(lr_shape=(26, 26, 1), hr_shape=(28, 28, 1), latent_dim=128, residual=True,
                    kl_weight=1.0, seed=None):
    """Encoder + decoder: ``LR -> SR`` (optionally ``+ bicubic(LR)``), clipped to [0, 1]."""
    lr_shape, hr_shape = _hw(lr_shape, "lr_shape"), _hw(hr_shape, "hr_shape")
    if lr_shape[-1] != hr_shape[-1]:
        raise ValueError(f"lr_shape and hr_shape need the same channels, got {lr_shape} and "
                         f"{hr_shape}")
    encoder = build_encoder(lr_shape, latent_dim, kl_weight=kl_weight, seed=seed)
    decoder = build_decoder(latent_dim, hr_shape, residual=residual)
    lr = keras.Input(lr_shape, name="lr")
    out = decoder(encoder(lr)[2])
    if residual:
        out = layers.Add()([Resize(hr_shape[:2], name="bicubic")(lr), out])
    sr = Clip(name="sr")(out)
    name = "vae_gan_residual" if residual else "vae_gan_latent"
    return keras.Model(lr, sr, name=name)


def build_discriminator(hr_shape=(28, 28, 1)):
    """Conv discriminator ``HR image -> logit`` (positive = judged real)."""
    hr_shape = _hw(hr_shape, "hr_shape")
    image = keras.Input(hr_shape, name="image")
    x = layers.Conv2D(32, 4, strides=2, padding="same")(image)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(64, 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(image, logit, name="discriminator")
