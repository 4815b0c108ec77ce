"""Geometry: sizes (``(height, width)``; ``N`` is ``(N, N)``), the pixel limit and pixel-centre
grids ``x_i = scale * (-1 + (2i + 1) / width)`` (rows likewise), ``r = sqrt(x^2 + y^2)``."""

import numpy as np

MAX_PIXELS = 2**28  # 16384 x 16384 (batch included): larger outputs must be asked for explicitly


def check_int(value, name, low=1, high=None, optional=False):
    """An integer ``value`` (not a bool) in ``[low, high]`` as an int, else a ``ValueError``."""
    if optional and value is None:
        return None
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
            and value >= low and (high is None or value <= high)):
        wanted = ("a positive int" if low == 1 and high is None else f"an int >= {low}"
                  if high is None else f"an int from {low} to {high}")
        raise ValueError(f"{name} must be {wanted}{' or None' if optional else ''}, got {value!r}")
    return int(value)


def size_pair(size, name="size", max_side=None):
    """``N`` or ``(H, W)`` of integers -> ``(H, W)`` ints in 1..``max_side``, else a ValueError."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    pair = (size, size) if is_int(size) else tuple(size) if isinstance(
        size, (tuple, list, np.ndarray)) else ()
    if len(pair) != 2 or not all(is_int(s) and s > 0 for s in pair):
        raise ValueError(f"{name} must be a positive int or (height, width), got {size!r}")
    height, width = int(pair[0]), int(pair[1])
    if max_side is not None and max(height, width) > max_side:
        raise ValueError(f"{name} {(height, width)} is larger than the limit of {max_side} a side")
    return height, width


def check_pixels(size, batch=1, max_pixels=MAX_PIXELS):
    """Raise ``ValueError`` when ``batch`` images of ``size`` exceed ``max_pixels`` in all."""
    height, width = size_pair(size)
    total = int(batch) * height * width
    if total > max_pixels:
        raise ValueError(f"{height}x{width} (x{batch}) = {total:,} pixels is more than the limit "
                         f"of {max_pixels:,} (max_pixels); ask for less")
    return height, width


def axis(n, scale=1.0):
    """Pixel-centre positions of ``n`` pixels along one axis of ``[-scale, scale]``."""
    return (scale * (-1.0 + (2.0 * np.arange(n) + 1.0) / n)).astype(np.float32)


def grid(height, width, scale=1.0):
    """(height*width, 3) float32 rows (x, y, r), row-major (y outer, x inner)."""
    height, width = size_pair((height, width))
    x, y = np.meshgrid(axis(width, scale), axis(height, scale))
    return np.stack([x, y, np.sqrt(x * x + y * y)], axis=-1).reshape(-1, 3)


def image_shape(shape, name="shape"):
    """``(height, width, channels)`` of positive ints, else a one-line ``ValueError``."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"{name} must be (height, width, channels), got {shape!r}")
    return (*size_pair(tuple(shape[:2]), name), size_pair(shape[2], f"{name} channels")[0])
