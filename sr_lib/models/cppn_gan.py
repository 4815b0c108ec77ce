"""The CPPN-GAN super-resolver of notebook 03: one LR digit in, an SR image of any size out.

The encoder of notebook 01 (with its :class:`~sr_lib.layers.Sampling` layer) maps the LR image
to a global latent ``z``; the CPPN of notebook 02 maps ``(z, x, y, r)`` to a pixel value. Since
the CPPN is a function of continuous coordinates, the same weights draw the digit on a 28x28
grid for training (``call``, judged by the discriminator of notebook 01 through
:class:`sr_lib.training.SRGAN`) and on any grid afterwards (:meth:`CPPNGenerator.upscale`,
chunked through :func:`sr_lib.rendering.render`).

Two variants, as in notebook 01:

* ``residual=False`` (*latent only*): the image is the CPPN's output, so everything passes
  through ``z``.
* ``residual=True``: the CPPN draws a correction ``2 * cppn - 1`` in [-1, 1] that is added to
  the bicubic upsample of the LR input at the requested size; its output layer starts at zero,
  so training starts from bicubic.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from sr_lib.coords import grid
from sr_lib.data import image_batch
from sr_lib.models.cppn import build_cppn
from sr_lib.models.vae_gan import build_encoder
from sr_lib.rendering import DEFAULT_CHUNK, check_size, render, size_pair


@keras.saving.register_keras_serializable(package="sr_lib")
class CPPNGenerator(keras.Model):
    """LR image ``(B, h, w, C)`` -> SR image; ``call`` draws ``out_size``, :meth:`upscale` any size.

    ``encoder`` is :func:`sr_lib.models.build_encoder` (``[z_mean, z_log_var, z]``, the KL term
    added as a layer loss), ``cppn`` is :func:`sr_lib.models.build_cppn` with ``hidden`` units,
    ``depth`` layers, ``activation``, coordinate ``scale`` and weights ~ N(0, ``init_stddev``^2).
    While training, ``call`` decodes a sampled ``z``; at inference ``z_mean``.
    """

    def __init__(self, lr_shape=(26, 26, 1), out_size=28, latent_dim=128, residual=True,
                 hidden=64, depth=4, activation="tanh", scale=3.0, init_stddev=0.2,
                 kl_weight=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.lr_shape = tuple(int(s) for s in lr_shape)
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

    def encode(self, lr, batch_size=1000):
        """``z_mean`` of each LR image: (B, latent_dim) numpy (the latent :meth:`upscale` uses)."""
        lr = self._check_lr(lr)
        return np.concatenate([np.asarray(self.encoder(lr[i:i + batch_size], training=False)[0])
                               for i in range(0, len(lr), batch_size)])

    def upscale(self, lr, size, batch_size=256, chunk=DEFAULT_CHUNK, progress=False):
        """SR images of ``lr`` (B, h, w, 1) at ``size`` (int or (H, W)): float32 numpy in [0, 1].

        ``z_mean`` of each image drives the CPPN over the pixel-centre grid of ``size`` via
        :func:`sr_lib.rendering.render` (chunked, bounded memory); at ``out_size`` this equals
        ``call`` at inference.
        """
        height, width = size_pair(size)
        lr = self._check_lr(lr)
        check_size(height, width, len(lr))
        z = self.encode(lr)
        out = []
        for i in range(0, len(lr), batch_size):
            values = render(self.cppn, z[i:i + batch_size], height, width, chunk=chunk,
                            progress=progress)
            values = values.reshape(len(values), -1, 1)
            out.append(np.asarray(self._compose(values, lr[i:i + batch_size], (height, width))))
        return np.concatenate(out)

    def interpolate(self, lr_a, lr_b, steps, size):
        """Render ``steps`` latents on the line from ``z_mean(lr_a)`` to ``z_mean(lr_b)`` at
        ``size`` (latent-only decoding, no bicubic skip): ``(steps, H, W, 1)``."""
        if not isinstance(steps, int) or steps < 2:
            raise ValueError(f"steps must be an int >= 2, got {steps!r}")
        height, width = size_pair(size)
        za, zb = self.encode(np.stack([np.asarray(lr_a), np.asarray(lr_b)]))
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        return render(self.cppn, (1 - t) * za + t * zb, height, width)

    def _check_lr(self, lr):
        return image_batch(lr, f"{self.name} takes uint8 or float LR images shaped (batch, "
                               f"{self.lr_shape[0]}, {self.lr_shape[1]}, {self.lr_shape[2]})",
                           shape=self.lr_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.out_size, 1)

    def get_config(self):
        return {**super().get_config(), "lr_shape": list(self.lr_shape),
                "out_size": list(self.out_size), "latent_dim": self.latent_dim,
                "residual": self.residual, "hidden": self.hidden, "depth": self.depth,
                "activation": self.activation, "scale": self.scale,
                "init_stddev": self.init_stddev, "kl_weight": self.kl_weight, "seed": self.seed}


def build_cppn_generator(lr_shape=(26, 26, 1), latent_dim=128, out_size=28, residual=True,
                         hidden=64, depth=4, activation="tanh", scale=3.0, init_stddev=0.2,
                         kl_weight=1.0, seed=None):
    """A built :class:`CPPNGenerator`: encoder -> ``z`` -> CPPN over an ``out_size`` grid.

    ``lr_shape`` is (h, w, 1); the trained weights then :meth:`~CPPNGenerator.upscale` to any
    size. Named ``cppn_gan_residual`` or ``cppn_gan_latent``.
    """
    name = "cppn_gan_residual" if residual else "cppn_gan_latent"
    if len(tuple(lr_shape)) != 3 or min(lr_shape) <= 0:
        raise ValueError(f"lr_shape must be (height, width, 1), got {lr_shape!r}")
    model = CPPNGenerator(lr_shape, out_size, latent_dim, residual, hidden, depth, activation,
                          scale, init_stddev, kl_weight, seed, name=name)
    model.build((None, *model.lr_shape))
    return model


def rms_gradient(images):
    """Sharpness: per-image root-mean-square gradient ``sqrt(mean(dx^2 + dy^2))`` (``tf.image``
    finite differences) of images in [0, 1], shaped (N, H, W, C). Blurry images score low.

    The mean gradient *magnitude* is not used: it is the total variation, which a blur of a
    monotone edge leaves unchanged; the squared gradient drops as an edge spreads out.
    """
    images = tf.convert_to_tensor(np.asarray(images, np.float32))
    if images.shape.rank != 4:
        raise ValueError(f"images must be (N, H, W, C), got {tuple(images.shape)}")
    dy, dx = tf.image.image_gradients(images)
    return tf.sqrt(tf.reduce_mean(dx * dx + dy * dy, axis=[1, 2, 3]))
