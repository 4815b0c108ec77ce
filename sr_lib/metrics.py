"""Metrics (PSNR / SSIM via ``tf.image``, a sharpness measure) and the one evaluation harness."""

from __future__ import annotations

import csv
import itertools
import math
import time
from pathlib import Path

from sr_lib.coords import size_pair
from sr_lib.data import degrade, to_float
from sr_lib.degradations import named


MAX_PSNR = 100.0  # dB: identical images (MSE 0) score this, not inf, so one cannot void a mean


def psnr(sr, hr):
    """Per-image PSNR in dB of images in [0, 1] (``tf.image.psnr``, max_val=1), capped at
    :data:`MAX_PSNR` for identical images (``evaluate`` counts them in its ``identical`` column)."""
    import tensorflow as tf

    return tf.minimum(tf.image.psnr(to_float(sr), to_float(hr), max_val=1.0), MAX_PSNR)


def ssim(sr, hr):
    """Per-image SSIM of images in [0, 1] (``tf.image.ssim``; window shrinks for tiny images)."""
    import tensorflow as tf

    sr, hr = to_float(sr), to_float(hr)
    size = min(11, int(hr.shape[1]), int(hr.shape[2]))
    return tf.image.ssim(sr, hr, max_val=1.0, filter_size=size)


def rms_gradient(images):
    """Sharpness: per-image root-mean-square gradient ``sqrt(mean(dx^2 + dy^2))`` (``tf.image``
    finite differences) of images in [0, 1], shaped (N, H, W, C). Blurry images score low.

    The mean gradient *magnitude* is not used: it is the total variation, which a blur of a
    monotone edge leaves unchanged; the squared gradient drops as an edge spreads out.
    """
    import tensorflow as tf

    images = to_float(images)
    dy, dx = tf.image.image_gradients(images)
    return tf.sqrt(tf.reduce_mean(dx * dx + dy * dy, axis=[1, 2, 3]))


def evaluate(upscalers, hr_images, lr_sizes, *, batch_size=1000):
    """Measure each upscaler on ``hr_images`` degraded to each of ``lr_sizes``: rows of
    ``method, lr_size, hr_size, n, psnr, ssim, identical, images_per_s``.

    ``upscalers`` maps a name to anything :func:`sr_lib.get_upscaler` takes (a list of names
    stands for ``{name: name}``). PSNR/SSIM are means over the images, PSNR capped per image at
    :data:`MAX_PSNR` (``identical`` counts exact reproductions); images/s times the upscaler
    alone, after one warm-up batch."""
    import numpy as np
    import tensorflow as tf

    from sr_lib.upscalers import get_upscaler

    if not isinstance(upscalers, dict):
        upscalers = {str(name): name for name in upscalers}
    upscalers = {name: get_upscaler(spec) for name, spec in upscalers.items()}
    hr = to_float(hr_images)
    n, height, width = int(hr.shape[0]), int(hr.shape[1]), int(hr.shape[2])
    if n == 0:
        raise ValueError("evaluate needs at least one HR image")
    if not upscalers:
        raise ValueError("evaluate needs at least one upscaler")
    lr_hws = [size_pair(lr_size, "lr_size") for lr_size in lr_sizes]
    for lr_hw in lr_hws:  # every size against every upscaler, before any work
        if lr_hw[0] >= height or lr_hw[1] >= width:
            raise ValueError(f"LR size {lr_hw} is not smaller than the HR size {(height, width)}")
        for up in upscalers.values():
            up.check(lr_hw, (height, width))
    rows = []
    for lr_hw in lr_hws:
        lr = degrade(hr, lr_hw)
        for name, upscale in upscalers.items():
            upscale(lr[:batch_size], (height, width))  # warm-up
            outputs, elapsed = [], 0.0
            for start in range(0, n, batch_size):
                t0 = time.perf_counter()
                sr = np.asarray(upscale(lr[start:start + batch_size], (height, width)))
                elapsed += time.perf_counter() - t0
                outputs.append(sr)
            sr = tf.convert_to_tensor(np.concatenate(outputs))
            rows.append({
                "method": name,
                "lr_size": "x".join(map(str, lr_hw)) if lr_hw[0] != lr_hw[1] else lr_hw[0],
                "hr_size": height if height == width else f"{height}x{width}",
                "n": n,
                "psnr": float(tf.reduce_mean(scores := psnr(sr, hr))),
                "ssim": float(tf.reduce_mean(ssim(sr, hr))),
                "identical": int(tf.reduce_sum(tf.cast(scores >= MAX_PSNR, tf.int32))),
                "images_per_s": n / max(elapsed, 1e-9),
            })
    return rows


