"""Render a CPPN (or any ``(coords, z) -> values`` model) at any resolution, in bounded memory.

The image is computed in chunks of ``chunk`` pixels. Each chunk's coordinates are generated
from its pixel indices inside a ``tf.function`` (the full ``(H*W, 3)`` grid is never built), and
the function has one fixed chunk shape, so it is traced once per model, chunk size and batch
size, never per image size or per call (an image smaller than a chunk uses the next power of
two). Pixels are independent, so a chunked render equals an unchunked one exactly; chunks are at
least ``MIN_CHUNK`` pixels (the last one padded) because XLA switches to differently-rounding
kernels for very small matrix products.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

MAX_PIXELS = 2**28  # 16384 x 16384: larger renders must be asked for explicitly
DEFAULT_CHUNK = 2**15
MIN_CHUNK = 1024  # pixels per image per step

_RENDERERS = weakref.WeakKeyDictionary()  # model -> its tf.function


def chunk_coords(start, count, height, width):
    """``(count, 3)`` float32 rows (x, y, r) of row-major pixels ``start .. start+count-1``.

    Same values as :func:`sr_lib.coords.grid` (scale 1); indices past the last pixel continue
    below the image, which pads the last chunk with harmless extra rows.
    """
    idx = tf.cast(start, tf.int64) + tf.range(count, dtype=tf.int64)
    width = tf.cast(width, tf.int64)
    row, col = idx // width, idx % width

    def centre(i, n):  # float64 then float32, exactly like coords.axis
        return tf.cast(-1.0 + (2.0 * tf.cast(i, tf.float64) + 1.0) / tf.cast(n, tf.float64),
                       tf.float32)

    x, y = centre(col, width), centre(row, height)
    return tf.stack([x, y, tf.sqrt(x * x + y * y)], axis=-1)


def _renderer(model):
    """The model's render step ``(start, z, height, width, count, uint8) -> (batch, count, C)``."""
    fn = _RENDERERS.get(model)
    if fn is None:
        @tf.function(jit_compile=True)
        def fn(start, z, height, width, count, uint8):
            coords = chunk_coords(start, count, height, width)
            coords = tf.broadcast_to(coords, (tf.shape(z)[0], count, 3))
            values = model([coords, z], training=False)
            if uint8:
                values = tf.cast(tf.round(values * 255.0), tf.uint8)
            return values

        _RENDERERS[model] = fn
    return fn


_POOLS = {}


def _pool(workers):
    """A shared thread pool (new threads per render would grow memory render after render)."""
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix="sr_lib-render")
    return _POOLS[workers]


def size_pair(size, name="size"):
    """``N`` or ``(H, W)`` -> ``(H, W)`` of positive ints, else ``ValueError``."""
    pair = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(pair) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0
                             for s in pair):
        raise ValueError(f"{name} must be a positive int or (height, width), got {size!r}")
    return int(pair[0]), int(pair[1])


