"""Upscalers: anything that maps a batch of LR images to a requested HR size.

An upscaler is a callable ``f(lr, size) -> sr`` where ``lr`` is float32 (N, h, w, C) in [0, 1],
``size`` is (H, W) and ``sr`` is float32 (N, H, W, C) in [0, 1]. The interpolation baselines
below and every trained model in sr_lib follow this contract, so :func:`sr_lib.metrics.evaluate`
measures them all the same way.
"""

from __future__ import annotations

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3")


def interpolation(method):
    """The ``tf.image.resize`` upscaler for ``method`` (one of :data:`INTERPOLATIONS`)."""
    import tensorflow as tf

    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose from {INTERPOLATIONS}")

    def upscale(lr, size):
        return tf.clip_by_value(tf.image.resize(lr, size, method=method), 0.0, 1.0)

    upscale.__name__ = method
    return upscale


def get(name):
    """An upscaler by name: an interpolation, or a bundled model (see :func:`sr_lib.load_pretrained`)."""
    if name in INTERPOLATIONS:
        return interpolation(name)
    from sr_lib.pretrained import PRETRAINED, load_upscaler

    if name in PRETRAINED:
        return load_upscaler(name)
    raise ValueError(f"unknown method {name!r}; choose from {available()}")


def available():
    """Names :func:`get` accepts."""
    from sr_lib.pretrained import PRETRAINED

    return list(INTERPOLATIONS) + sorted(PRETRAINED)
