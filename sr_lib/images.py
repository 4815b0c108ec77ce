"""Pictures in and out: reading (8/16-bit, float, transparency), atomic writing (images, GIFs,
grids), uint8/float conversion, grey and luma, the picture suffixes and the folder lister.

:func:`read_picture` and :func:`write_picture` carry a photograph through as it came in: upright
(EXIF orientation applied, then reset to 1), its ICC profile and EXIF kept, alpha apart, and its
depth (16-bit PNG and TIFF, float TIFF)."""

import dataclasses
import struct
import zlib
from pathlib import Path

import numpy as np

SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
WRITABLE = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF", "PPM", "TGA", "ICO", "JPEG2000")
WITH_ALPHA = ("PNG", "WEBP", "TIFF", "TGA", "ICO", "JPEG2000")  # the others: composited on white
OPAQUE_ALPHA = 248  # alpha from here up is opaque for the photo protocol (Patak: 76 pixels at 253)
DEEP = {"PNG": ("16",), "TIFF": ("16", "float")}  # the depths beyond 8-bit each format holds
TIFF_LAYOUT = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284,
               292, 293, 317, 320, 322, 323, 324, 325, 338, 339, 340, 341, 530, 531, 532, 700,
               33723, 34377, 34665, 34675, 34853, 37724}  # pixels, profile, XMP/IPTC/Photoshop
ORIENTATION = 0x0112  # the EXIF tag; its values 2..8 as numpy flips and turns of an (H, W, ...)
UPRIGHT = {2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
           5: lambda x: x.swapaxes(0, 1), 6: lambda x: np.rot90(x, -1),
           7: lambda x: x[::-1, ::-1].swapaxes(0, 1), 8: lambda x: np.rot90(x, 1)}


def image_files(folder, recursive=False):
    """The sorted :data:`SUFFIXES` files in ``folder`` (and below), else a one-line ValueError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    found = folder.rglob("*") if recursive else folder.glob("*")
    files = sorted(p for p in found if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"{folder}: no pictures ({', '.join(sorted(SUFFIXES))}) found")
    return files


def translucent(picture):
    """Whether ``picture`` (a path, or its opened PIL image) has a pixel more than 1/32
    transparent (alpha under :data:`OPAQUE_ALPHA`): an alpha channel that is (nearly) 255
    everywhere does not count."""
    image = open_image(picture) if isinstance(picture, (str, Path)) else picture
    if not image.has_transparency_data:
        return False
    with_alpha = image if "A" in image.getbands() else image.convert("RGBA")  # palette + tRNS
    return with_alpha.getchannel("A").getextrema()[0] < OPAQUE_ALPHA


def opaque_pictures(files, report=None, min_side=1):
    """``(opaque, translucent)`` lists of ``files``, each decoded once (a one-line ValueError
    for one that does not decode or is under ``min_side`` a side); ``report`` (e.g. ``print``),
    if given, is called with one line naming the translucent ones. The photo protocol and photo
    training use only the opaque ones: under a transparent pixel the colour is undefined (often
    black), and scoring or learning it as a picture's colour makes flat areas that flatter every
    upscaler."""
    see = [translucent(_checked(f, min_side)) for f in files]
    opaque = [f for f, t in zip(files, see) if not t]
    left_out = [f for f, t in zip(files, see) if t]
    if report is not None and left_out:
        report(f"note: leaving out {len(left_out)} translucent pictures (photo training and the "
               f"photo protocol use opaque ones only): {', '.join(f.name for f in left_out)}")
    return opaque, left_out


def _checked(path, min_side):
    """The opened still picture in ``path`` (as :func:`read_picture` will read it), or a one-line
    ValueError if it is under ``min_side`` a side or has several frames."""
    image = open_image(path, still=True)
    if min(image.size) < min_side:
        raise ValueError(f"{path}: {image.size[0]}x{image.size[1]} is under {min_side} pixels "
                         "a side")
    return image


def luma(rgb):
    """ITU-R BT.601 studio-range luma of RGB in [0, 1] (what SR papers measure)."""
    return (16.0 + np.asarray(rgb, np.float64) @ np.array([65.481, 128.553, 24.966])) / 255.0


def to_uint8(image):
    """Float [0, 1] -> uint8 (uint8 returned as is), 4M values at a time (small temporaries)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    out = np.empty(image.shape, np.uint8)
    src, dst, step = image.reshape(-1), out.reshape(-1), 2**22
    for i in range(0, src.size, step):
        dst[i:i + step] = np.round(np.clip(src[i:i + step], 0.0, 1.0) * 255.0)
    return out


