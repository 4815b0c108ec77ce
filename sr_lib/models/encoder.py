"""The VAE encoder shared by the VAE-GAN (notebook 01) and the CPPN-GAN (notebook 03)."""

import keras
from keras import layers

from sr_lib.coords import check_int, image_shape
from sr_lib.layers import DEFAULT_KL_WEIGHT, Sampling


def check_latent_dim(latent_dim):
    check_int(latent_dim, "latent_dim", 1, 4096)


def build_encoder(lr_shape=(26, 26, 1), latent_dim=128, kl_weight=DEFAULT_KL_WEIGHT, seed=None):
    """Conv encoder ``LR -> [z_mean, z_log_var, z]`` (``z``, KL loss: :class:`Sampling`)."""
    lr_shape = image_shape(lr_shape, "lr_shape")
    check_latent_dim(latent_dim)
    lr = keras.Input(lr_shape, name="lr")
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(lr)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Dense(256, activation="relu")(layers.Flatten()(x))
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(kl_weight=kl_weight, seed=seed, name="z")([z_mean, z_log_var])
    return keras.Model(lr, [z_mean, z_log_var, z], name="encoder")
