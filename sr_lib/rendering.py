"""The chunked rendering engine (any output size in bounded memory) and the CPPN render: compiled
steps of :func:`chunk_size` pixels, each walked in same-shaped blocks (:func:`blocks`), so
chunked renders equal unchunked ones exactly (XLA rounds differently for other shapes)."""

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

from sr_lib.coords import MAX_PIXELS, check_int, check_pixels, size_pair
from sr_lib.runtime import usable_cores

DEFAULT_CHUNK = 2**17  # output pixels per step, summed over the batch
BLOCK = 4096  # pixels per block inside a step: one block's activations fit in a core's L2 cache
_POOL = {}


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


def pixel_coords(row, col, height, width):
    """``(n, 3)`` float32 (x, y, r) of pixels ``row``, ``col``: exactly ``coords.grid``'s."""
    def centre(i, n):
        return tf.cast(-1.0 + (2.0 * tf.cast(i, tf.float64) + 1.0) / tf.cast(n, tf.float64),
                       tf.float32)

    x, y = centre(col, width), centre(row, height)
    return tf.stack([x, y, tf.sqrt(x * x + y * y)], axis=-1)


def chunk_coords(start, count, height, width):
    """:func:`pixel_coords` of row-major pixels ``start .. start+count-1`` (padding harmless)."""
    idx = tf.cast(start, tf.int64) + tf.range(count, dtype=tf.int64)
    width = tf.cast(width, tf.int64)
    return pixel_coords(idx // width, idx % width, height, width)


def chunk_size(n, batch, chunk=DEFAULT_CHUNK):
    """Pixels per image per step, about ``chunk`` (``None``: all) over ``batch`` images of ``n``
    pixels: a power of two up to ``BLOCK``, else a power of two of whole blocks up to the limit,
    else the limit in whole blocks (the last step padded). So few step shapes serve every size:
    a picture of a new size reuses the compiled steps."""
    check_int(chunk, "chunk", optional=True)
    if n <= BLOCK:
        return 1 << (n - 1).bit_length()
    limit = BLOCK * max(2, -(-(n if chunk is None else max(int(chunk) // batch, 1)) // BLOCK))
    return min(BLOCK << max(1, (-(-n // BLOCK) - 1).bit_length()), limit)


def progress_bar(total, progress=True):
    """A ``keras.utils.Progbar`` over ``total`` chunks, or ``None``."""
    if not progress:
        return None
    import keras

    return keras.utils.Progbar(total, unit_name="chunk")


def run_chunks(step, out, count, *, workers=1, bar=None, warm=False):
    """Fill ``out`` (numpy ``(batch, n, C)``) by ``step(start, count)`` in ``workers`` threads."""
    n = out.shape[1]

    def run(start):  # one chunk, written into its slice of the output
        values = step(tf.constant(start, tf.int64), count)
        stop = min(start + count, n)
        out[:, start:stop] = np.asarray(values)[:, :stop - start]

    first = [] if warm else [run(0)]  # compiles if needed, before threads share the step
    starts = range(0, n, count)[len(first):]
    parallel = workers > 1 and len(starts) > 1  # one pool of `workers` threads, kept between calls
    results = _pool(workers).map(run, starts) if parallel else map(run, starts)
    for _ in itertools.chain(first, results):
        if bar is not None:
            bar.add(1)
    return out


def render_chunks(step, batch, size, channels, *, chunk=DEFAULT_CHUNK, dtype="float32",
                  progress=False, workers=1):
    """:func:`run_chunks` over a ``(batch, H, W, channels)`` image in :func:`chunk_size` steps."""
    height, width = size_pair(size)
    n = height * width
    count = chunk_size(n, batch, chunk)
    out = np.empty((batch, n, channels), dtype=dtype)
    run_chunks(step, out, count, workers=workers, bar=progress_bar(-(-n // count), progress))
    return out.reshape(batch, height, width, channels)


def blocks(fn, count):
    """``fn(offset, size)`` over ``count`` pixels in a ``tf.while_loop`` of same-shaped blocks."""
    block = min(count, BLOCK)
    n = count // block

    def body(i, acc):
        return i + 1, acc.write(i, fn(tf.cast(i * block, tf.int64), block))

    _, acc = tf.while_loop(lambda i, _: i < n, body, (0, tf.TensorArray(tf.float32, n)))
    values = acc.stack()  # (n, batch, block, C)
    shape = tf.shape(values)
    return tf.reshape(tf.transpose(values, (1, 0, 2, 3)), (shape[1], count, shape[3]))


def _cppn_step(model):
    """The CPPN's compiled step ``(start, z, h, w, count, uint8)``, kept on the model."""
    fn = model.__dict__.get("_sr_render_step")
    if fn is None:
        @tf.function(jit_compile=True)
        def fn(start, z, height, width, count, uint8):
            def block(offset, size):
                coords = chunk_coords(start + offset, size, height, width)
                coords = tf.broadcast_to(coords, (tf.shape(z)[0], size, 3))
                return tf.cast(model([coords, z], training=False), tf.float32)

            values = blocks(block, count)
            return tf.cast(tf.round(values * 255.0), tf.uint8) if uint8 else values

        model.__dict__["_sr_render_step"] = fn
    return fn


def render(model, z, size, chunk=DEFAULT_CHUNK, dtype="float32", progress=False,
           max_pixels=MAX_PIXELS, workers=None):
    """Render the CPPN ``model`` for ``z`` ``(latent_dim,)`` or ``(batch, latent_dim)`` at ``size``:
    ``(H, W, C)`` or ``(batch, H, W, C)`` of ``dtype`` (``"float32"`` or ``"uint8"``), ``chunk``
    pixels a step in ``workers`` threads; more than ``max_pixels`` is refused."""
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
    check_int(chunk, "chunk", optional=True)  # before anything is compiled
    check_int(workers, "workers", optional=True)
    fn = _cppn_step(model)
    z_t, h_t, w_t = tf.constant(z), tf.constant(height, tf.int64), tf.constant(width, tf.int64)
    out = render_chunks(lambda start, count: fn(start, z_t, h_t, w_t, count, dtype == "uint8"),
                        len(z), (height, width), model.outputs[0].shape[-1], chunk=chunk,
                        dtype=dtype, progress=progress, workers=workers or usable_cores())
    return out[0] if single else out
