"""Local-latent CPPN: arbitrary-scale super-resolution with a grid of local latent codes.

A conv encoder keeps one latent code per LR pixel (no global bottleneck); each output pixel is
decoded by a small coordinate MLP (the CPPN) from the four codes around it, its offset from each
and the output pixel's size (the "cell"), blended by area (LIIF's local ensemble, Chen et al.,
CVPR 2021) and added to a bilinear sample of the LR image. Coordinates: :mod:`sr_lib.coords`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from sr_lib.coords import check_pixels, grid
from sr_lib.rendering import DEFAULT_CHUNK, chunk_coords, render_chunks

SHIFTS = ((-1, -1), (-1, 1), (1, -1), (1, 1))  # (dy, dx) to the four surrounding LR cells


def ensemble_neighbours(height, width, coords):
    """The four LR cells around each query ``coords`` (Q, 2): ``index`` (4, Q) into the flat
    (height*width) grid, ``rel`` (4, Q, 2) the offsets from their centres in LR pixels, and
    ``weight`` (4, Q), which sum to 1 and are bilinear interpolation's weights."""
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

    def upscale(self, lr, size, chunk=DEFAULT_CHUNK, progress=False):
        """Render the float LR batch ``lr`` (B, h, w, C) at ``size`` (H, W): numpy in [0, 1].

        The any-size protocol :class:`sr_lib.Upscaler` drives (use ``sr_lib.upscale`` for uint8,
        single images and scales). The encoder runs once; the decoder goes over ``chunk`` output
        pixels (summed over the batch) at a time through :func:`sr_lib.rendering.render_chunks`,
        compiled once per shape. Chunking does not change the result.
        """
        lr = tf.constant(lr, tf.float32)
        height, width = check_pixels(size, int(lr.shape[0]))
        codes = self._compiled("encode")(lr)
        decode = self._compiled("decode_chunk")
        h_t, w_t = tf.constant(height, tf.int64), tf.constant(width, tf.int64)
        return render_chunks(lambda start, count: decode(codes, lr, start, h_t, w_t, count),
                             int(lr.shape[0]), (height, width), self.channels, chunk=chunk,
                             progress=progress)

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
    """A built :class:`LocalCPPN` (see the class for the parameters, each with a named limit)."""
    for name, value, high in (("features", features, 4096), ("hidden", hidden, 4096),
                              ("blocks", blocks, 64), ("depth", depth, 64), ("unfold", unfold, 15)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ValueError(f"{name} must be an int from 1 to {high}, got {value!r}")
    model = LocalCPPN(channels, features, blocks, hidden, depth, out_size, unfold)
    model.build((None, None, None, channels))
    return model
