"""Coordinate grids for CPPNs.

Convention (pixel centres): pixel column ``i`` of a ``width``-wide image sits at
``x_i = scale * (-1 + (2i + 1) / width)``, row ``j`` at ``y_j = scale * (-1 + (2j + 1) / height)``,
and ``r = sqrt(x^2 + y^2)``. Every grid therefore samples the same continuous square
``[-scale, scale]^2`` at its pixel centres: a 28x28 grid and a 100x100 grid are two samplings of
one image, which is what lets a CPPN render one latent at any resolution.
"""

from __future__ import annotations

import numpy as np


def axis(n, scale=1.0):
    """Pixel-centre positions of ``n`` pixels along one axis of ``[-scale, scale]``."""
    return (scale * (-1.0 + (2.0 * np.arange(n) + 1.0) / n)).astype(np.float32)


def grid(height, width, scale=1.0):
    """(height*width, 3) float32 rows (x, y, r), row-major (y outer, x inner)."""
    for name, n in (("height", height), ("width", width)):
        if not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    x, y = np.meshgrid(axis(width, scale), axis(height, scale))
    r = np.sqrt(x * x + y * y)
    return np.stack([x, y, r], axis=-1).reshape(-1, 3)
