"""Metrics (:func:`psnr`, :func:`ssim`; BasicSR's ``shave`` and ``luma``) and :func:`evaluate`."""

import csv
import dataclasses
import functools
import itertools
import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from sr_lib.coords import size_pair
from sr_lib.data import to_float
from sr_lib.degradations import named

MAX_PSNR = 100.0  # dB: identical images (MSE 0) score this, not inf, so one cannot void a mean
PHOTO_SCALES = (2, 3, 4, 2.5)  # the photo protocol: the integer scales and one between them


def _measured(sr, hr, shave, luma):
    """``sr`` and ``hr`` as float32 batches without a ``shave``-pixel border, luma if ``luma``."""
    sr, hr = to_float(sr), to_float(hr)
    if shave:
        sr, hr = sr[:, shave:-shave, shave:-shave], hr[:, shave:-shave, shave:-shave]
    if luma:
        from sr_lib.images import luma as to_luma

        sr, hr = (to_float(to_luma(x.numpy())[..., None].astype(np.float32)) for x in (sr, hr))
    return sr, hr


def psnr(sr, hr, *, shave=0, luma=False):
    """Per-image PSNR in dB of batches in [0, 1], a border of ``shave`` pixels left out, of the
    luma with ``luma``; capped at :data:`MAX_PSNR` (identical images). Graph-safe without luma."""
    import tensorflow as tf

    sr, hr = _measured(sr, hr, shave, luma)
    return tf.minimum(tf.image.psnr(sr, hr, max_val=1.0), MAX_PSNR)


def ssim(sr, hr, *, shave=0, luma=False):
    """Per-image SSIM (an 11-pixel window, smaller for tiny images), :func:`psnr`'s arguments:
    ``tf.image.ssim``'s values; up to :data:`BANDED_SIDE` pixels a side by :func:`_ssim_banded`."""
    sr, hr = _measured(sr, hr, shave, luma)
    height, width = int(hr.shape[1]), int(hr.shape[2])
    size = min(11, height, width)
    if max(height, width) <= BANDED_SIDE:
        return _ssim_banded(height, width, size)(sr, hr)
    return _ssim_xla(size)(sr, hr)


BANDED_SIDE = 128  # beyond, a banded matrix product costs more than tf.image.ssim's convolution


@functools.cache
def _ssim_xla(size):
    """``tf.image.ssim`` with window ``size``, XLA-compiled (once per input shape): 10,000 28x28
    digits in 1.6 s instead of 4.2 s eagerly on 2 CPU cores; per-image values equal to 3e-6."""
    import tensorflow as tf

    spec = tf.TensorSpec([None, None, None, None], tf.float32)
    return tf.function(lambda sr, hr: tf.image.ssim(sr, hr, max_val=1.0, filter_size=size),
                       input_signature=[spec, spec], jit_compile=True)


