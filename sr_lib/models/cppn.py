"""Compositional pattern-producing network (CPPN): an image as a function of (z, x, y, r), pixel
by pixel, so one ``z`` renders at any size (:func:`sr_lib.render`)."""

import keras
from keras import ops

from sr_lib.coords import check_int

CHANNELS = (1, 3)


@keras.saving.register_keras_serializable(package="sr_lib")
def sin(x):
    """Sine activation: periodic, repeating patterns."""
    return ops.sin(x)


@keras.saving.register_keras_serializable(package="sr_lib")
def gaussian(x):
    """Gaussian bump ``exp(-x^2)``: symmetric blobs and rings."""
    return ops.exp(-ops.square(x))


_EXTRA_ACTIVATIONS = {"sin": sin, "gaussian": gaussian}


def get_activation(name):
    """A Keras activation by name, plus the CPPN classics ``"sin"`` and ``"gaussian"``."""
    if name in _EXTRA_ACTIVATIONS:
        return _EXTRA_ACTIVATIONS[name]
    try:
        return keras.activations.get(name)
    except ValueError:
        raise ValueError(f"unknown activation {name!r}; try 'tanh', 'sin', 'gaussian', 'relu', "
                         "'softplus' or any keras.activations name") from None


@keras.saving.register_keras_serializable(package="sr_lib")
class CoordLatentMix(keras.layers.Layer):
    """First CPPN layer, before the activation: ``(scale * [x, y, r]) @ Wc + z @ Wz + b``, the
    latent term once per image: ``coords (batch, pixels, 3)``, ``z`` -> (batch, pixels, units)."""

    def __init__(self, units, scale=1.0, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units, self.scale = int(units), float(scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, coords_shape, z_shape):
        def weight(name, shape, initializer=self.kernel_initializer):
            return self.add_weight(shape=shape, initializer=initializer, name=name)

        self.coord_kernel = weight("coord_kernel", (coords_shape[-1], self.units))
        self.latent_kernel = weight("latent_kernel", (z_shape[-1], self.units))
        self.bias = weight("bias", (self.units,), self.bias_initializer)

    def call(self, coords, z):
        per_image = ops.matmul(z, self.latent_kernel) + self.bias  # (batch, units)
        per_pixel = ops.matmul(coords, self.coord_kernel * self.scale)  # (batch, pixels, units)
        return per_pixel + ops.expand_dims(per_image, 1)

    def compute_output_shape(self, coords_shape, z_shape):
        return (*coords_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "scale": self.scale,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


def build_cppn(latent_dim, channels=1, hidden=32, depth=4, activation="tanh", scale=8.0,
               init_stddev=1.0, seed=None, name="cppn"):
    """A CPPN ``(coords, z) -> [0, 1]``: ``depth`` layers of width ``hidden`` (mixing layer
    included) of ``activation`` (Keras', ``"sin"``, ``"gaussian"``), ``channels`` (1 or 3) sigmoid
    outputs; ``scale`` multiplies the coordinates, weights ~ N(0, ``init_stddev``^2) by ``seed``."""
    for label, value, high in (("latent_dim", latent_dim, 4096), ("hidden", hidden, 4096),
                               ("depth", depth, 64)):
        check_int(value, label, 1, high)
    if channels not in CHANNELS:
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    act = get_activation(activation)

    def init(i):
        return keras.initializers.RandomNormal(
            stddev=init_stddev, seed=None if seed is None else seed * 1000 + i)

    coords, z = keras.Input((None, 3), name="coords"), keras.Input((latent_dim,), name="z")
    h = CoordLatentMix(hidden, scale=scale, kernel_initializer=init(0), bias_initializer=init(1),
                       name="mix")(coords, z)
    h = keras.layers.Activation(act, name="act_0")(h)
    for i in range(1, depth):
        h = keras.layers.Dense(hidden, activation=act, kernel_initializer=init(2 * i),
                               bias_initializer=init(2 * i + 1), name=f"dense_{i}")(h)
    out = keras.layers.Dense(channels, activation="sigmoid", kernel_initializer=init(2 * depth),
                             bias_initializer=init(2 * depth + 1), name="out")(h)
    return keras.Model([coords, z], out, name=name)
