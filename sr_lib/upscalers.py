"""The one upscaler contract: ``get_upscaler(name | path | model)(images, size | scale=s)`` takes
uint8 or [0, 1] float ``(H, W[, C])`` or ``(N, H, W, C)``, returns float32 of the same form."""

import math
from pathlib import Path

import numpy as np

from sr_lib.coords import check_pixels, size_pair
from sr_lib.data import to_float

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3")
_LOADED = {}  # (resolved path, mtime) -> Upscaler, so repeated upscale() calls load once


def as_batch(images, channels=None, name="images"):
    """``images`` -> ``(float32 (N, H, W, C) in [0, 1], form)``, ``form`` (``"batch"``, ``"hwc"``
    or ``"hw"``) what :meth:`Upscaler.__call__` returns."""
    x = np.asarray(images)
    form = {2: "hw", 3: "hwc", 4: "batch"}.get(x.ndim)
    if form is None or 0 in x.shape:
        raise ValueError(f"{name} must be one image (H, W) or (H, W, C), or a batch "
                         f"(N, H, W, C), got shape {x.shape}")
    if form == "hwc" and x.shape[-1] not in (1, 3):
        raise ValueError(f"{name} of shape {x.shape} reads as one image with {x.shape[-1]} "
                         "channels; pass a batch of grayscale images as (N, H, W, 1)")
    x = x[None, ..., None] if form == "hw" else x[None] if form == "hwc" else x
    x = to_float(x).numpy()  # the one dtype and value check (uint8 / float in [0, 1], finite)
    if channels is not None and x.shape[-1] != channels:
        from sr_lib.registry import DEFAULT

        hint = (f"model={DEFAULT['photos']!r} takes colour pictures, or convert them to grey"
                if channels == 1 else f"model={DEFAULT['digits']!r} takes grey digits; for a "
                "grey photograph repeat the channel (np.repeat(x, 3, axis=-1))")
        raise ValueError(f"{name} have {x.shape[-1]} channel(s); this upscaler takes {channels}: "
                         f"{hint}")
    return x, form


class Upscaler:
    """``up(images, size=None, *, scale=None, progress=False) -> numpy`` by ``fn(lr, (H, W),
    progress)`` on checked float32 batches; ``lr_size``/``hr_size``: a fixed-size model's."""

    def __init__(self, fn, name, *, lr_size=None, hr_size=None, channels=None, batch_size=256,
                 fresh=False):
        self.fn, self.name, self.channels, self.batch_size = fn, name, channels, batch_size
        self.fresh = fresh  # fn returns new arrays (clipped in place), not the caller's
        self.lr_size = None if lr_size is None else size_pair(lr_size, "lr_size")
        self.hr_size = None if hr_size is None else size_pair(hr_size, "hr_size")

    def __repr__(self):
        fixed = f", {self.lr_size} -> {self.hr_size}" if self.hr_size else ""
        return f"Upscaler({self.name!r}{fixed})"

    def output_size(self, input_size, size=None, scale=None):
        """The ``(H, W)`` this upscaler produces from ``input_size`` for ``size`` or ``scale``."""
        if size is not None and scale is not None:
            raise ValueError("give size or scale, not both")
        if size is not None:
            out = size_pair(size)
        elif scale is not None:
            if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)) \
                    or not math.isfinite(scale) or scale <= 0:
                raise ValueError(f"scale must be a positive finite number, got {scale!r}")
            out = tuple(max(1, math.floor(s * float(scale) + 0.5)) for s in input_size)
        elif self.hr_size is not None:
            out = self.hr_size
        else:
            raise ValueError(f"{self.name} needs an output size or a scale")
        if self.hr_size is not None and out != self.hr_size:
            raise ValueError(f"{self.name} upscales {self.lr_size} to {self.hr_size} only, "
                             f"asked for {out}")
        return out

    def check(self, input_size, size=None, scale=None, batch=1):
        """The output ``(H, W)`` for ``batch`` inputs of ``input_size``, or a ``ValueError``."""
        if self.lr_size is not None and tuple(input_size) != self.lr_size:
            raise ValueError(f"{self.name} takes {self.lr_size[0]}x{self.lr_size[1]} inputs, "
                             f"got {input_size[0]}x{input_size[1]}")
        return check_pixels(self.output_size(input_size, size, scale), batch)

    def __call__(self, images, size=None, *, scale=None, progress=False):
        x, form = as_batch(images, self.channels)
        out_size = self.check(x.shape[1:3], size, scale, len(x))
        parts = [np.asarray(self.fn(x[i:i + self.batch_size], out_size, progress), np.float32)
                 for i in range(0, len(x), self.batch_size)]
        fresh = len(parts) == 1 and self.fresh and parts[0].flags.writeable
        out = parts[0] if fresh else np.concatenate(parts)
        if out.ndim != 4 or out.shape[:3] != (len(x), *out_size):
            raise ValueError(f"{self.name} returned shape {out.shape} for {len(x)} images of "
                             f"{out_size[0]}x{out_size[1]}")
        if not np.isfinite(np.sum(out, dtype=np.float64)):  # a NaN or inf anywhere
            raise ValueError(f"{self.name} returned NaN or infinite values")
        np.clip(out, 0.0, 1.0, out=out)  # in place: outputs can be hundreds of megabytes
        return out if form == "batch" else out[0] if form == "hwc" else out[0, ..., 0]


