"""Data: loading MNIST (or your own images), the one LR degradation (:func:`degrade`, used by
training, evaluation, the notebooks and the CLI alike) and (LR, HR) pipelines."""

import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from sr_lib.coords import size_pair
from sr_lib.paths import MNIST as REPO_MNIST

MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
MAX_LR_SIZE = 4096
MAX_IDX_BYTES = 2**31  # 2 GiB of pixels per IDX file


class DataError(ValueError):
    """A dataset path or file that cannot be read as the expected format."""


def load_mnist(path=None, *, hr_size=None, fit="resize", test_fraction=0.1, seed=0,
               splits=("train", "test")):
    """``((x_train, y_train), (x_test, y_test))`` uint8 from ``path`` (an ``.npz``, IDX directory
    or image folder), else ``$SR_LIB_MNIST``, else the bundled ``mnist.npz``, else keras' MNIST;
    splits not in ``splits`` are ``(None, None)``."""
    if path is None and os.environ.get("SR_LIB_MNIST"):
        path = os.environ["SR_LIB_MNIST"]
    if path is None:
        if REPO_MNIST.exists():
            digest = hashlib.sha256(REPO_MNIST.read_bytes()).hexdigest()
            if digest != MNIST_SHA256:
                raise DataError(f"{REPO_MNIST}: sha256 {digest} is not the expected "
                                f"{MNIST_SHA256}; reinstall sr_lib")
            return _load_npz(REPO_MNIST, splits)
        import keras

        return keras.datasets.mnist.load_data()

    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction!r}")
    if str(path).strip() == "":
        raise DataError("the data path is empty (give a file or folder, or omit it for MNIST)")
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or directory (expected an .npz file, a directory "
                        "of IDX files, or a folder of images)")
    if hr_size is not None and (path.is_file() or _idx_files(path)):
        raise DataError(f"{path}: hr_size (--hr-size) applies to image folders only")
    if path.is_file():
        if path.suffix != ".npz":
            raise DataError(f"{path}: unsupported file; expected an .npz with x_train, y_train, "
                            "x_test, y_test, an IDX directory or an image folder")
        return _load_npz(path, splits)
    if _idx_files(path):
        return _load_idx_dir(path, splits)
    return _load_image_folder(path, hr_size=hr_size, fit=fit,
                              test_fraction=test_fraction, seed=seed)


def _load_npz(path, splits):
    keys = tuple(f"{a}_{s}" for s in splits for a in "xy")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in keys if k in f.files}
    except Exception as exc:  # zipfile / pickle errors
        raise DataError(f"{path}: not a readable .npz file ({exc})") from exc
    if len(arrays) < len(keys):
        raise DataError(f"{path}: missing arrays {[k for k in keys if k not in arrays]}; "
                        f"expected the keras MNIST layout x_train, y_train, x_test, y_test")
    for name, x in ((k, arrays[k]) for k in keys[::2]):
        if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (1, 3)):
            raise DataError(f"{path}: {name} has shape {x.shape}; expected (N, H, W) or "
                            "(N, H, W, 1|3)")
        if x.dtype != np.uint8:
            raise DataError(f"{path}: {name} has dtype {x.dtype}; expected uint8")
    return tuple((arrays.get(f"x_{s}"), arrays.get(f"y_{s}")) for s in ("train", "test"))


def _idx_files(folder):
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and "-idx" in p.name and "-ubyte" in p.name)


