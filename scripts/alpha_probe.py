"""Which upscaler should carry a picture's transparency: bicubic or the photo model (as grey)?

    python scripts/alpha_probe.py [--photos photos] [--model photo] [--scales 2 4]
                                  [--out readme_assets/alpha_probe.json]

Two kinds of alpha channel, each degraded with the project's one ``degrade`` (antialiased
bicubic) and upscaled back by both, as :func:`sr_lib.pictures.upscale_file` would:

* *real*: the alpha channels of every translucent picture of ``sr-lib photos DIR`` (train, val
  and test: no model here was trained on an alpha channel), shrunk to at most 1024 pixels a side;
* *cut-out*: sticker-like masks with hard, antialiased edges: a centre crop of each held-out
  photograph's luma (up to 2048 pixels a side), blurred (a Gaussian of 16 pixels) so that the
  shapes are blobs rather than texture, thresholded at its median and area-averaged 4x.

Scored by PSNR over the whole channel and over its edge band (pixels whose HR alpha is strictly
between 0.02 and 0.98, grown by 2 pixels), averaged over the channels of each kind. The real
channels of these wallpapers are translucent almost everywhere (the band covers most of them);
the cut-outs are where an edge is the question.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench_common import load_average, write  # same folder

from sr_lib.images import image_files, load_image, luma, opaque_pictures, read_picture


def real_alphas(photos, max_side=1024):
    import tensorflow as tf

    out = {}
    for split in ("train", "val", "test"):
        for path in opaque_pictures(image_files(Path(photos) / split))[1]:
            alpha = read_picture(path).alpha
            if max(alpha.shape) > max_side:
                f = max_side / max(alpha.shape)
                size = [round(s * f) for s in alpha.shape]
                alpha = tf.image.resize(alpha[None, ..., None], size, "area").numpy()[0, ..., 0]
            out[path.stem] = alpha.astype(np.float32)
    return out


def cut_outs(photos, side=2048, factor=4, blur=16):
    from PIL import Image, ImageFilter

    from sr_lib.images import to_uint8

    out = {}
    for path in image_files(Path(photos) / "test_photographs"):
        y = luma(load_image(path, colour=True)[0])
        top, left = (y.shape[0] - side) // 2, (y.shape[1] - side) // 2
        crop = y[max(top, 0):max(top, 0) + side, max(left, 0):max(left, 0) + side]
        crop = np.asarray(Image.fromarray(to_uint8(crop)).filter(ImageFilter.GaussianBlur(blur)))
        mask = (crop > np.median(crop)).astype(np.float32)
        h, w = (s // factor * factor for s in mask.shape)
        out[path.stem] = mask[:h, :w].reshape(h // factor, factor, w // factor, factor).mean((1, 3))
    return out


def edge_band(alpha, grow=2):
    """Pixels strictly between 0.02 and 0.98, grown by ``grow`` pixels (a square neighbourhood)."""
    band = (alpha > 0.02) & (alpha < 0.98)
    padded = np.pad(band, grow)
    h, w = band.shape
    return np.any([padded[i:i + h, j:j + w] for i in range(2 * grow + 1)
                   for j in range(2 * grow + 1)], axis=0)


def psnr(a, b, where=None):
    d = (np.asarray(a, np.float64) - b) ** 2
    mse = d[where].mean() if where is not None else d.mean()
    return float(10 * np.log10(1.0 / max(mse, 1e-12)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", default="photos")
    parser.add_argument("--model", default="photo")
    parser.add_argument("--scales", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--out", default="readme_assets/alpha_probe.json")
    args = parser.parse_args(argv)

    from sr_lib.data import degrade
    from sr_lib.pictures import upscale_grey
    from sr_lib.runtime import quiet_tensorflow
    from sr_lib.upscalers import get_upscaler

    quiet_tensorflow()
    methods = {"bicubic": get_upscaler("bicubic"), args.model: get_upscaler(args.model)}
    kinds = {"real": real_alphas(args.photos), "cut-out": cut_outs(args.photos)}
    start, result = time.perf_counter(), {"model": args.model, "kinds": {}}
    for kind, alphas in kinds.items():
        per = {}
        for name, hr in alphas.items():
            band = edge_band(hr)
            for scale in args.scales:
                h, w = (s // scale * scale for s in hr.shape)
                hr_s, band_s = hr[:h, :w], band[:h, :w]
                lr = degrade(hr_s[None, ..., None], (h // scale, w // scale)).numpy()[0, ..., 0]
                for method, up in methods.items():
                    sr = np.clip(upscale_grey(up, lr, (h, w)), 0, 1)
                    per.setdefault(name, {}).setdefault(str(scale), {})[method] = {
                        "psnr": psnr(sr, hr_s), "edge_psnr": psnr(sr, hr_s, band_s),
                        "edge_fraction": float(band_s.mean())}
            print(name, {s: {m: round(v["edge_psnr"], 2) for m, v in d.items()}
                         for s, d in per[name].items()}, flush=True)
        means = {s: {m: {k: float(np.mean([per[n][s][m][k] for n in per]))
                         for k in ("psnr", "edge_psnr")} for m in methods}
                 for s in map(str, args.scales)}
        result["kinds"][kind] = {"n": len(per), "mean": means, "pictures": per}
        print(kind, len(per), "channels:", means, flush=True)
    result.update(seconds=round(time.perf_counter() - start, 1), load_average=load_average())
    write(result, args.out)


if __name__ == "__main__":
    main()
