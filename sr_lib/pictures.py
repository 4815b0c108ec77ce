"""Upscaling picture files, one or a whole folder: each read and written as it came in
(:func:`sr_lib.images.read_picture`), the model chosen per picture, transparency apart (by the
picture's colour model, else bicubic)."""

import collections
import time
from pathlib import Path

import numpy as np

from sr_lib.files import check_output
from sr_lib.images import (Picture, image_files, image_format, read_picture, to_grey,
                           write_picture)
from sr_lib.registry import DEFAULT, bundled
from sr_lib.upscalers import get_upscaler

DIGIT_MAX_SIDE = 64  # grey pictures up to this size are digits (MNIST: 28x28), larger ones photos
# Transparency goes through the picture's own model when that is a colour model (as grey RGB):
# scripts/alpha_probe.py measured the photo model over bicubic, PSNR at x2 / x4: +8.6 / +5.1 dB
# on the edges of 6 cut-out masks (at least +7.9 / +4.3 on each), +3.7 / +2.6 on 8 real alpha
# channels of translucent wallpapers (one, Stripes, -0.7 / -0.4): readme_assets/alpha_probe.json.
# Other models' alpha (the digit model, interpolations): ALPHA_METHOD.
ALPHA_METHOD = "bicubic"
ICO_MAX = 256
PROGRESS_PIXELS = 10**6  # a progress bar for work on at least this many (input + output) pixels


def default_model(colour, size):
    """The photos' model for colour pictures and grey ones over :data:`DIGIT_MAX_SIDE` pixels a
    side (grey photographs), the digits' for smaller grey ones."""
    kind = "photos" if colour or max(size) > DIGIT_MAX_SIDE else "digits"
    return DEFAULT[kind] if DEFAULT[kind] in bundled() else DEFAULT["digits"]


def _check_ico(dst, out_size):
    if image_format(dst) == "ICO" and max(out_size) > ICO_MAX:
        raise ValueError(f"{dst}: .ico holds at most {ICO_MAX}x{ICO_MAX}, not "
                         f"{out_size[0]}x{out_size[1]}")


def _cached(cache, name):
    """The upscaler of ``name``, loaded once per ``cache`` (a folder's pictures share one)."""
    if str(name) not in cache:
        cache[str(name)] = get_upscaler(name)
    return cache[str(name)]


def upscale_grey(upscale, image, size, progress=False):
    """``upscale`` (an upscaler) of ``image`` to ``size``; a grey (H, W) image through a colour
    model goes in as grey RGB and comes out as the mean of the three channels: grey in, grey out."""
    if image.ndim == 2 and upscale.channels == 3:
        grey_rgb = np.repeat(image[..., None], 3, axis=-1)
        return upscale(grey_rgb, size, progress=progress).mean(axis=-1)
    return upscale(image, size, progress=progress)


def check_pair(src, dst, size=None, scale=None):
    """A one-line ``ValueError`` for an output that cannot be written, before any work: a folder,
    an unknown format, the input itself, an ``.ico`` over 256 pixels."""
    dst = check_output(dst)
    if Path(dst).resolve() == Path(src).resolve():
        raise ValueError(f"{dst}: refusing to write over the input picture")
    if image_format(dst) == "ICO":
        from PIL import Image

        with Image.open(src) as im:  # the header only
            _check_ico(dst, size or [max(1, int(n * (scale or 4) + 0.5)) for n in im.size[::-1]])
    return dst