@functools.cache
def _ssim_banded(height, width, size, sigma=1.5, k1=0.01, k2=0.03):
    """``tf.image.ssim`` (``max_val`` 1, its defaults) of ``(N, height, width, C)`` batches, its
    Gaussian window applied as two matrix products with banded matrices (``G_h X G_w^T``, a
    "valid" window at every offset) instead of a depthwise 2-D convolution: 10,000 28x28 digits
    in 0.12 s instead of 1.66 s on 2 CPU cores (medians of 5). Its (co)variances are taken
    about each image's mean, so on flat bright images, where ``tf.image.ssim``'s float32
    ``blur(x^2) - mean^2`` cancels (off by ~2e-5), it stays within 1e-6 of SSIM in float64."""
    import tensorflow as tf

    g = np.exp(-((np.arange(size) - (size - 1) / 2.0) ** 2) / (2 * sigma * sigma))
    g /= g.sum()  # tf.image.ssim's 2-D window is the outer product of this one

    def band(n):  # (n - size + 1, n): row i holds the window at offset i
        rows = np.zeros((n - size + 1, n), np.float32)
        for i in range(n - size + 1):
            rows[i, i:i + size] = g
        return tf.constant(rows)

    g_h, g_w = band(height), band(width)
    c1, c2 = k1 ** 2, k2 ** 2

    def blur(x):  # (N, H, W, C) -> (N, C, H', W'): broadcast matmuls (twice einsum's speed)
        return tf.matmul(tf.matmul(g_h, tf.transpose(x, [0, 3, 1, 2])), g_w, transpose_b=True)

    def score(sr, hr):
        mean_s, mean_h = blur(sr), blur(hr)
        num0, den0 = 2.0 * mean_s * mean_h, mean_s * mean_s + mean_h * mean_h
        luminance = (num0 + c1) / (den0 + c1)  # tf.image.ssim's _ssim_helper, term by term
        # its cs = (2 blur(xy) - num0 + c2) / (blur(x^2 + y^2) - den0 + c2) holds 2 cov and the
        # variances, which cancel in float32 on flat bright images; shifted by each image's mean
        # they are the same quantities with far less cancellation
        shift = tf.reduce_mean(hr, axis=[1, 2, 3], keepdims=True)  # (N, 1, 1, 1)
        s, h = sr - shift, hr - shift
        ms, mh = mean_s - shift, mean_h - shift  # = blur(s), blur(h): the window sums to 1
        covariance = blur(s * h) - ms * mh
        variances = blur(s * s + h * h) - ms * ms - mh * mh
        cs = (2.0 * covariance + c2) / (variances + c2)
        return tf.reduce_mean(luminance * cs, axis=[1, 2, 3])  # channels, then pixels: equal

    spec = tf.TensorSpec([None, height, width, None], tf.float32)
    return tf.function(score, input_signature=[spec, spec])


def psnr_y(sr, hr, shave=0):
    """:func:`psnr` of one RGB picture ``(H, W, 3)`` on its luma: the SR literature's metric."""
    return float(psnr(np.asarray(sr)[None], np.asarray(hr)[None], shave=shave, luma=True)[0])


def rms_gradient(images):
    """Sharpness: per-image ``sqrt(mean(dx^2 + dy^2))`` of (N, H, W, C) images in [0, 1]."""
    import tensorflow as tf

    dy, dx = tf.image.image_gradients(to_float(images))
    return tf.sqrt(tf.reduce_mean(dx * dx + dy * dy, axis=[1, 2, 3]))


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of :func:`evaluate` (means over ``n`` images, ``identical`` ones counted; sizes like
    ``"13x20"``), read like a dict; :meth:`as_dict` leaves out the fields that do not apply."""
    method: str
    degradation: str
    n: int
    psnr: float
    ssim: float
    identical: int
    images_per_s: float
    lr_size: str | None = None
    hr_size: str | None = None
    scale: float | None = None
    luma: bool = False
    psnr_rgb: float | None = None
    rms_gradient: float | None = None  # mean :func:`rms_gradient` of the whole outputs (RGB)

    def __getitem__(self, key):
        return getattr(self, key)

    def as_dict(self):
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d):
        """A row of a results JSON (sizes given as ints read as their strings)."""
        sizes = {k: str(d[k]) for k in ("lr_size", "hr_size") if d.get(k) is not None}
        return cls(**{"degradation": "bicubic", "identical": 0, **d, **sizes})


def check_scale(scale):
    """``scale`` (> 1, a fraction p/q, q <= 100, e.g. 2.5) as a ``Fraction``, else ValueError."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 1 < scale < 1e6:
        raise ValueError(f"scale must be a number > 1, got {scale!r}")
    ratio = Fraction(scale).limit_denominator(100)
    if abs(float(ratio) - scale) > 1e-9 or ratio <= 1:
        raise ValueError(f"scale {scale} is not a fraction p/q with q <= 100 (e.g. 2.5)")
    return ratio


def _load_photo(path, max_side):
    """A picture as float (1, H, W, 3), shrunk so that its longer side is at most ``max_side``."""
    from sr_lib.images import load_image

    hr = load_image(path, colour=True)[0][None]
    if max_side is not None and max(hr.shape[1:3]) > max_side:
        import tensorflow as tf

        size = [max(1, round(s * max_side / max(hr.shape[1:3]))) for s in hr.shape[1:3]]
        hr = tf.image.resize(hr, size, method="area", antialias=True).numpy()
    return hr


