"""The conv discriminator shared by the GANs of notebooks 01 and 03 (trained by ``SRGAN``)."""

import keras
from keras import layers

from sr_lib.coords import image_shape


def build_discriminator(hr_shape=(28, 28, 1)):
    """Conv discriminator ``HR image -> logit`` (positive = judged real)."""
    hr_shape = image_shape(hr_shape, "hr_shape")
    image = keras.Input(hr_shape, name="image")
    x = layers.LeakyReLU(0.2)(layers.Conv2D(32, 4, strides=2, padding="same")(image))
    x = layers.LeakyReLU(0.2)(layers.Conv2D(64, 4, strides=2, padding="same")(x))
    x = layers.Dropout(0.2)(layers.Flatten()(x))
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(image, logit, name="discriminator")
