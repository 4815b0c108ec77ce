"""The one chunked rendering engine (any output size in bounded memory) and the CPPN render.

:func:`render_chunks` computes a batch of images ``count`` pixels at a time through a step that
makes each chunk's coordinates from its pixel indices (:func:`chunk_coords`), so the full grid is
never built. ``count`` is a power of two of at least ``MIN_CHUNK``, fixed per call (the last chunk
padded): compiled steps trace once per model, chunk and batch size, and a chunked render equals an
unchunked one exactly (XLA's CPU kernels round differently for tiny and ragged products). Used by
:func:`render` (CPPNs) and :meth:`sr_lib.models.LocalCPPN.upscale`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

from sr_lib.coords import MAX_PIXELS, check_pixels, size_pair

DEFAULT_CHUNK = 2**15  # output pixels per step, summed over the batch
MIN_CHUNK = 1024  # pixels per image per step

_POOL = {}


def usable_cores():
    """The CPU cores this process may run on (``os.sched_getaffinity``), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def release_threads():
    """Shut down the render thread pool (it is re-created on demand)."""
    pool = _POOL.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=True)


def _pool(workers):
    """One long-lived pool (threads made per render would grow TF's memory render after render)."""
    pool = _POOL.get("pool")
    if pool is None or pool._max_workers != workers:
        release_threads()
        pool = _POOL["pool"] = ThreadPoolExecutor(workers, thread_name_prefix="sr_lib-render")
    return pool


def chunk_coords(start, count, height, width):
    """``(count, 3)`` float32 rows (x, y, r) of row-major pixels ``start .. start+count-1``, the
    values of :func:`sr_lib.coords.grid`; indices past the end pad the last chunk harmlessly."""
    idx = tf.cast(start, tf.int64) + tf.range(count, dtype=tf.int64)
    width = tf.cast(width, tf.int64)
    row, col = idx // width, idx % width

    def centre(i, n):  # float64 then float32, exactly like coords.axis
        return tf.cast(-1.0 + (2.0 * tf.cast(i, tf.float64) + 1.0) / tf.cast(n, tf.float64),
                       tf.float32)

    x, y = centre(col, width), centre(row, height)
    return tf.stack([x, y, tf.sqrt(x * x + y * y)], axis=-1)


def chunk_size(n, batch, chunk=DEFAULT_CHUNK):
    """Pixels per image per step for ``batch`` images of ``n`` pixels (``chunk=None``: all)."""
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer))
                              or chunk <= 0):
        raise ValueError(f"chunk must be a positive int or None, got {chunk!r}")
    whole = 1 << (n - 1).bit_length()  # all pixels, padded to a power of two like every chunk
    count = whole if chunk is None else min(1 << max(int(chunk) // batch, 1).bit_length() - 1, whole)
    return max(count, MIN_CHUNK)


def render_chunks(step, batch, size, channels, *, chunk=DEFAULT_CHUNK, dtype="float32",
                  progress=False, workers=1):
    """Run ``step(start, count) -> (batch, count, channels)`` over every chunk of ``size``.

    ``start`` is an int64 tensor, ``count`` a Python int fixed for the whole call. ``workers > 1``
    computes chunks in a shared thread pool (worth it for XLA steps, which use one core each).
    Returns a ``(batch, height, width, channels)`` numpy array of ``dtype``.
    """
    height, width = size_pair(size)
    n = height * width
    count = chunk_size(n, batch, chunk)
    out = np.empty((batch, n, channels), dtype=dtype)

    def run(start):  # one chunk, written into its slice of the output
        values = step(tf.constant(start, tf.int64), count)
        stop = min(start + count, n)
        out[:, start:stop] = np.asarray(values)[:, :stop - start]

    starts = range(0, n, count)
    bar = None
    if progress:
        import keras
        bar = keras.utils.Progbar(len(starts), unit_name="chunk")
    run(0)  # compiles if needed, before threads share the step
    done = iter(range(2, len(starts) + 1))
    if bar is not None:
        bar.update(1)
    workers = min(workers, len(starts) - 1)
    results = (_pool(workers).map(run, starts[1:]) if workers > 1
               else (run(s) for s in starts[1:]))
    for _ in results:
        i = next(done)
        if bar is not None:
            bar.update(i)
    return out.reshape(batch, height, width, channels)


def _cppn_step(model):
    """The CPPN's compiled step ``(start, z, height, width, count, uint8) -> (batch, count, C)``,
    kept on the model itself (so it is freed with it)."""
    fn = model.__dict__.get("_sr_render_step")
    if fn is None:
        @tf.function(jit_compile=True)
        def fn(start, z, height, width, count, uint8):
            coords = chunk_coords(start, count, height, width)
            coords = tf.broadcast_to(coords, (tf.shape(z)[0], count, 3))
            values = model([coords, z], training=False)
            if uint8:
                values = tf.cast(tf.round(values * 255.0), tf.uint8)
            return values

        model.__dict__["_sr_render_step"] = fn
    return fn


def render(model, z, size, chunk=DEFAULT_CHUNK, dtype="float32", progress=False,
           max_pixels=MAX_PIXELS, workers=None):
    """Render the CPPN ``model`` (``(coords, z) -> (batch, pixels, C)``, e.g. ``build_cppn``) for
    ``z`` of shape ``(latent_dim,)`` or ``(batch, latent_dim)`` at ``size`` (``N`` or ``(H, W)``):
    ``(H, W, C)`` or ``(batch, H, W, C)`` of ``dtype`` (``"float32"`` in [0, 1] or ``"uint8"``).

    ``chunk`` pixels (summed over the batch; ``None``: all) are computed per step, in ``workers``
    threads (default: the cores this process may use); more than ``max_pixels`` (batch
    included) is refused; ``progress`` shows a ``keras.utils.Progbar`` over the chunks.
    """
    z = np.asarray(z, dtype=np.float32)
    single = z.ndim == 1
    z = z[None] if single else z
    latent_dim = model.inputs[1].shape[-1]
    if z.ndim != 2 or z.shape[1] != latent_dim or z.shape[0] == 0:
        raise ValueError(f"z must have shape ({latent_dim},) or (batch, {latent_dim}), "
                         f"got {np.shape(z)}")
    if not np.isfinite(z).all():
        raise ValueError("z contains NaN or infinite values")
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
    height, width = check_pixels(size, len(z), max_pixels)
    chunk_size(1, 1, chunk)  # validates chunk before anything is compiled
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers <= 0):
        raise ValueError(f"workers must be a positive int or None, got {workers!r}")
    fn = _cppn_step(model)
    z_t, h_t, w_t = tf.constant(z), tf.constant(height, tf.int64), tf.constant(width, tf.int64)
    out = render_chunks(lambda start, count: fn(start, z_t, h_t, w_t, count, dtype == "uint8"),
                        len(z), (height, width), model.outputs[0].shape[-1], chunk=chunk,
                        dtype=dtype, progress=progress, workers=workers or usable_cores())
    return out[0] if single else out