def read_idx(path, max_bytes=MAX_IDX_BYTES):
    """One (optionally gzipped) IDX file as numpy, its header size checked against ``max_bytes``."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            zero, dtype_code, ndim = struct.unpack(">HBB", f.read(4))
            if zero != 0 or dtype_code != 0x08:
                raise DataError(f"{path}: not an unsigned-byte IDX file")
            shape = struct.unpack(f">{ndim}I", f.read(4 * ndim))
            size = int(np.prod(shape, dtype=np.int64))
            if size > max_bytes:
                raise DataError(f"{path}: header says {shape} = {size:,} bytes, more than the "
                                f"limit of {max_bytes:,} (max_bytes)")
            data = f.read(size + 1)
        if len(data) != size:
            raise DataError(f"{path}: header says shape {shape} but holds {len(data)} values")
        return np.frombuffer(data, np.uint8).reshape(shape)
    except (OSError, struct.error, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable IDX file ({exc})") from exc


def _load_idx_dir(folder, splits):
    files = _idx_files(folder)

    def find(split, kind):
        prefixes = ("train",) if split == "train" else ("t10k", "test")
        hits = [p for p in files if p.name.startswith(prefixes) and f"-{kind}-idx" in p.name]
        if len(hits) != 1:
            raise DataError(f"{folder}: expected exactly one {'|'.join(prefixes)}-{kind}-idx*-ubyte"
                            f"[.gz] file, found {[p.name for p in hits]}")
        return read_idx(hits[0])

    def load(split):
        if split not in splits:
            return None, None
        x, y = find(split, "images"), find(split, "labels")
        if len(x) != len(y):
            raise DataError(f"{folder}: {split} has {len(x)} images but {len(y)} labels")
        return x, y

    return load("train"), load("test")


def _load_image_folder(folder, *, hr_size, fit, test_fraction, seed):
    from PIL import Image

    from sr_lib.images import image_files, load_image, read_picture, to_uint8

    if fit not in ("resize", "crop"):
        raise ValueError(f"fit must be 'resize' or 'crop', got {fit!r}")
    try:
        files = image_files(folder, recursive=True)
    except ValueError as exc:
        raise DataError(f"{exc}, and no IDX files; expected an .npz, an IDX directory or an "
                        "image folder") from None
    try:
        pictures = [read_picture(p, deep=False) for p in files]  # upright, as `upscale` reads
        # them (8-bit will do: they become uint8; and TensorFlow may not start yet, see cli)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    rgb = any(pic.pixels.ndim == 3 for pic in pictures)  # then every image is read as RGB
    if hr_size is None:
        sizes = {pic.pixels.shape[1::-1] for pic in pictures}
        if len(sizes) > 1:
            raise DataError(f"{folder}: images have different sizes {sorted(sizes)[:4]}...; pass "
                            "hr_size (the CLI's --hr-size) to resize or crop them to one size")
        width, height = sizes.pop()
    else:
        height, width = size_pair(hr_size, "hr_size")
    arrays = [np.asarray(_fit_image(Image.fromarray(to_uint8(load_image(p, rgb, pic)[0])),
                                    (width, height), fit)) for p, pic in zip(files, pictures)]
    x = np.stack(arrays).astype(np.uint8)
    subdirs = sorted({p.parent for p in files})
    y = np.array([subdirs.index(p.parent) if len(subdirs) > 1 else 0 for p in files], np.uint8)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction)) if len(x) > 1 else 0
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])


def _fit_image(im, size, fit):
    from PIL import Image

    width, height = size
    if fit == "crop":
        scale = max(width / im.width, height / im.height)
        if scale > 1:  # too small to crop: enlarge first
            im = im.resize((round(im.width * scale), round(im.height * scale)), Image.BICUBIC)
        left, top = (im.width - width) // 2, (im.height - height) // 2
        return im.crop((left, top, left + width, top + height))
    return im.resize((width, height), Image.BICUBIC)


def to_float(images):
    """uint8 (N, H, W[, C]) or float images -> float32 (N, H, W, C) in [0, 1]."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images)
    if images.shape.rank == 3:
        images = images[..., None]
    if images.shape.rank != 4:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {images.shape}")
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    if not images.dtype.is_floating:
        raise ValueError(f"images must be uint8 or float, got {images.dtype.name}")
    images = tf.cast(images, tf.float32)
    if tf.executing_eagerly() and tf.size(images):  # eager calls only (not inside tf.data maps)
        if not bool(tf.reduce_all(tf.math.is_finite(images))):
            raise ValueError("images contain NaN or infinite values")
        low, high = float(tf.reduce_min(images)), float(tf.reduce_max(images))
        if low < -0.25 or high > 1.25:  # a little interpolation overshoot is fine
            raise ValueError(f"float images must lie in [0, 1], got values in [{low:g}, {high:g}] "
                             "(divide by 255, or pass uint8)")
    return images


def degrade(hr, size):
    """The LR float32 (N, h, w, C) of ``hr``: antialiased bicubic downsample to ``size``, clipped;
    ``hr`` a uint8 or [0, 1] float batch (N, H, W) (N grayscale images) or (N, H, W, C)."""
    height, width = size_pair(size, "size", MAX_LR_SIZE)
    x = to_float(hr)
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(f"cannot degrade empty images of shape {tuple(x.shape)}")
    return _downsample(x, (height, width))


def _downsample(x, size):
    import tensorflow as tf

    return tf.clip_by_value(tf.image.resize(x, size, method="bicubic", antialias=True), 0.0, 1.0)


def pairs(hr, lr_size, *, batch_size=64, shuffle=True, seed=0, mix=None, drop_remainder=False):
    """A ``tf.data.Dataset`` of batched (LR, HR) float32 pairs from ``hr`` (an array or a dataset
    of float images) by :func:`degrade`, or by :func:`sr_lib.degradations.random_degrade` with a
    ``mix``; ``lr_size`` an int, (H, W) or a ``range`` of square sizes drawn per batch (seeded);
    ``drop_remainder`` drops a last, partial batch."""
    import tensorflow as tf

    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if isinstance(hr, tf.data.Dataset):  # a stream of float HR images, e.g. photos.patches
        ds = hr
    else:
        hr = to_float(hr)
        if hr.shape[0] == 0:
            raise ValueError("no images to build pairs from")
        ds = tf.data.Dataset.from_tensor_slices(hr)
        if shuffle:
            ds = ds.shuffle(min(int(hr.shape[0]), 10_000), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    if isinstance(lr_size, range):
        sizes = [size_pair(s, "lr_size", MAX_LR_SIZE)[0] for s in lr_size]
        if not sizes:
            raise ValueError("lr_size range is empty")
        choices = tf.constant(sizes, tf.int32)

        def size_of(r):  # a random square LR size per batch
            s = choices[tf.cast(r % len(sizes), tf.int32)]
            return tf.stack([s, s])
    else:
        fixed = size_pair(lr_size, "lr_size", MAX_LR_SIZE)

        def size_of(r):
            return fixed
    # one seeded draw per batch: its LR size and its degradations (a fixed sequence unshuffled)
    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=shuffle)
    ds = tf.data.Dataset.zip(ds, draws)

    def make(batch, r):
        if mix is None:
            return _downsample(batch, size_of(r)), batch
        from sr_lib.degradations import random_degrade

        return random_degrade(batch, size_of(r), tf.stack([r // 7919, r % 7919]), mix), batch
    return ds.map(make, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