PHOTO_SCALES = (2, 3, 4, 2.5)  # the photo protocol: the integer scales and one between them


def check_scale(scale):
    """``scale`` (> 1, a fraction p/q with q <= 100, e.g. 2.5) as a ``Fraction``, else a one-line
    ``ValueError``."""
    from fractions import Fraction

    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 1 < scale < 1e6:
        raise ValueError(f"scale must be a number > 1, got {scale!r}")
    ratio = Fraction(scale).limit_denominator(100)
    if abs(float(ratio) - scale) > 1e-9 or ratio <= 1:
        raise ValueError(f"scale {scale} is not a fraction p/q with q <= 100 (e.g. 2.5)")
    return ratio


def photo_pairs(path, scale, max_side=None, degradation="bicubic"):
    """One photograph as ``(hr, lr)`` float32 ``(1, H, W, 3)`` arrays for ``scale`` (``> 1``):
    ``hr`` cropped so that ``H / scale`` and ``W / scale`` are whole (``scale`` as a fraction),
    ``lr`` its ``degradation`` (:func:`sr_lib.degradations.named`; ``"bicubic"`` is
    :func:`sr_lib.data.degrade`); ``max_side`` first shrinks large pictures."""
    check_scale(scale)
    return _pair(_load_photo(path, max_side), scale, path, named(degradation))


def _load_photo(path, max_side):
    """A picture as float (H, W, 3), shrunk so that its longer side is at most ``max_side``."""
    from sr_lib.images import load_image

    hr = load_image(path, colour=True)[0]
    if max_side is not None and max(hr.shape[:2]) > max_side:
        import tensorflow as tf

        size = [max(1, round(s * max_side / max(hr.shape[:2]))) for s in hr.shape[:2]]
        hr = tf.image.resize(hr, size, method="area", antialias=True).numpy()
    return hr