def photo_pairs(path, scale, max_side=None, degradation="bicubic", *, hr=None):
    """float32 ``(1, H, W, 3)`` ``(hr, lr)`` of one photograph (``hr``, else read from ``path``,
    shrunk to ``max_side``) cropped to whole LR pixels at ``scale``, ``lr`` by ``degradation``."""
    ratio = check_scale(scale)
    lower = named(degradation) if isinstance(degradation, str) else degradation
    hr = _load_photo(path, max_side) if hr is None else hr
    step = ratio.numerator
    height, width = hr.shape[1] - hr.shape[1] % step, hr.shape[2] - hr.shape[2] % step
    if min(height, width) <= 2 * math.ceil(scale) or min(height, width) < step:
        raise ValueError(f"{path}: {hr.shape[1]}x{hr.shape[2]} is too small for x{scale}")
    hr = np.ascontiguousarray(hr[:, :height, :width]).astype(np.float32)
    lr_size = (height * ratio.denominator // step, width * ratio.denominator // step)
    return hr, np.asarray(lower(hr, lr_size))


def _name_size(hw):
    return str(hw[0]) if hw[0] == hw[1] else f"{hw[0]}x{hw[1]}"


def evaluate(upscalers, images, lr_sizes=None, *, scales=None, degradations=("bicubic",),
             luma=False, shave=None, max_side=None, batch_size=500, outputs=None):
    """A :class:`Row` per degradation, size and upscaler (names, or name -> upscaler) of ``images``
    degraded and upscaled back: one ``(N, H, W[, C])`` batch at ``lr_sizes``, or pictures (files,
    arrays) at ``scales``, shaved ``ceil(scale)`` unless ``shave``; all checked before any runs.
    ``outputs``, a dict, receives the batch's SR images under ``(method, degradation, lr_size)``
    as its rows name them (``lr_sizes`` only)."""
    from sr_lib.upscalers import get_upscaler

    if (lr_sizes is None) == (scales is None):
        raise ValueError("evaluate needs lr_sizes (one batch of images) or scales (pictures)")
    specs = upscalers if isinstance(upscalers, dict) else {str(n): n for n in upscalers}
    upscalers = {name: get_upscaler(spec) for name, spec in specs.items()}
    lowers = {how: named(how) for how in dict.fromkeys(degradations)}  # names checked first
    if not upscalers or not lowers:
        raise ValueError("evaluate needs at least one upscaler and one degradation")
    if scales is not None:
        pictures, sizes = list(images), [s for s in dict.fromkeys(scales) if check_scale(s)]
        if not pictures or not sizes:
            raise ValueError("evaluate needs at least one picture and one scale")
        for up in upscalers.values():
            if up.channels not in (None, 3):
                raise ValueError(f"{up.name} takes {up.channels}-channel images, not colour")
    else:
        pictures, sizes = [to_float(images).numpy()], [size_pair(s, "lr_size") for s in lr_sizes]
        if len(pictures[0]) == 0:
            raise ValueError("evaluate needs at least one HR image")
        hr_hw = pictures[0].shape[1:3]
        for lr_hw in sizes:
            if lr_hw[0] >= hr_hw[0] or lr_hw[1] >= hr_hw[1]:
                raise ValueError(f"LR size {lr_hw} is not smaller than the HR size {hr_hw}")
            for up in upscalers.values():
                up.check(lr_hw, hr_hw)
    scores = {}  # (degradation, size, method) -> [psnr], [ssim], [rgb psnr], seconds, [rms], timed
    for i, picture in enumerate(pictures):
        if scales is not None:  # decoded once for all scales
            path = picture if isinstance(picture, (str, Path)) else f"picture {i}"
            picture = (_load_photo(picture, max_side) if isinstance(picture, (str, Path))
                       else to_float(np.asarray(picture)[None]).numpy())
        for (how, lower), size in itertools.product(lowers.items(), sizes):
            if scales is None:
                hr, lr, cut = picture, lower(picture, size), shave or 0
            else:
                hr, lr = photo_pairs(path, size, hr=picture, degradation=lower)
                cut = math.ceil(size) if shave is None else shave
            for name, up in upscalers.items():
                kept, starts = [], range(0, len(lr), batch_size)  # a picture: timed at once
                if scales is None:  # the first batch compiles, untimed; its outputs count if a
                    first = up(lr[:batch_size], hr.shape[1:3])  # full batch follows to time
                    if len(lr) >= 2 * batch_size:  # (else all again: a remainder may compile)
                        kept, starts = [first], starts[1:]
                start = time.perf_counter()
                sr = [up(lr[i:i + batch_size], hr.shape[1:3]) for i in starts]
                entry = scores.setdefault((how, size, name), [[], [], [], 0.0, [], 0])
                entry[3] += time.perf_counter() - start
                entry[5] += sum(map(len, sr))
                sr = np.concatenate(kept + sr)
                if outputs is not None and scales is None:
                    outputs[name, how, _name_size(size)] = sr
                entry[0].append(psnr(sr, hr, shave=cut, luma=luma).numpy())
                entry[1].append(ssim(sr, hr, shave=cut, luma=luma).numpy())
                if luma:
                    entry[2].append(psnr(sr, hr, shave=cut).numpy())
                entry[4].append(rms_gradient(sr).numpy())

    def mean(values):
        return float(np.mean(np.concatenate(values), dtype=np.float64)) if values else None

    return [Row(method=name, degradation=how, n=sum(map(len, p)), psnr=mean(p), ssim=mean(s),
                identical=int(sum(np.sum(v >= MAX_PSNR) for v in p)),
                images_per_s=timed / max(seconds, 1e-9), luma=luma,
                lr_size=None if scales else _name_size(size),
                hr_size=None if scales else _name_size(pictures[0].shape[1:3]),
                scale=size if scales else None, psnr_rgb=mean(rgb), rms_gradient=mean(rms))
            for (how, size, name), (p, s, rgb, seconds, rms, timed) in scores.items()]


# (row key, title, width, format) of a table of rows at LR sizes and of rows at scales
TABLE_COLUMNS = {
    "sizes": (("lr_size", "LR", 6, ""), ("hr_size", "HR", 6, ""), ("n", "n", 7, ""),
              ("psnr", "PSNR dB", 10, ".2f"), ("ssim", "SSIM", 8, ".4f"),
              ("images_per_s", "images/s", 12, ".0f")),
    "scales": (("degradation", "LR made by", 15, ""), ("scale", "scale", 6, ""),
               ("n", "n", 4, ""), ("psnr", "PSNR-Y", 9, ".2f"), ("ssim", "SSIM-Y", 8, ".4f"),
               ("psnr_rgb", "PSNR-RGB", 10, ".2f"), ("s_per_image", "s/img", 8, ".2f")),
}


def format_table(rows):
    """:func:`evaluate`'s rows (or their dicts) as an aligned text table."""
    rows = [r if isinstance(r, Row) else Row.from_dict(r) for r in rows]
    columns = TABLE_COLUMNS["scales" if rows and rows[0].scale is not None else "sizes"]
    width = max([len("method")] + [len(r.method) for r in rows]) + 2
    if rows and not rows[0].luma:  # the same columns, of all channels
        columns = [(k, t.replace("-Y", ""), w, f) for k, t, w, f in columns]
    header = f"{'method':<{width}}" + "".join(f"{title:>{w}}" for _, title, w, _ in columns)
    lines = [header, "-" * len(header)]
    for r, values in ((r, {**r.as_dict(), "s_per_image": 1.0 / r.images_per_s}) for r in rows):
        lines.append(f"{r.method:<{width}}" + "".join(
            f"{values[k]:>{w}{fmt}}" if fmt else f"{values[k]!s:>{w}}" for k, _, w, fmt in columns))
    return "\n".join(lines)


def save_table(rows, out_dir, stem="evaluation"):
    """Write ``rows`` to ``out_dir/stem.json`` and ``out_dir/stem.csv``; return both paths."""
    from sr_lib.files import replacing, write_json

    dicts = [r.as_dict() for r in rows]
    json_path, csv_path = Path(out_dir) / f"{stem}.json", Path(out_dir) / f"{stem}.csv"
    write_json(json_path, dicts)
    with replacing(csv_path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dicts[0]))
        writer.writeheader()
        writer.writerows(dicts)
    return json_path, csv_path