def check_size(height, width, batch=1, max_pixels=MAX_PIXELS):
    """Raise ``ValueError`` unless ``height``/``width`` are positive ints within ``max_pixels``."""
    for name, n in (("height", height), ("width", width)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    total = int(batch) * int(height) * int(width)
    if total > max_pixels:
        raise ValueError(f"{height}x{width} (x{batch}) = {total:,} pixels is more than the "
                         f"limit of {max_pixels:,} (max_pixels); render smaller")


def render(model, z, height, width, chunk=DEFAULT_CHUNK, dtype="float32", progress=False,
           max_pixels=MAX_PIXELS, workers=None):
    """Render ``model`` for latent(s) ``z`` at ``height x width``.

    Args:
        model: a ``(coords, z) -> (batch, pixels, channels)`` model, e.g. ``build_cppn(...)``.
        z: ``(latent_dim,)`` for one image or ``(batch, latent_dim)`` for several.
        chunk: pixels computed per step, summed over the batch (bounds memory; at least
            ``MIN_CHUNK`` per image); ``None``: the whole image in one step.
        dtype: ``"float32"`` (values in [0, 1]) or ``"uint8"`` (0..255).
        progress: show a ``keras.utils.Progbar`` over the chunks.
        max_pixels: refuse renders of more pixels (batch included) than this.
        workers: chunks computed in parallel threads (default: one per CPU core).

    Returns:
        ``(height, width, channels)``, or ``(batch, height, width, channels)`` for a batch of z.
    """
    z = np.asarray(z, dtype=np.float32)
    single = z.ndim == 1
    z = z[None] if single else z
    latent_dim = model.inputs[1].shape[-1]
    if z.ndim != 2 or z.shape[1] != latent_dim or z.shape[0] == 0:
        raise ValueError(f"z must have shape ({latent_dim},) or (batch, {latent_dim}), "
                         f"got {np.shape(z)}")
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
    check_size(height, width, len(z), max_pixels)
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer))
                              or chunk <= 0):
        raise ValueError(f"chunk must be a positive int or None, got {chunk!r}")
    if workers is not None and (not isinstance(workers, int) or workers <= 0):
        raise ValueError(f"workers must be a positive int or None, got {workers!r}")

    batch, n = len(z), height * width
    if chunk is None:
        count = n
    else:  # small images: the next power of two, so a few shapes serve every size
        count = min(int(chunk) // batch, 1 << (n - 1).bit_length())
    count = max(count, MIN_CHUNK)  # pixels per image per step
    channels = model.outputs[0].shape[-1]
    out = np.empty((batch, n, channels), dtype=dtype)
    fn = _renderer(model)
    z_t, h_t, w_t = tf.constant(z), tf.constant(height, tf.int64), tf.constant(width, tf.int64)

    def step(start):  # compute one chunk and write it into its slice of the output
        values = fn(tf.constant(start, tf.int64), z_t, h_t, w_t, count, dtype == "uint8")
        stop = min(start + count, n)
        out[:, start:stop] = values.numpy()[:, :stop - start]

    starts = range(0, n, count)
    bar = None
    if progress:
        import keras
        bar = keras.utils.Progbar(len(starts), unit_name="chunk")
    step(0)  # compiles if needed, before threads share the function
    if bar is not None:
        bar.update(1)
    workers = min(workers or os.cpu_count() or 1, len(starts) - 1)
    if workers <= 1:
        for i, start in enumerate(starts[1:], start=2):
            step(start)
            if bar is not None:
                bar.update(i)
    else:  # XLA runs each chunk on one core: spread chunks over long-lived threads
        for i, _ in enumerate(_pool(workers).map(step, starts[1:]), start=2):
            if bar is not None:
                bar.update(i)
    out = out.reshape(batch, height, width, channels)
    return out[0] if single else out


def to_uint8(image):
    """Float [0, 1] -> uint8 0..255 (uint8 input is returned unchanged)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(image, path):
    """Write an ``(H, W, 1 or 3)`` float [0, 1] or uint8 image (PNG, JPEG, ... by extension)."""
    from PIL import Image

    image = to_uint8(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    Image.fromarray(image).save(path)
    return path


def show_images(images, titles=None, cols=None, inches=3.0, pixels=400, normalize=False):
    """Display images in a row (or ``cols`` per row), each downsampled to at most ``pixels``.

    Big renders are previewed small so notebooks stay light; small ones are drawn with visible
    pixels. ``normalize`` stretches each image's own range to [0, 1] (e.g. coordinate channels).
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    from sr_lib.plots import show

    images = list(images)
    cols = cols or len(images)
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(inches * cols, inches * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        image = np.asarray(images[i], dtype=None)
        if normalize:
            image = (image - image.min()) / max(float(image.max() - image.min()), 1e-12)
        image = to_uint8(image)
        image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        if max(image.shape[:2]) > pixels:
            h, w = image.shape[:2]
            factor = pixels / max(h, w)
            image = np.asarray(Image.fromarray(image).resize(
                (max(1, round(w * factor)), max(1, round(h * factor))), Image.LANCZOS))
        ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if titles:
            ax.set_title(titles[i], fontsize=10)
    fig.tight_layout()
    show(fig, dpi=72)
