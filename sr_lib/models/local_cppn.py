"""Local-latent CPPN: arbitrary-scale super-resolution with a grid of local latent codes.

A convolutional encoder turns the LR image into a feature grid at LR resolution (one latent code
per LR pixel, no global bottleneck). Each output pixel is decoded by a small coordinate MLP (the
CPPN) from the four codes around it, its position relative to each code and the size of the
output pixel (the "cell"); the four predictions are blended by area (LIIF's local ensemble,
Chen et al., CVPR 2021) and added to a bilinear sample of the LR image. One set of weights
renders any output size.

Coordinates follow :mod:`sr_lib.coords`: pixel centres of the square [-1, 1]^2.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from sr_lib.coords import grid
from sr_lib.data import image_batch
from sr_lib.rendering import MIN_CHUNK, check_size, chunk_coords, size_pair

DEFAULT_CHUNK = 2**15

SHIFTS = ((-1, -1), (-1, 1), (1, -1), (1, 1))  # (dy, dx) to the four surrounding LR cells


def ensemble_neighbours(height, width, coords):
    """The four LR cells around each query and their area weights.

    ``coords`` is (Q, 2) (x, y) in [-1, 1]. Returns ``index`` (4, Q) int32 into the flattened
    (height*width) grid, ``rel`` (4, Q, 2) the query's (x, y) offset from each cell centre in
    LR pixels, and ``weight`` (4, Q) that sum to 1 (bilinear
    weights, so blending LR values with them is bilinear interpolation).
    """
    h = ops.cast(height, "float32")
    w = ops.cast(width, "float32")
    # position in LR pixel units: cell i has its centre at u = i
    u = (coords[:, 0] + 1.0) * w / 2.0 - 0.5
    v = (coords[:, 1] + 1.0) * h / 2.0 - 0.5
    u0, v0 = ops.floor(u), ops.floor(v)
    index, rel, area = [], [], []
    for dy, dx in SHIFTS:
        ix = ops.clip(u0 + (dx + 1) // 2, 0.0, w - 1.0)
        iy = ops.clip(v0 + (dy + 1) // 2, 0.0, h - 1.0)
        rx, ry = u - ix, v - iy
        index.append(ops.cast(iy * w + ix, "int32"))
        rel.append(ops.stack([rx, ry], axis=-1))
        area.append(ops.abs(rx * ry) + 1e-9)
    # LIIF: each prediction is weighted by the area of the diagonally opposite sub-rectangle
    area = [area[3], area[2], area[1], area[0]]
    total = area[0] + area[1] + area[2] + area[3]
    return ops.stack(index), ops.stack(rel), ops.stack([a / total for a in area])


@keras.saving.register_keras_serializable(package="sr_lib")
class LocalCPPN(keras.Model):
    """LR image (B, h, w, C) -> SR image at any size; ``call`` renders ``out_size``.

    ``features``/``blocks`` size the residual conv encoder, ``hidden``/``depth`` the coordinate
    MLP shared by every output pixel; ``unfold`` is the kernel size of the code projection (3:
    every code sees its 3x3 neighbourhood, LIIF's feature unfolding).
    """

    def __init__(self, channels=1, features=48, blocks=3, hidden=48, depth=3, out_size=28,
                 unfold=3, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.features, self.blocks = channels, features, blocks
        self.hidden, self.depth, self.out_size, self.unfold = hidden, depth, out_size, unfold
        self.head = layers.Conv2D(features, 3, padding="same", name="head")
        self.body = [(layers.Conv2D(features, 3, padding="same", activation="relu"),
                      layers.Conv2D(features, 3, padding="same")) for _ in range(blocks)]
        for i, (a, b) in enumerate(self.body):
            a.name, b.name = f"block{i}_a", f"block{i}_b"  # noqa: B010 (stable weight names)
        # the MLP's first layer, split: codes are projected once per LR pixel, coordinates per query
        # a k x k projection reads each code's neighbourhood once per LR pixel, not per query
        self.code_proj = layers.Conv2D(hidden, unfold, padding="same", name="code_proj")
        self.coord_proj = layers.Dense(hidden, use_bias=False, name="coord_proj")
        self.mlp = [layers.Dense(hidden, activation="relu", name=f"mlp{i}")
                    for i in range(depth - 1)]
        self.out = layers.Dense(channels, name="out")

    def build(self, input_shape):
        self.encode(ops.zeros((1, 4, 4, input_shape[-1])))
        self.decode(ops.zeros((1, 4, 4, self.hidden)), ops.zeros((1, 4, 4, input_shape[-1])),
                    ops.zeros((1, 2)), ops.ones((2,)))

    def encode(self, lr):
        """The grid of local latent codes, projected by the MLP's first layer: (B, h, w, hidden)."""
        x = self.head(lr)
        y = x
        for conv_a, conv_b in self.body:
            y = y + conv_b(conv_a(y))
        return self.code_proj(x + y)

    def decode(self, codes, lr, coords, cell):
        """Values at query ``coords`` (Q, 2) for output pixels of size ``cell`` (2,): (B, Q, C)."""
        batch, height, width = ops.shape(codes)[0], ops.shape(codes)[1], ops.shape(codes)[2]
        index, rel, weight = ensemble_neighbours(height, width, coords)
        codes = ops.reshape(codes, (batch, -1, self.hidden))
        lr = ops.reshape(lr, (batch, -1, self.channels))
        cell = cell * ops.stack([ops.cast(width, "float32"), ops.cast(height, "float32")]) / 2.0
        out = 0.0
        for k in range(4):
            geometry = ops.concatenate(
                [rel[k], ops.sqrt(ops.sum(rel[k] ** 2, axis=-1, keepdims=True)),
                 ops.broadcast_to(cell, ops.shape(rel[k]))], axis=-1)
            h = ops.take(codes, index[k], axis=1) + self.coord_proj(geometry)[None]
            h = ops.relu(h)
            for dense in self.mlp:
                h = dense(h)
            skip = ops.take(lr, index[k], axis=1)  # blended below: bilinear LR skip
            out = out + weight[k][None, :, None] * (self.out(h) + skip)
        return out

    def upscale(self, lr, size, chunk=DEFAULT_CHUNK, batch_size=256, progress=False):
        """Render ``lr`` (B, h, w, C) at ``size`` (H, W) as a float32 numpy array in [0, 1].

        Images go through in groups of ``batch_size``; for each group the encoder runs once and
        the decoder over ``chunk`` output pixels (summed over the group) at a time, in compiled
        functions traced once per shape. Memory stays bounded at any size and batch, and neither
        grouping nor chunking changes the result.
        """
        lr = self._check_lr(lr)
        height, width = size_pair(size)
        check_size(height, width)
        n = height * width
        out = np.empty((len(lr), n, self.channels), np.float32)
        groups = range(0, len(lr), batch_size)
        per_group = max(MIN_CHUNK, min(int(chunk) // min(batch_size, len(lr)),
                                       1 << (n - 1).bit_length()))
        steps = [(g, start) for g in groups for start in range(0, n, per_group)]
        bar = keras.utils.Progbar(len(steps), unit_name="chunk") if progress else None
        encode, decode = self._compiled("encode"), self._compiled("decode_chunk")
        codes = None
        for i, (g, start) in enumerate(steps):
            group = tf.constant(lr[g:g + batch_size])
            if start == 0:
                codes = encode(group)
            values = decode(codes, group, tf.constant(start, tf.int64),
                            tf.constant(height, tf.int64), tf.constant(width, tf.int64), per_group)
            stop = min(start + per_group, n)
            out[g:g + batch_size, start:stop] = values.numpy()[:, :stop - start]
            if bar is not None:
                bar.update(i + 1)
        return out.reshape(len(lr), height, width, self.channels)

    def decode_chunk(self, codes, lr, start, height, width, count):
        """Clipped values of the row-major output pixels ``start .. start+count-1``."""
        coords = chunk_coords(start, count, height, width)[:, :2]
        cell = tf.stack([2.0 / tf.cast(width, tf.float32), 2.0 / tf.cast(height, tf.float32)])
        return ops.clip(self.decode(codes, lr, coords, cell), 0.0, 1.0)

    def _compiled(self, name):
        fns = self.__dict__.setdefault("_sr_compiled", {})
        if name not in fns:
            fns[name] = tf.function(getattr(self, name), reduce_retracing=True, autograph=False)
        return fns[name]

    def _check_lr(self, lr):
        return image_batch(lr, "lr must be a batch of uint8 or float images shaped (batch, "
                               f"height, width, {self.channels})", channels=self.channels)

    def call(self, lr, training=None):
        codes = self.encode(lr)
        size = self.out_size
        coords = ops.convert_to_tensor(grid(size, size)[:, :2])
        cell = ops.convert_to_tensor([2.0 / size, 2.0 / size])
        out = self.decode(codes, lr, coords, cell)
        out = ops.reshape(out, (-1, size, size, self.channels))
        return out if training else ops.clip(out, 0.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "features": self.features,
                "blocks": self.blocks, "hidden": self.hidden, "depth": self.depth,
                "out_size": self.out_size, "unfold": self.unfold}


def build_local_cppn(channels=1, features=48, blocks=3, hidden=48, depth=3, out_size=28,
                     unfold=3):
    """A built :class:`LocalCPPN` (see the class for the parameters)."""
    model = LocalCPPN(channels, features, blocks, hidden, depth, out_size, unfold)
    model.build((None, None, None, channels))
    return model
