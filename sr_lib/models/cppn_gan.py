"""The CPPN-GAN super-resolver of notebook 03: encoder -> latent ``z`` -> CPPN on any grid, alone
or (``residual=True``) as a correction ``2 * cppn - 1``, zero at the start, added to bicubic."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from sr_lib.coords import check_pixels, grid, image_shape, size_pair
from sr_lib.layers import DEFAULT_KL_WEIGHT
from sr_lib.models.cppn import build_cppn
from sr_lib.models.encoder import build_encoder
from sr_lib.rendering import DEFAULT_CHUNK, render


@keras.saving.register_keras_serializable(package="sr_lib")
class CPPNGenerator(keras.Model):
    """LR ``(B, h, w, 1)`` -> SR image; ``call`` draws ``out_size``, :meth:`upscale` any size."""

    def __init__(self, lr_shape=(26, 26, 1), out_size=28, latent_dim=128, residual=True,
                 hidden=64, depth=4, activation="tanh", scale=3.0, init_stddev=0.2,
                 kl_weight=DEFAULT_KL_WEIGHT, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.lr_shape = image_shape(lr_shape, "lr_shape")
        self.out_size = size_pair(out_size, "out_size")
        if self.lr_shape[-1] != 1:
            raise ValueError(f"the CPPN draws grayscale images; lr_shape must have 1 channel, "
                             f"got {lr_shape!r}")
        self.latent_dim, self.residual = latent_dim, bool(residual)
        self.hidden, self.depth, self.activation = hidden, depth, activation
        self.scale, self.init_stddev = float(scale), float(init_stddev)
        self.kl_weight, self.seed = float(kl_weight), seed
        self.encoder = build_encoder(self.lr_shape, latent_dim, kl_weight=kl_weight, seed=seed)
        self.cppn = build_cppn(latent_dim, channels=1, hidden=hidden, depth=depth,
                               activation=activation, scale=scale, init_stddev=init_stddev,
                               seed=seed)
        if self.residual:  # the correction starts at 2 * sigmoid(0) - 1 = 0: plain bicubic
            for weight in self.cppn.get_layer("out").weights:  # kernel and bias
                weight.assign(ops.zeros_like(weight))

    def build(self, input_shape):  # encoder and CPPN are built functional models
        self.built = True

    def _compose(self, values, lr, size):
        """CPPN values (B, H*W, 1) -> clipped image (B, H, W, 1), + bicubic(LR) if residual."""
        image = ops.reshape(values, (-1, size[0], size[1], 1))
        if self.residual:
            image = 2.0 * image - 1.0 + tf.image.resize(lr, size, method="bicubic")
        return ops.clip(image, 0.0, 1.0)

    def call(self, lr, training=None):
        z = self.encoder(lr, training=training)[2]
        coords = ops.convert_to_tensor(grid(*self.out_size))
        coords = ops.broadcast_to(coords[None], (ops.shape(lr)[0], *coords.shape))
        return self._compose(self.cppn([coords, z], training=training), lr, self.out_size)

    def encode(self, lr):
        """``z_mean`` (B, latent_dim) numpy of float LR images (B, h, w, 1), as :meth:`upscale`."""
        return np.asarray(self.encoder(tf.constant(lr, tf.float32), training=False)[0])

    def upscale(self, lr, size, chunk=DEFAULT_CHUNK, progress=False):
        """The float LR batch ``lr`` (B, h, w, 1) at ``size`` (H, W): numpy in [0, 1]."""
        height, width = check_pixels(size, len(lr))
        values = render(self.cppn, self.encode(lr), (height, width), chunk=chunk, progress=progress)
        values = values.reshape(len(values), -1, 1)
        return np.asarray(self._compose(values, tf.constant(lr, tf.float32), (height, width)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.out_size, 1)

    def get_config(self):
        names = ("latent_dim", "residual", "hidden", "depth", "activation", "scale", "init_stddev",
                 "kl_weight", "seed")
        return {**super().get_config(), "lr_shape": list(self.lr_shape),
                "out_size": list(self.out_size), **{name: getattr(self, name) for name in names}}


def build_cppn_gan_generator(lr_shape=(26, 26, 1), latent_dim=128, out_size=28, residual=True,
                             hidden=64, depth=4, activation="tanh", scale=3.0, init_stddev=0.2,
                             kl_weight=DEFAULT_KL_WEIGHT, seed=None):
    """A built :class:`CPPNGenerator`, named ``cppn_gan_residual`` or ``cppn_gan_latent``."""
    name = "cppn_gan_residual" if residual else "cppn_gan_latent"
    model = CPPNGenerator(lr_shape, out_size, latent_dim, residual, hidden, depth, activation,
                          scale, init_stddev, kl_weight, seed, name=name)
    model.build((None, *model.lr_shape))
    return model