def _pair(hr, scale, path, lower=degrade):
    """:func:`photo_pairs` of a loaded picture ``hr`` (``path`` names it in errors), its LR made by
    ``lower(hr, lr_size)``."""
    import numpy as np

    ratio = check_scale(scale)
    step = ratio.numerator
    height, width = hr.shape[0] - hr.shape[0] % step, hr.shape[1] - hr.shape[1] % step
    if min(height, width) <= 2 * math.ceil(scale) or min(height, width) < step:
        raise ValueError(f"{path}: {hr.shape[0]}x{hr.shape[1]} is too small for x{scale}")
    hr = np.ascontiguousarray(hr[None, :height, :width]).astype(np.float32)
    lr_size = (height * ratio.denominator // step, width * ratio.denominator // step)
    return hr, np.asarray(lower(hr, lr_size))


def _psnr64(a, b):
    """PSNR in dB of arrays in [0, 1] in float64, capped at :data:`MAX_PSNR`."""
    import numpy as np

    mse = float(np.mean((np.asarray(a, np.float64) - b) ** 2))
    return min(MAX_PSNR, -10 * math.log10(max(mse, 1e-20)))


def psnr_y(sr, hr, shave=0):
    """PSNR in dB of the BT.601 luma (:func:`sr_lib.images.luma`) of RGB images in [0, 1] (one
    ``(H, W, 3)`` or a batch), a border of ``shave`` pixels left out: the SR literature's metric."""
    from sr_lib.images import luma

    inner = (Ellipsis, slice(shave, -shave or None), slice(shave, -shave or None), slice(None))
    return _psnr64(luma(sr[inner]), luma(hr[inner]))


def evaluate_photos(upscalers, files, scales=PHOTO_SCALES, *, max_side=None,
                    degradations=("bicubic",)):
    """The photo protocol: each upscaler on every picture of ``files``, degraded by each of
    ``scales`` and each of ``degradations`` (names of :func:`sr_lib.degradations.named`; see
    :func:`photo_pairs`) and upscaled back to its size. Rows of ``degradation, method, scale,
    n, psnr_y, ssim_y, psnr_rgb, seconds``: means over the pictures of the PSNR and SSIM of the
    BT.601 luma (:func:`sr_lib.images.luma`) and the PSNR of RGB, all with a border of
    ``ceil(scale)`` pixels shaved (the SR literature's convention), and seconds per picture
    (compiling for each new picture size included)."""
    import numpy as np

    from sr_lib.images import luma
    from sr_lib.upscalers import get_upscaler

    if not isinstance(upscalers, dict):
        upscalers = {str(name): name for name in upscalers}
    upscalers = {name: get_upscaler(spec) for name, spec in upscalers.items()}
    files = list(files)
    if not files or not upscalers or not scales:
        raise ValueError("evaluate_photos needs pictures, upscalers and scales")
    scales = list(dict.fromkeys(scales))  # 2 and 2.0 are one scale
    for scale in scales:
        check_scale(scale)
    lowers = {name: named(name) for name in dict.fromkeys(degradations)}  # names checked first
    if not lowers:
        raise ValueError("evaluate_photos needs at least one degradation")
    for up in upscalers.values():
        if up.channels not in (None, 3):
            raise ValueError(f"{up.name} takes {up.channels}-channel images, not colour")
    scores = {}  # (degradation, method, scale) -> per-picture values
    for path in files:
        picture = _load_photo(path, max_side)  # decoded once for all scales
        for (how, lower), scale in itertools.product(lowers.items(), scales):
            shave = math.ceil(scale)
            hr, lr = _pair(picture, scale, path, lower)
            hr_crop = hr[:, shave:-shave, shave:-shave]
            y_hr = luma(hr_crop)[..., None]  # once per picture, not per upscaler
            for name, up in upscalers.items():
                start = time.perf_counter()
                sr = up(lr, hr.shape[1:3])
                seconds = time.perf_counter() - start
                crop = sr[:, shave:-shave, shave:-shave]
                y_sr = luma(crop)[..., None]  # = psnr_y's luma: computed once for PSNR and SSIM
                scores.setdefault((how, name, scale), []).append((
                    _psnr64(y_sr, y_hr),
                    float(ssim(y_sr.astype(np.float32), y_hr.astype(np.float32))[0]),
                    _psnr64(crop, hr_crop), seconds))
    return [{"degradation": how, "method": name, "scale": scale, "n": len(values),
             **dict(zip(("psnr_y", "ssim_y", "psnr_rgb", "seconds"),
                        np.mean(values, axis=0).tolist()))}
            for (how, name, scale), values in scores.items()]


TABLE_COLUMNS = {  # (row key, title, width, format) of evaluate's and evaluate_photos' rows
    "digits": (("lr_size", "LR", 6, ""), ("hr_size", "HR", 6, ""), ("n", "n", 7, ""),
               ("psnr", "PSNR dB", 10, ".2f"), ("ssim", "SSIM", 8, ".4f"),
               ("images_per_s", "images/s", 12, ".0f")),
    "photos": (("degradation", "LR made by", 15, ""), ("scale", "scale", 6, ""), ("n", "n", 4, ""), ("psnr_y", "PSNR-Y", 9, ".2f"),
               ("ssim_y", "SSIM-Y", 8, ".4f"), ("psnr_rgb", "PSNR-RGB", 10, ".2f"),
               ("seconds", "s/img", 8, ".2f")),
}


def format_table(rows):
    """The rows of :func:`evaluate` or :func:`evaluate_photos` as an aligned text table."""
    columns = TABLE_COLUMNS["photos" if rows and "psnr_y" in rows[0] else "digits"]
    width = max([len("method")] + [len(str(r["method"])) for r in rows]) + 2
    header = f"{'method':<{width}}" + "".join(f"{title:>{w}}" for _, title, w, _ in columns)
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['method']:<{width}}" + "".join(
            f"{r[key]:>{w}{fmt}}" if fmt else f"{r[key]!s:>{w}}" for key, _, w, fmt in columns))
    return "\n".join(lines)


def save_table(rows, out_dir, stem="evaluation"):
    """Write ``rows`` to ``out_dir/stem.json`` and ``out_dir/stem.csv``; return both paths."""
    from sr_lib.files import replacing, write_json

    json_path, csv_path = Path(out_dir) / f"{stem}.json", Path(out_dir) / f"{stem}.csv"
    write_json(json_path, rows)
    with replacing(csv_path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path
