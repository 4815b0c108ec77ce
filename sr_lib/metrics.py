"""Metrics (PSNR / SSIM via ``tf.image``, a sharpness measure) and the one evaluation harness."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from sr_lib.coords import size_pair
from sr_lib.data import degrade, to_float


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


def format_table(rows):
    """The rows of :func:`evaluate` as an aligned text table."""
    width = max([len("method")] + [len(str(r["method"])) for r in rows]) + 2
    header = f"{'method':<{width}}{'LR':>6}{'HR':>6}{'n':>7}{'PSNR dB':>10}{'SSIM':>8}{'images/s':>12}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['method']:<{width}}{r['lr_size']!s:>6}{r['hr_size']!s:>6}{r['n']:>7}"
                     f"{r['psnr']:>10.2f}{r['ssim']:>8.4f}{r['images_per_s']:>12.0f}")
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
