"""Custom Keras layers, registered (package ``sr_lib``) so ``.keras`` files using them load."""

import keras
from keras import ops

from sr_lib.coords import size_pair

DEFAULT_KL_WEIGHT = 1e-6  # with per-pixel MSE: 1.0 collapses the posterior (notebook 01)


@keras.saving.register_keras_serializable(package="sr_lib")
class Sampling(keras.layers.Layer):
    """Reparametrization ``(z_mean, z_log_var) -> z_mean + exp(z_log_var / 2) * eps`` (``z_mean``
    outside training), adding ``kl_weight`` times the batch mean KL as a layer loss."""

    def __init__(self, kl_weight=DEFAULT_KL_WEIGHT, seed=None, **kwargs):
        super().__init__(**kwargs)
        if kl_weight < 0:
            raise ValueError(f"kl_weight must be >= 0, got {kl_weight}")
        self.kl_weight, self.seed = float(kl_weight), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        self.add_loss(self.kl_weight * ops.mean(kl_divergence(z_mean, z_log_var)))
        if not training:
            return z_mean
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "kl_weight": self.kl_weight, "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """Per-example ``KL(N(z_mean, exp(z_log_var)) || N(0, I))``, summed over the last axis."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


@keras.saving.register_keras_serializable(package="sr_lib")
class Resize(keras.layers.Layer):
    """Resize images to a fixed ``size`` (bicubic by default): residual models' skip."""

    def __init__(self, size, method="bicubic", antialias=False, **kwargs):
        super().__init__(**kwargs)
        self.size, self.method, self.antialias = size_pair(size), method, antialias

    def call(self, images):
        import tensorflow as tf

        return tf.image.resize(images, self.size, method=self.method, antialias=self.antialias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "method": self.method,
                "antialias": self.antialias}


@keras.saving.register_keras_serializable(package="sr_lib")
class Clip(keras.layers.Layer):
    """Clip values to ``[low, high]`` (images to [0, 1] by default)."""

    def __init__(self, low=0.0, high=1.0, **kwargs):
        super().__init__(**kwargs)
        if low >= high:
            raise ValueError(f"low must be < high, got {low} and {high}")
        self.low, self.high = float(low), float(high)

    def call(self, x):
        return ops.clip(x, self.low, self.high)

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}
