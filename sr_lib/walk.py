"""Latent walks (notebooks 02 and 03): render with :func:`sr_lib.render`, save as GIFs with
:func:`sr_lib.images.save_gif`."""

import numpy as np

from sr_lib.coords import check_int


def random_latents(n, latent_dim, seed=None):
    """``(n, latent_dim)`` float32 latents ~ N(0, 1)."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def interpolate(z0, z1, steps, method="slerp", endpoint=True):
    """``steps`` latents from ``z0`` to ``z1`` by ``"slerp"`` or ``"linear"``."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"z0 and z1 must be 1-D of the same size, got {z0.shape} and {z1.shape}")
    check_int(steps, "steps")
    if method not in ("slerp", "linear"):
        raise ValueError(f"method must be 'slerp' or 'linear', got {method!r}")
    t = np.linspace(0.0, 1.0, steps, endpoint=endpoint)[:, None]
    path = (1 - t) * z0 + t * z1
    if method == "slerp":
        cos = np.dot(z0, z1) / max(np.linalg.norm(z0) * np.linalg.norm(z1), 1e-12)
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega >= 1e-6:  # else (anti)parallel ends: nothing to bend around
            path = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    return path.astype(np.float32)


def loop(zs, steps_per_leg, method="slerp"):
    """A closed path z0 -> z1 -> ... -> z0, ``len(zs) * steps_per_leg`` latents (no repeats)."""
    zs = np.asarray(zs, np.float32)
    if zs.ndim != 2 or len(zs) < 2:
        raise ValueError(f"zs must be (n >= 2, latent_dim), got {zs.shape}")
    return np.concatenate([interpolate(a, b, steps_per_leg, method, endpoint=False)
                           for a, b in zip(zs, np.roll(zs, -1, axis=0))])
