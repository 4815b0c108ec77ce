"""The VAE-GAN generator of notebook 01: conv encoder -> latent -> deconv decoder (the image, or
with ``residual=True`` a correction, zero at the start, added to the bicubic upsample)."""

import keras
from keras import layers

from sr_lib.coords import image_shape
from sr_lib.layers import DEFAULT_KL_WEIGHT, Clip, Resize
from sr_lib.models.encoder import build_encoder, check_latent_dim


def build_decoder(latent_dim=128, hr_shape=(28, 28, 1), residual=False):
    """DCGAN decoder ``z -> HR image`` (sides multiples of 4), or a zero-started correction."""
    check_latent_dim(latent_dim)
    height, width, channels = image_shape(hr_shape, "hr_shape")
    if height % 4 or width % 4:
        raise ValueError(f"hr_shape height and width must be multiples of 4, got {hr_shape!r}")
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(height // 4 * width // 4 * 32, activation="relu")(z)
    x = layers.Reshape((height // 4, width // 4, 32))(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)
    head = dict(kernel_initializer="zeros", name="residual") if residual else dict(
        activation="sigmoid", name="image")
    return keras.Model(z, layers.Conv2D(channels, 3, padding="same", **head)(x), name="decoder")


def build_vae_gan_generator(lr_shape=(26, 26, 1), hr_shape=(28, 28, 1), latent_dim=128,
                            residual=True, kl_weight=DEFAULT_KL_WEIGHT, seed=None):
    """Encoder + decoder ``LR -> SR`` (``+ bicubic(LR)`` if ``residual``), clipped to [0, 1]."""
    lr_shape, hr_shape = image_shape(lr_shape, "lr_shape"), image_shape(hr_shape, "hr_shape")
    if lr_shape[-1] != hr_shape[-1]:
        raise ValueError(f"lr_shape and hr_shape need the same channels, got {lr_shape} and "
                         f"{hr_shape}")
    encoder = build_encoder(lr_shape, latent_dim, kl_weight=kl_weight, seed=seed)
    lr = keras.Input(lr_shape, name="lr")
    out = build_decoder(latent_dim, hr_shape, residual=residual)(encoder(lr)[2])
    if residual:
        out = layers.Add()([Resize(hr_shape[:2], name="bicubic")(lr), out])
    sr = Clip(name="sr")(out)
    return keras.Model(lr, sr, name="vae_gan_residual" if residual else "vae_gan_latent")
