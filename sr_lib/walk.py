"""Latent walks: paths through z-space, rendered as frames and saved as an animated GIF."""

from __future__ import annotations

import numpy as np

from sr_lib.rendering import render, to_uint8


def random_latents(n, latent_dim, seed=None):
    """``(n, latent_dim)`` float32 latents ~ N(0, 1)."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def interpolate(z0, z1, steps, method="slerp", endpoint=True):
    """``(steps, latent_dim)`` latents from ``z0`` to ``z1``.

    ``"slerp"`` (spherical) keeps the norm of Gaussian latents roughly constant along the path, so
    midway frames stay as rich as the ends; ``"linear"`` shrinks it midway. ``endpoint=False``
    stops one step short of ``z1`` (for chaining legs into a loop).
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"z0 and z1 must be 1-D of the same size, got {z0.shape} and {z1.shape}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    t = np.linspace(0.0, 1.0, steps, endpoint=endpoint)[:, None]
    if method == "linear":
        path = (1 - t) * z0 + t * z1
    elif method == "slerp":
        cos = np.dot(z0, z1) / max(np.linalg.norm(z0) * np.linalg.norm(z1), 1e-12)
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega < 1e-6:  # (anti)parallel ends: nothing to bend around
            path = (1 - t) * z0 + t * z1
        else:
            path = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    else:
        raise ValueError(f"method must be 'slerp' or 'linear', got {method!r}")
    return path.astype(np.float32)


def loop(zs, steps_per_leg, method="slerp"):
    """A closed path z0 -> z1 -> ... -> z0, ``len(zs) * steps_per_leg`` latents (no repeats)."""
    zs = np.asarray(zs, np.float32)
    if zs.ndim != 2 or len(zs) < 2:
        raise ValueError(f"zs must be (n >= 2, latent_dim), got {zs.shape}")
    legs = [interpolate(a, b, steps_per_leg, method, endpoint=False)
            for a, b in zip(zs, np.roll(zs, -1, axis=0))]
    return np.concatenate(legs)


def render_frames(model, zs, height, width=None, progress=False, **render_kwargs):
    """uint8 frames ``(n, height, width, channels)``, one per latent, rendered one at a time."""
    width = height if width is None else width
    bar = None
    if progress:
        import keras
        bar = keras.utils.Progbar(len(zs), unit_name="frame")
    frames = []
    for i, z in enumerate(zs):
        frames.append(render(model, z, height, width, dtype="uint8", **render_kwargs))
        if bar is not None:
            bar.update(i + 1)
    return np.stack(frames)


def save_gif(frames, path, fps=20):
    """Write ``(n, H, W, 1 or 3)`` frames (uint8 or float [0, 1]) as a looping animated GIF."""
    from PIL import Image

    frames = to_uint8(frames)
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or len(frames) == 0:
        raise ValueError(f"frames must be (n, H, W, 1 or 3), got {frames.shape}")
    images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps),
                   loop=0)
    return path