def interpolation(method):
    """The ``tf.image.resize`` upscaler for ``method`` (one of :data:`INTERPOLATIONS`)."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose from {INTERPOLATIONS}")

    def fn(lr, size, progress):
        import tensorflow as tf

        return tf.clip_by_value(tf.image.resize(lr, size, method=method), 0.0, 1.0).numpy()

    return Upscaler(fn, method, batch_size=10_000, fresh=True)


def from_model(model, name=None):
    """A Keras model as an :class:`Upscaler` (any size if it has ``upscale(lr, size)``)."""
    name = name or model.name
    if callable(getattr(model, "upscale", None)):
        lr_shape = getattr(model, "lr_shape", None)  # the CPPN-GAN's encoder has one input size
        return Upscaler(lambda lr, size, progress: model.upscale(lr, size, progress=progress),
                        name, lr_size=None if lr_shape is None else lr_shape[:2],
                        channels=lr_shape[-1] if lr_shape else model.channels,
                        batch_size=getattr(model, "upscale_batch", 256), fresh=True)
    if len(model.inputs) != 1 or len(model.input_shape) != 4 or len(model.output_shape) != 4:
        raise ValueError(f"{name} is not an image-to-image model (input {model.input_shape}, "
                         f"output {model.output_shape})")
    fixed = [shape[1:3] if None not in shape[1:3] else None  # fully convolutional: any size
             for shape in (model.input_shape, model.output_shape)]
    return Upscaler(lambda lr, size, progress: model.predict(lr, batch_size=256, verbose=0),
                    name, lr_size=fixed[0], hr_size=fixed[1], channels=model.input_shape[-1],
                    batch_size=10_000, fresh=True)


def get_upscaler(model="local_cppn"):
    """An :class:`Upscaler` from a name, a ``.keras`` path, a model or ``f(lr, (H, W))``."""
    if isinstance(model, Upscaler):
        return model
    if isinstance(model, str) and model in INTERPOLATIONS:
        return interpolation(model)
    if isinstance(model, (str, Path)):
        from sr_lib.registry import load_pretrained, model_path

        path = model_path(model)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        if key not in _LOADED:
            _LOADED.clear()  # keep one loaded model, not every model ever asked for
            _LOADED[key] = from_model(load_pretrained(path), name=str(model))
        return _LOADED[key]
    import keras

    if isinstance(model, keras.Model):
        return from_model(model)
    if callable(model) and not isinstance(model, type):  # a class is not an upscaler
        return Upscaler(lambda lr, size, progress: model(lr, size),
                        getattr(model, "__name__", type(model).__name__))
    raise ValueError(f"cannot make an upscaler from {model!r}; give an interpolation "
                     f"{INTERPOLATIONS}, a bundled model name, a .keras path or a model")


def upscale(images, size=None, *, scale=None, model="local_cppn", progress=False):
    """Upscale ``images`` to ``size`` or by ``scale`` with ``model`` (see :func:`get_upscaler`)."""
    return get_upscaler(model)(images, size, scale=scale, progress=progress)