def image_format(path):
    """The format of :data:`WRITABLE` that ``path``'s extension names, else a ``ValueError``."""
    from PIL import Image

    if (fmt := Image.registered_extensions().get(Path(path).suffix.lower())) not in WRITABLE:
        raise ValueError(f"{path}: cannot write {Path(path).suffix!r} pictures (use .png, .jpg, "
                         ".webp, .tif, .bmp, .gif, .ppm, .tga, .ico, .jp2)")
    return fmt


def _save_atomic(im, path, **kwargs):
    """Save a PIL image atomically (:func:`sr_lib.files.replacing`), format from the extension."""
    from sr_lib.files import replacing

    fmt = image_format(path)
    with replacing(path) as tmp:
        im.save(tmp, format=fmt, **kwargs)
    return Path(path)


def open_image(path, still=False):
    """The PIL image in ``path``, fully read; unreadable files and bombs (and, if ``still``,
    animations) are a ``ValueError``."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if still and getattr(im, "n_frames", 1) > 1:
                raise ValueError(f"{path}: has {im.n_frames} frames; only still pictures are "
                                 "upscaled (extract the frames first)")
            im.load()
            copy = im.copy()
            copy.format = im.format  # what read_picture goes by (a copy has none)
            if im.format == "TIFF":  # a copy loses a TIFF's tags: keep its EXIF as bytes
                copy.info["exif"] = _tiff_exif(im)
            return copy
    except (OSError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        raise ValueError(f"{path}: not a readable image ({exc})") from None


def _tiff_exif(im):
    """The EXIF of an open TIFF as bytes: its first IFD's descriptive tags (camera, date,
    orientation, ...) and its Exif and GPS sub-IFDs, without the tags that lay out its pixels."""
    from PIL import Image

    tags, out = im.getexif(), Image.Exif()
    for tag, value in tags.items():
        if tag not in TIFF_LAYOUT:
            out[tag] = value
    for ifd in (0x8769, 0x8825):  # Exif, GPS
        if tags.get_ifd(ifd):
            out.get_ifd(ifd).update(tags.get_ifd(ifd))
    return out.tobytes()


def to_grey(rgb):
    """Float RGB (..., 3) as full-range grey (...), PIL's ``convert("L")`` weights."""
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def load_image(path, colour=False, picture=None):
    """An image file (or its :func:`read_picture` ``picture``) as float32 (H, W), or (H, W, 3)
    with ``colour``, in [0, 1]: upright, transparency composited onto black, 16-bit grey and float
    kept (a 16-bit colour PNG read as 8-bit: its decoder would start TensorFlow); and notes on what
    was converted. The one reader behind it is :func:`read_picture`."""
    picture = read_picture(path, deep=False) if picture is None else picture
    x, notes = picture.pixels, list(picture.notes)
    if x.ndim == 3 and not colour:
        notes.append(f"{path} is colour; converting it to grayscale (the digit models were "
                     "trained on MNIST digits, not colour pictures)")
    if picture.alpha is not None:
        notes.append(f"{path} has transparency; compositing it onto black")
        x = x * (picture.alpha if x.ndim == 2 else picture.alpha[..., None])
    x = to_grey(x) if x.ndim == 3 and not colour else x
    x = np.repeat(x[..., None], 3, axis=-1) if colour and x.ndim == 2 else x
    return np.clip(x, 0.0, 1.0).astype(np.float32), notes


@dataclasses.dataclass
class Picture:
    """A picture as read: ``pixels`` float32 (H, W) grey or (H, W, 3) colour in [0, 1], upright;
    ``alpha`` (H, W) or ``None``; ``depth`` "8", "16" or "float"; ``icc``, ``exif`` bytes or
    ``None`` (EXIF with orientation 1); ``notes`` on what was converted."""
    pixels: np.ndarray
    alpha: object = None
    depth: str = "8"
    icc: object = None
    exif: object = None
    notes: list = dataclasses.field(default_factory=list)


