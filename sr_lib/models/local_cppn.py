"""Local-latent CPPN: arbitrary-scale SR, each output pixel decoded by a coordinate MLP from the
four LR codes around it, blended by area (LIIF's local ensemble), plus a bilinear LR sample."""

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from sr_lib.coords import check_int, check_pixels, grid
from sr_lib.rendering import (BLOCK, DEFAULT_CHUNK, blocks, chunk_size, pixel_coords, progress_bar,
                              run_chunks)
from sr_lib.runtime import usable_cores

SHIFTS = ((-1, -1), (-1, 1), (1, -1), (1, 1))  # (dy, dx) to the four surrounding LR cells
TILE = 256  # LR pixels a side encoded at once (plus the encoder's halo): bounds upscale's memory
ENCODE_PIXELS = 2**17  # LR pixels (crop x images) per encoder call


def neighbours(u, v, height, width):
    """The four LR cells around positions ``u``, ``v`` (Q,) in LR pixels: rows ``iy``, columns
    ``ix`` (4, Q) int32, offsets ``rel`` (4, Q, 2) and bilinear ``weight`` (4, Q)."""
    h, w = ops.cast(height, "float32"), ops.cast(width, "float32")
    u0, v0 = ops.floor(u), ops.floor(v)
    rows, cols, rel, area = [], [], [], []
    for dy, dx in SHIFTS:
        ix = ops.clip(u0 + (dx + 1) // 2, 0.0, w - 1.0)
        iy = ops.clip(v0 + (dy + 1) // 2, 0.0, h - 1.0)
        rx, ry = u - ix, v - iy
        rows.append(ops.cast(iy, "int32"))
        cols.append(ops.cast(ix, "int32"))
        rel.append(ops.stack([rx, ry], axis=-1))
        area.append(ops.abs(rx * ry) + 1e-9)
    area = [area[3], area[2], area[1], area[0]]
    total = area[0] + area[1] + area[2] + area[3]
    return ops.stack(rows), ops.stack(cols), ops.stack(rel), ops.stack([a / total for a in area])


def lr_position(coords, height, width):
    """Query ``coords`` (Q, 2) in [-1, 1] as positions ``u``, ``v`` in LR pixel units."""
    w, h = ops.cast(width, "float32"), ops.cast(height, "float32")
    return (coords[:, 0] + 1.0) * w / 2.0 - 0.5, (coords[:, 1] + 1.0) * h / 2.0 - 0.5


def ensemble_neighbours(height, width, coords):
    """:func:`neighbours` of ``coords`` (Q, 2) as flat ``index`` (4, Q), ``rel``, ``weight``."""
    rows, cols, rel, weight = neighbours(*lr_position(coords, height, width), height, width)
    return rows * ops.cast(width, "int32") + cols, rel, weight


def tile_bands(lr_n, out_n, tile):
    """Bands ``(o0, o1, l0, l1)`` of ``out_n`` output pixels along one axis: output ``o0:o1`` reads
    about ``tile`` LR pixels ``l0:l1`` of ``lr_n`` (a spare each side against float32 rounding)."""
    if lr_n <= tile:
        return [(0, out_n, 0, lr_n)]
    step = max(1, tile * out_n // lr_n)
    bands = []
    for o0 in range(0, out_n, step):
        o1 = min(o0 + step, out_n)
        lo = int(np.floor((o0 + 0.5) * lr_n / out_n - 0.5)) - 1
        hi = int(np.floor((o1 - 0.5) * lr_n / out_n - 0.5)) + 3
        bands.append((o0, o1, max(0, lo), min(lr_n, hi)))
    return bands


TilePlan = NamedTuple("TilePlan", [(name, tf.Tensor) for name in (
    "out_h", "out_w", "lr_h", "lr_w", "y0", "x0", "tile_h", "tile_w", "r0", "c0", "n_rows",
    "n_cols", "images")])
TilePlan.__doc__ = """Where a tile of :meth:`LocalCPPN.upscale` sits, as int32 scalar tensors (one
trace of the decoder for every tile and size): output and LR sizes, the tile's origin and size,
the LR rows and columns it reads, the number of images (each count below MAX_PIXELS = 2**28)."""


@keras.saving.register_keras_serializable(package="sr_lib")
class LocalCPPN(keras.Model):
    """LR image (B, h, w, C) -> SR image at any size; ``call`` renders ``out_size``. ``features``,
    ``blocks`` size the conv encoder, ``hidden``, ``depth`` the MLP; ``unfold``: code kernel."""

    upscale_batch = 10_000  # images per upscale call (it bounds its own memory)

    def __init__(self, channels=1, features=48, blocks=3, hidden=48, depth=3, out_size=28,
                 unfold=3, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False  # mixed precision: the LR skip stays float32
        self.channels, self.features, self.blocks = channels, features, blocks
        self.hidden, self.depth, self.out_size, self.unfold = hidden, depth, out_size, unfold
        self.head = layers.Conv2D(features, 3, padding="same", name="head")
        self.body = [(layers.Conv2D(features, 3, padding="same", activation="relu"),
                      layers.Conv2D(features, 3, padding="same")) for _ in range(blocks)]
        for i, (a, b) in enumerate(self.body):
            a.name, b.name = f"block{i}_a", f"block{i}_b"  # stable weight names
        # the MLP's first layer, split: a k x k code projection per LR pixel, coords per query
        self.code_proj = layers.Conv2D(hidden, unfold, padding="same", name="code_proj")
        self.coord_proj = layers.Dense(hidden, use_bias=False, name="coord_proj")
        self.mlp = [layers.Dense(hidden, activation="relu", name=f"mlp{i}")
                    for i in range(depth - 1)]
        self.out = layers.Dense(channels, name="out")

    @property
    def halo(self):
        """LR pixels each side an encoder tile needs beyond its codes (the receptive radius)."""
        return 1 + 2 * self.blocks + self.unfold // 2

    def build(self, input_shape):
        self.encode(ops.zeros((1, 4, 4, input_shape[-1])))
        self.decode(ops.zeros((1, 4, self.hidden)), ops.zeros((1, 4, input_shape[-1])),
                    ops.zeros((4, 1), "int32"), ops.zeros((4, 1, 2)), ops.ones((4, 1)),
                    ops.ones((2,)))

    def encode(self, lr):
        """The grid of local latent codes, projected by the MLP's first layer: (B, h, w, hidden)."""
        y = x = self.head(lr)
        for conv_a, conv_b in self.body:
            y = y + conv_b(conv_a(y))
        return self.code_proj(x + y)

    def decode(self, codes, lr, index, rel, weight, cell):
        """(B, Q, C): the MLP's four predictions per query from flat grids ``codes``, ``lr`` at
        ``index``, blended by ``weight``; ``cell`` (2,): the output pixel's size in LR pixels."""
        queries = ops.shape(index)[1]
        rel = ops.reshape(rel, (-1, 2))
        geometry = ops.concatenate(
            [rel, ops.sqrt(ops.sum(rel ** 2, axis=-1, keepdims=True)),
             ops.broadcast_to(cell, ops.shape(rel))], axis=-1)
        flat = ops.reshape(index, (-1,))
        h = self.coord_proj(geometry)  # the MLP in its layers' precision (bfloat16 if mixed)
        h = ops.relu(ops.cast(ops.take(codes, flat, axis=-2), h.dtype) + h)
        for dense in self.mlp:
            h = dense(h)
        values = ops.cast(self.out(h), "float32") + ops.take(lr, flat, axis=-2)  # + an LR skip
        values = ops.reshape(values, (-1, 4, queries, self.channels))
        return ops.sum(weight[None, :, :, None] * values, axis=1)

    def upscale(self, lr, size, chunk=DEFAULT_CHUNK, progress=False, tile=TILE):
        """The float LR batch ``lr`` (B, h, w, C) at ``size`` (H, W), numpy in [0, 1] (the protocol
        of :class:`sr_lib.Upscaler`), in tiles of about ``tile`` LR pixels a side (plus the
        :attr:`halo`) and steps of about ``chunk`` pixels (few shapes: new sizes reuse the compiled
        steps); tiled equals untiled to float32 rounding, chunked equals unchunked exactly."""
        lr = np.asarray(lr, np.float32)
        batch, lr_h, lr_w = lr.shape[:3]
        height, width = check_pixels(size, batch)
        check_int(chunk, "chunk", optional=True)
        tile = check_int(tile, "tile")
        rows, cols = tile_bands(lr_h, height, tile), tile_bands(lr_w, width, tile)
        tile_pixels = max(r[1] - r[0] for r in rows) * max(c[1] - c[0] for c in cols)
        crop = min(lr_h, max(r[3] - r[2] for r in rows) + 2 * self.halo) * min(
            lr_w, max(c[3] - c[2] for c in cols) + 2 * self.halo)
        group = max(1, min(batch, ENCODE_PIXELS // crop))  # encoder batch; not chunk's (rounding)
        count = chunk_size(max(tile_pixels * group, BLOCK + 1), 1, chunk)  # whole BLOCKs always
        span = max(r[3] - r[2] for r in rows) * max(c[3] - c[2] for c in cols) * group
        span = max(ENCODE_PIXELS, 1 << (span - 1).bit_length())  # one decoder shape (almost)
        steps = sum(-(-min(group, batch - g) * (r[1] - r[0]) * (c[1] - c[0]) // count)
                    for g in range(0, batch, group) for r in rows for c in cols)
        bar = progress_bar(steps, progress)
        out = np.empty((batch, height, width, self.channels), np.float32)
        encode, decode = self._compiled("encode"), self._compiled("decode_tile", jit=True)
        halo, warm = self.halo, False
        for g0 in range(0, batch, group):
            images = lr[g0:g0 + group]
            for y0, y1, r0, r1 in rows:
                for x0, x1, c0, c1 in cols:
                    a, b = max(0, r0 - halo), max(0, c0 - halo)
                    codes = encode(images[:, a:r1 + halo, b:c1 + halo])[
                        :, r0 - a:r1 - a, c0 - b:c1 - b]
                    pad = [[0, span - int(np.prod(codes.shape[:3]))], [0, 0]]
                    codes = tf.pad(tf.reshape(codes, (-1, self.hidden)), pad)
                    skip = tf.pad(tf.reshape(images[:, r0:r1, c0:c1], (-1, self.channels)), pad)
                    where = TilePlan(*(tf.constant(v, tf.int32) for v in (
                        height, width, lr_h, lr_w, y0, x0, y1 - y0, x1 - x0, r0, c0, r1 - r0,
                        c1 - c0, len(images))))
                    shape = (len(images), y1 - y0, x1 - x0, self.channels)
                    values = np.empty((1, np.prod(shape[:3]), self.channels), np.float32)
                    run_chunks(lambda start, n: decode(codes, skip, where, start, n), values,
                               count, workers=usable_cores(), bar=bar, warm=warm)
                    warm = True
                    out[g0:g0 + len(images), y0:y1, x0:x1] = values.reshape(shape)
        return out

    def decode_tile(self, codes, lr, where, start, count):
        """Clipped values of pixels ``start .. start+count-1`` of the tile ``where`` places."""
        out_h, out_w, lr_h, lr_w, y0, x0, tile_h, tile_w, r0, c0, n_rows, n_cols, images = where
        cell = tf.stack([2.0 / tf.cast(out_w, tf.float32), 2.0 / tf.cast(out_h, tf.float32)])
        cell = cell * tf.cast(tf.stack([lr_w, lr_h]), tf.float32) / 2.0
        start = tf.cast(start, tf.int32)

        def block(offset, n):
            pixel = tf.minimum(start + tf.cast(offset, tf.int32) + tf.range(n),
                               images * tile_h * tile_w - 1)
            image, pixel = pixel // (tile_h * tile_w), pixel % (tile_h * tile_w)
            coords = pixel_coords(y0 + pixel // tile_w, x0 + pixel % tile_w, out_h, out_w)
            iy, ix, rel, weight = neighbours(*lr_position(coords, lr_h, lr_w), lr_h, lr_w)
            index = (image * n_rows - r0)[None] * n_cols + iy * n_cols + ix - c0
            return ops.clip(self.decode(codes, lr, index, rel, weight, cell), 0.0, 1.0)

        return blocks(block, count)

    def _compiled(self, name, jit=False):
        fns = self.__dict__.setdefault("_sr_compiled", {})
        if name not in fns:
            fns[name] = tf.function(getattr(self, name), reduce_retracing=not jit,
                                    jit_compile=jit, autograph=False)
        return fns[name]

    def call(self, lr, training=None):
        codes = self.encode(lr)
        size, height, width = self.out_size, ops.shape(codes)[1], ops.shape(codes)[2]
        index, rel, weight = ensemble_neighbours(height, width, grid(size, size)[:, :2])
        cell = ops.convert_to_tensor([2.0 / size, 2.0 / size])
        cell = cell * ops.cast(ops.stack([width, height]), "float32") / 2.0
        out = self.decode(ops.reshape(codes, (ops.shape(codes)[0], -1, self.hidden)),
                          ops.reshape(lr, (ops.shape(lr)[0], -1, self.channels)),
                          index, rel, weight, cell)
        out = ops.reshape(out, (-1, size, size, self.channels))
        return out if training else ops.clip(out, 0.0, 1.0)

    def grow_from(self, other):
        """Take a shallower trained ``other``'s weights, layer by layer, and start each block it
        lacks as the identity (its second conv zero), so this model computes what ``other`` does.
        Every other size must match; else a one-line ``ValueError``."""
        mine = self.get_config()
        theirs = other.get_config() if isinstance(other, LocalCPPN) else {}
        differ = [k for k in ("channels", "features", "hidden", "depth", "unfold")
                  if mine[k] != theirs.get(k)]
        if differ or not 0 < theirs["blocks"] <= self.blocks:
            raise ValueError(f"cannot grow {self.blocks} blocks from that model: "
                             f"{', '.join(differ) or 'blocks'} differ(s)")
        source = {layer.name: layer for layer in other.parts()}
        for layer in self.parts():
            if layer.name in source:
                layer.set_weights(source[layer.name].get_weights())
            elif layer.name.endswith("_b"):  # an added block: y + 0 at the start
                layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])

    def parts(self):
        """Every layer, encoder first, each under its stable name."""
        return [self.head, *(conv for pair in self.body for conv in pair), self.code_proj,
                self.coord_proj, *self.mlp, self.out]

    def get_config(self):
        return {**super().get_config(), **{name: getattr(self, name) for name in (
            "channels", "features", "blocks", "hidden", "depth", "out_size", "unfold")}}


def build_local_cppn(channels=1, features=48, blocks=3, hidden=48, depth=3, out_size=28, unfold=3):
    """A built :class:`LocalCPPN` (see the class for the parameters, each with a named limit)."""
    for name, value, high in (("features", features, 4096), ("hidden", hidden, 4096),
                              ("blocks", blocks, 64), ("depth", depth, 64), ("unfold", unfold, 15)):
        check_int(value, name, 1, high)
    model = LocalCPPN(channels, features, blocks, hidden, depth, out_size, unfold)
    model.build((None, None, None, channels))
    return model