def upscale_file(src, dst, size=None, *, scale=None, model=None, quality=None, progress=False,
                 upscalers=None):
    """Upscale the picture ``src`` into ``dst`` (format from its extension) to ``size`` (H, W) or
    by ``scale`` (default 4 for any-size models) with ``model`` (default :func:`default_model`).
    Orientation, profile, EXIF, alpha and depth are kept (see :func:`sr_lib.images.write_picture`;
    ``quality`` for JPEG and lossy WebP; ``progress``: a bar for a megapixel or more).
    Returns ``(model name, (H, W), notes)``."""
    check_pair(src, dst, size, scale)
    picture = read_picture(src)
    lr, notes = picture.pixels, list(picture.notes)
    colour = lr.ndim == 3
    name = model if model is not None else default_model(colour, lr.shape[:2])
    cache = {} if upscalers is None else upscalers
    upscale = _cached(cache, name)
    if colour and upscale.channels == 1:
        lr = to_grey(lr)
        notes.append(f"{src} is colour; {name} takes grey images: converted to grey")
    any_size = size is None and scale is None and upscale.hr_size is None
    out_size = upscale.output_size(lr.shape[:2], size, 4.0 if any_size else scale)
    _check_ico(dst, out_size)  # a fixed-size model's own size, known only now
    work = out_size[0] * out_size[1] + lr.shape[0] * lr.shape[1]
    progress = progress and work >= PROGRESS_PIXELS
    sr = upscale_grey(upscale, lr, out_size, progress=progress)
    alpha = picture.alpha
    if alpha is not None and alpha.min() == alpha.max():  # one value (often opaque): no work
        alpha = np.full(out_size, alpha.flat[0], np.float32)
    elif alpha is not None:
        alpha_up = upscale if upscale.channels == 3 else _cached(cache, ALPHA_METHOD)
        alpha = np.clip(upscale_grey(alpha_up, alpha, out_size, progress=progress), 0.0, 1.0)
    out = Picture(sr, alpha, picture.depth, picture.icc, picture.exif)
    notes += write_picture(out, dst, quality=quality)
    return str(name), out_size, notes


def upscale_files(src_dir, out_dir, size=None, *, scale=None, model=None, quality=None,
                  recursive=False, overwrite=False, progress=True, log=print):
    """Upscale every picture in ``src_dir`` (and below, if ``recursive``) into the same relative
    path under ``out_dir``, with one model load and one progress bar (pictures, with an ETA).
    Existing outputs are skipped unless ``overwrite``; a picture that fails is logged and
    the rest go on. Returns ``{"done": [...], "skipped": [...], "failed": [(path, message)]}``."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: is a file; give a folder for a folder's pictures")
    check_output(out_dir / "probe.png")  # a writable place, before any work
    inside = out_dir.resolve()
    files = [p for p in image_files(src_dir, recursive)
             if inside not in p.resolve().parents]  # never re-upscale our own outputs
    result = {"done": [], "skipped": [], "failed": []}
    todo = []
    for path in files:
        dst = out_dir / path.relative_to(src_dir)
        (result["skipped"].append(dst) if dst.exists() and not overwrite
         else todo.append((path, dst)))
    bar = None
    if todo:
        from sr_lib.runtime import quiet_tensorflow

        quiet_tensorflow()  # TensorFlow starts here, without its start-up lines on stderr
        if progress:
            import keras

            bar = keras.utils.Progbar(len(todo), unit_name="picture")
    upscalers, start, used = {}, time.perf_counter(), collections.Counter()
    for path, dst in todo:
        try:
            name, out_size, notes = upscale_file(path, dst, size, scale=scale, model=model,
                                                 quality=quality, upscalers=upscalers)
            result["done"].append(dst)
            used[name] += 1
            for note in notes:
                log(f"note: {note}")
        except (ValueError, OSError) as exc:
            result["failed"].append((path, str(exc)))
            log(f"failed: {exc}")
        if bar is not None:
            bar.add(1)
    models = f" ({', '.join(f'{k}: {n}' for k, n in sorted(used.items()))})" if used else ""
    log(f"{len(result['done'])} upscaled{models}, {len(result['skipped'])} skipped (outputs exist; "
        f"overwrite replaces them), {len(result['failed'])} failed, in "
        f"{time.perf_counter() - start:.1f} s")
    return result
