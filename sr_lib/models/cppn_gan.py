"""The CPPN-GAN super-resolver of notebook 03: one LR digit in, an SR image of any size out.

The shared VAE encoder maps the LR image to a global latent ``z``; the CPPN of notebook 02 maps
``(z, x, y, r)`` to a pixel value, so the same weights draw on the 28x28 training grid (``call``)
and on any grid afterwards (:meth:`CPPNGenerator.upscale`, through :func:`sr_lib.render`).
``residual=False`` (*latent only*): the image is the CPPN's output. ``residual=True``: the CPPN
draws a correction ``2 * cppn - 1`` added to the bicubic upsample of the LR input at the
requested size; its output layer starts at zero, so training starts from bicubic.
"""

from __future__ import annotations

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
    """LR image ``(B, h, w, 1)`` -> SR image; ``call`` draws ``out_size``, :meth:`upscale` any size.

    ``encoder`` is :func:`~sr_lib.models.build_encoder` (the KL added as a layer loss), ``cppn``
    :func:`~sr_lib.models.build_cppn` with the given ``hidden``, ``depth``, ``activation``,
    ``scale`` and ``init_stddev``. ``call`` decodes a sampled ``z`` in training, ``z_mean`` else.
    """

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
            out = self.cppn.get_layer("out")
            out.kernel.assign(ops.zeros_like(out.kernel))
            out.bias.assign(ops.zeros_like(out.bias))

    def build(self, input_shape):
        # encoder and CPPN are built functional models; nothing else holds weights
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
        """``z_mean`` of each float LR image (B, h, w, 1): (B, latent_dim) numpy, the latent
        :meth:`upscale` draws from."""
        return np.asarray(self.encoder(tf.constant(lr, tf.float32), training=False)[0])

    def upscale(self, lr, size, chunk=DEFAULT_CHUNK, progress=False):
        """Render the float LR batch ``lr`` (B, h, w, 1) at ``size`` (H, W): numpy in [0, 1].

        The any-size protocol :class:`sr_lib.Upscaler` drives (use ``sr_lib.upscale`` for uint8,
        single images and checks). ``z_mean`` of each image drives the CPPN over the pixel-centre
        grid of ``size`` through :func:`sr_lib.render`; at ``out_size`` this equals ``call``.
        """
        height, width = check_pixels(size, len(lr))
        values = render(self.cppn, self.encode(lr), (height, width), chunk=chunk,
                        progress=progress)
        values = values.reshape(len(values), -1, 1)
        return np.asarray(self._compose(values, tf.constant(lr, tf.float32), (height, width)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.out_size, 1)

    def get_config(self):
        return {**super().get_config(), "lr_shape": list(self.lr_shape),
                "out_size": list(self.out_size), "latent_dim": self.latent_dim,
                "residual": self.residual, "hidden": self.hidden, "depth": self.depth,
                "activation": self.activation, "scale": self.scale,
                "init_stddev": self.init_stddev, "kl_weight": self.kl_weight, "seed": self.seed}


def build_cppn_gan_generator(lr_shape=(26, 26, 1), latent_dim=128, out_size=28, residual=True,
                             hidden=64, depth=4, activation="tanh", scale=3.0, init_stddev=0.2,
                             kl_weight=DEFAULT_KL_WEIGHT, seed=None):
    """A built :class:`CPPNGenerator`: encoder -> ``z`` -> CPPN over an ``out_size`` grid.

    ``lr_shape`` is (h, w, 1); the trained weights then :meth:`~CPPNGenerator.upscale` to any
    size. Named ``cppn_gan_residual`` or ``cppn_gan_latent``.
    """
    name = "cppn_gan_residual" if residual else "cppn_gan_latent"
    model = CPPNGenerator(lr_shape, out_size, latent_dim, residual, hidden, depth, activation,
                          scale, init_stddev, kl_weight, seed, name=name)
    model.build((None, *model.lr_shape))
    return model