def _deep_pixels(path, mode=None, png=True):
    """16-bit PNG (if ``png``: TensorFlow decodes it), 16-bit and float TIFF colour (or any TIFF
    PIL cannot read: ``mode`` None) as ``(float (H, W[, C]), depth)``, else ``None`` (PIL reads
    them as 8-bit; grey ``I;16`` and ``F`` it keeps itself)."""
    if mode in GREY_MODES:
        return None
    with open(path, "rb") as f:
        head = f.read(32)
    if png and head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) > 24 and head[24] == 16:
        import tensorflow as tf

        data = tf.io.decode_png(tf.io.read_file(str(path)), dtype=tf.uint16).numpy()
        return data / 65535.0, "16"
    if head[:4] in (b"II*\0", b"MM\0*"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if page.dtype.itemsize > 1 or mode is None:
                data = page.asarray()
                if data.dtype.kind == "f":
                    return data, "float"
                depth = "16" if data.dtype.itemsize > 1 else "8"
                return data / float(np.iinfo(data.dtype).max), depth
    return None


def read_picture(path, deep=True):
    """``path`` as a :class:`Picture`: EXIF orientation applied, profile and EXIF kept, alpha
    apart, 16-bit and float depth kept (a 16-bit colour PNG as 8-bit without ``deep``: that one
    needs TensorFlow); CMYK, LAB and other modes converted to sRGB (noted). A file it cannot
    read is a one-line ``ValueError``."""
    import io

    from PIL import Image, ImageCms

    def pixels(mode=None):
        try:
            return _deep_pixels(path, mode, png=deep)
        except Exception as exc:  # tifffile's and TensorFlow's own errors on a damaged file
            raise ValueError(f"{path}: not a readable image ({exc})".splitlines()[0]) from None

    try:
        im = open_image(path, still=True)
    except ValueError:
        deep_read = pixels() if Path(path).is_file() else None  # a TIFF only tifffile reads
        if deep_read is None:
            raise
        im = Image.new("RGB", (1, 1))  # no metadata; the pixels come from tifffile
        x, depth = deep_read
    else:
        x, depth = pixels(im.mode) or (None, "8")
    exif, notes, icc = im.getexif(), [], im.info.get("icc_profile")
    orientation = exif.get(ORIENTATION, 1)
    if ORIENTATION in exif:
        exif[ORIENTATION] = 1
    if x is None and im.mode not in GREY_MODES + ("RGB", "RGBA", "P", "PA"):  # CMYK, LAB, ...
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else (
            ImageCms.createProfile("LAB") if im.mode == "LAB" else None)
        srgb = ImageCms.createProfile("sRGB")
        notes.append(f"{path} is {im.mode}; converted to sRGB")
        try:
            im = (ImageCms.profileToProfile(im, source, srgb, outputMode="RGB") if source
                  else im.convert("RGB"))
        except (ImageCms.PyCMSError, OSError) as exc:  # a damaged embedded profile
            raise ValueError(f"{path}: its colour profile cannot be used ({exc})") from None
        icc = ImageCms.ImageCmsProfile(srgb).tobytes()
    if x is None and (im.mode.startswith("I") or im.mode == "F"):
        x, depth = np.asarray(im, np.float64), "float" if im.mode == "F" else "16"
        x = x if im.mode == "F" else x / 65535.0
    elif x is None:
        mode = ("LA" if im.mode in GREY_MODES else "RGBA") if im.has_transparency_data else (
            "L" if im.mode in GREY_MODES else "RGB")
        x = np.asarray(im.convert(mode), np.float64) / 255.0
    if depth == "float" and (x.min() < 0 or x.max() > 1):
        notes.append(f"{path} is a float image with values outside [0, 1]; clipping them")
    x = x[..., 0] if x.ndim == 3 and x.shape[-1] == 1 else x
    alpha = x[..., -1] if x.ndim == 3 and x.shape[-1] in (2, 4) else None
    x = x if alpha is None else x[..., 0] if x.shape[-1] == 2 else x[..., :3]
    turn = UPRIGHT.get(orientation, lambda a: a)

    def upright(a):
        return None if a is None else np.ascontiguousarray(turn(np.clip(a, 0, 1))).astype(
            np.float32)

    return Picture(upright(x), upright(alpha), depth, icc, exif.tobytes() if len(exif) else None,
                   notes)


def _png_chunks(png, icc=None, exif=None):
    """``png`` bytes with an iCCP (``icc``) and an eXIf (``exif``) chunk after the header."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    extra = (chunk(b"iCCP", b"icc\0\0" + zlib.compress(icc)) if icc else b"") + (
        chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif) if exif else b"")
    return png[:33] + extra + png[33:]  # 8-byte signature + the 25-byte IHDR chunk


def write_picture(picture, path, quality=None):
    """Write a :class:`Picture` to ``path`` (format from the extension) with its profile, EXIF,
    alpha (where the format holds it; else composited on white) and depth (16-bit PNG and TIFF,
    float TIFF; else 8-bit). JPEG: ``quality`` (default 95) at 4:4:4; WebP: lossless unless
    ``quality``. Returns the notes on what could not be kept."""
    from PIL import Image

    from sr_lib.files import replacing

    fmt, notes = image_format(path), []
    x, alpha = picture.pixels, picture.alpha
    if alpha is not None and fmt not in WITH_ALPHA:
        notes.append(f"{Path(path).suffix} cannot hold transparency; composited onto white")
        a = alpha if x.ndim == 2 else alpha[..., None]
        x, alpha = x * a + (1.0 - a), None
    x = x if alpha is None else np.dstack([x, alpha])
    depth = picture.depth if picture.depth in DEEP.get(fmt, ()) else "16" if (
        picture.depth == "float" and fmt == "PNG") else "8"
    with replacing(path) as tmp:
        if depth == "8":
            options = {"JPEG": dict(quality=quality or 95, subsampling=0),
                       "WEBP": dict(quality=quality, exact=True) if quality else dict(lossless=True,
                                                                                   exact=True)}
            meta = {k: v for k, v in (("icc_profile", picture.icc), ("exif", picture.exif)) if v}
            Image.fromarray(to_uint8(x)).save(tmp, format=fmt, **options.get(fmt, {}), **meta)
        elif fmt == "PNG":
            import tensorflow as tf

            deep = np.round(np.clip(x, 0, 1) * 65535).astype(np.uint16)
            png = tf.io.encode_png(deep if deep.ndim == 3 else deep[..., None]).numpy()
            tmp.write_bytes(_png_chunks(png, picture.icc, picture.exif))
        else:
            import tifffile

            data = x.astype(np.float32) if depth == "float" else np.round(
                np.clip(x, 0, 1) * 65535).astype(np.uint16)
            tifffile.imwrite(tmp, data, photometric="minisblack" if x.ndim == 2 or
                             x.shape[-1] == 2 else "rgb", extrasamples=[2] if alpha is not None
                             else None, iccprofile=picture.icc, compression="zlib")
            if picture.exif:
                notes.append(f"{path}: EXIF is not written into {depth}-bit TIFF (profile kept)")
    return notes


def save_image(image, path):
    """Write an ``(H, W)`` or ``(H, W, 1 or 3)`` float [0, 1] or uint8 image."""
    from PIL import Image

    image = to_uint8(image)
    image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    return _save_atomic(Image.fromarray(image), path)


def save_gif(frames, path, fps=20):
    """Write ``(n, H, W, 1 or 3)`` frames (uint8 or float [0, 1]) as a looping animated GIF."""
    from PIL import Image

    frames = to_uint8(frames)
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or len(frames) == 0:
        raise ValueError(f"frames must be (n, H, W, 1 or 3), got {frames.shape}")
    images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    return _save_atomic(images[0], path, save_all=True, append_images=images[1:],
                        duration=round(1000 / fps), loop=0)


def float_batch(images):
    """A uint8 or float (N, H, W[, 1]) or (N, H, W, 3) batch -> float (N, H, W[, 3])."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 and not (x.ndim == 4 and x.shape[-1] == 3):
        raise ValueError(f"expected images (N, H, W), (N, H, W, 1) or (N, H, W, 3), got {x.shape}")
    return np.clip(x, 0.0, 1.0)


def grid_array(images, ncols=10, pad=1, pad_value=1.0):
    """Tile a batch into one float array, ``ncols`` images a row, ``pad`` pixels apart."""
    x = float_batch(images)
    n, h, w = x.shape[:3]
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, *x.shape[3:]), pad_value,
                  np.float32)
    for i, im in enumerate(x):
        top, left = pad + i // ncols * (h + pad), pad + i % ncols * (w + pad)
        out[top:top + h, left:left + w] = im
    return out


def save_grid(images, path, ncols=None, scale=1, pad=1):
    """Save a pixel-exact grid PNG (``scale`` x) of a batch, or of a list of batches, one a row."""
    from PIL import Image

    if isinstance(images, (list, tuple)):
        rows = [float_batch(b) for b in images]
        if len({r.ndim for r in rows}) > 1:  # grey rows beside colour ones
            rows = [np.repeat(r[..., None], 3, -1) if r.ndim == 3 else r for r in rows]
        h, w = max(r.shape[1] for r in rows), max(r.shape[2] for r in rows)
        ncols = ncols or max(len(r) for r in rows)
        batch = np.concatenate([_pad_to(r, h, w) for r in rows])
    else:
        batch = float_batch(images)
        ncols = ncols or min(len(batch), 10)
    im = Image.fromarray(np.round(grid_array(batch, ncols=ncols, pad=pad) * 255).astype(np.uint8))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    return _save_atomic(im, path)


def _pad_to(x, h, w):
    dh, dw = h - x.shape[1], w - x.shape[2]
    return np.pad(x, ((0, 0), (dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2))
                  + ((0, 0),) * (x.ndim - 3), constant_values=1.0)
