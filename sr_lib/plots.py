"""Images out: saving (PNG/JPEG/GIF, written atomically), pixel-exact grids, labelled figures and
inline previews."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def to_uint8(image):
    """Float [0, 1] -> uint8 0..255 (uint8 input is returned unchanged)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _save_atomic(im, path, **kwargs):
    """Save a PIL image to a temporary file beside ``path``, then rename it into place, so an
    interrupted save never leaves a truncated file (format from ``path``'s extension)."""
    from PIL import Image

    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: unknown image extension {path.suffix!r} (use .png, .jpg, ...)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        im.save(tmp, format=fmt, **kwargs)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def save_image(image, path):
    """Write an ``(H, W)`` or ``(H, W, 1 or 3)`` float [0, 1] or uint8 image."""
    from PIL import Image

    image = to_uint8(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
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


def _images(images):
    """Any (N, H, W[, 1]) batch (tensor or array, uint8 or float in [0, 1]) -> float (N, H, W)."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"expected grayscale images (N, H, W) or (N, H, W, 1), got {x.shape}")
    return np.clip(x, 0.0, 1.0)


def grid_array(images, ncols=10, pad=1, pad_value=1.0):
    """Tile a batch into one 2-D float array, ``ncols`` images a row, ``pad`` pixels apart."""
    x = _images(images)
    n, h, w = x.shape
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), pad_value, np.float32)
    for i, im in enumerate(x):
        r, c = divmod(i, ncols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = im
    return out


def save_grid(images, path, ncols=None, scale=1, pad=1):
    """Save a grid PNG, pixel for pixel (``scale`` times nearest-neighbour enlarged).

    ``images`` is one batch, or a list of equally long batches (one row each, sizes may differ:
    smaller images are centred in the largest cell).
    """
    from PIL import Image

    if isinstance(images, (list, tuple)):
        rows = [_images(b) for b in images]
        h = max(r.shape[1] for r in rows)
        w = max(r.shape[2] for r in rows)
        ncols = ncols or max(len(r) for r in rows)
        batch = np.concatenate([_pad_to(r, h, w) for r in rows])
    else:
        batch = _images(images)
        ncols = ncols or min(len(batch), 10)
    grid = grid_array(batch, ncols=ncols, pad=pad)
    im = Image.fromarray(np.round(grid * 255).astype(np.uint8), mode="L")
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    return _save_atomic(im, path)


def _pad_to(x, h, w):
    dh, dw = h - x.shape[1], w - x.shape[2]
    return np.pad(x, ((0, 0), (dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)),
                  constant_values=1.0)


def compare(columns, hr=None, n=8, title=None):
    """A figure with one row per method in ``columns`` (name -> images), ``n`` images each.

    With ``hr`` given, each image is captioned with its PSNR against ``hr``.
    """
    import matplotlib.pyplot as plt

    from sr_lib.metrics import psnr

    names = list(columns)
    fig, axes = plt.subplots(len(names), n, figsize=(1.2 * n, 1.35 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        images = _images(columns[name])[:n]
        scores = None
        if hr is not None and images.shape[1:] == _images(hr).shape[1:]:
            scores = np.asarray(psnr(images[..., None], _images(hr)[:n, ..., None]))
        for c, ax in enumerate(axes[r]):
            ax.imshow(images[c], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if scores is not None and np.isfinite(scores[c]):
                ax.set_title(f"{scores[c]:.1f} dB", fontsize=7, pad=2)
        axes[r, 0].set_ylabel(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show(fig, path=None, dpi=80, save_dpi=150):
    """Save ``fig`` full size to ``path`` (if given), display a small ``dpi`` preview, close it.

    Works with any matplotlib backend, so notebooks render the same under nbval and Jupyter.
    """
    import matplotlib.pyplot as plt

    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=save_dpi, bbox_inches="tight")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover - outside IPython there is nothing to show
        return
    display(Image(data=buf.getvalue()))


def show_png(path, width=None):
    """Display a saved PNG inline (e.g. a grid from :func:`save_grid`)."""
    from IPython.display import Image, display

    display(Image(filename=str(path), width=width))


def image_table(rows, col_titles=None, size=1.6, title=None):
    """A figure of single images: ``rows`` maps a row name to a list of images (any sizes).

    ``None`` leaves a cell empty. Each image is drawn at the same display size, so an 8x LR
    input and its 56x56 upscale sit side by side pixel-true in shape.
    """
    import matplotlib.pyplot as plt

    names = list(rows)
    ncols = max(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(names), ncols, figsize=(size * ncols, size * len(names)),
                             squeeze=False)
    for r, name in enumerate(names):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([]), ax.set_yticks([])
            image = rows[name][c] if c < len(rows[name]) else None
            if image is None:
                ax.axis("off")
                continue
            ax.imshow(_images(np.asarray(image)[None])[0], cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            if r == 0 and col_titles:
                ax.set_title(col_titles[c], fontsize=8)
        axes[r, 0].set_ylabel(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_images(images, titles=None, cols=None, inches=3.0, pixels=400, normalize=False):
    """Display images in a row (or ``cols`` per row), each downsampled to at most ``pixels``.

    Big renders are previewed small so notebooks stay light; small ones are drawn with visible
    pixels. ``normalize`` stretches each image's own range to [0, 1] (e.g. coordinate channels).
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    images = list(images)
    cols = cols or len(images)
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(inches * cols, inches * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        image = np.asarray(images[i], dtype=None)
        if normalize:
            image = (image - image.min()) / max(float(image.max() - image.min()), 1e-12)
        image = to_uint8(image)
        image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        if max(image.shape[:2]) > pixels:
            h, w = image.shape[:2]
            factor = pixels / max(h, w)
            image = np.asarray(Image.fromarray(image).resize(
                (max(1, round(w * factor)), max(1, round(h * factor))), Image.LANCZOS))
        ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if titles:
            ax.set_title(titles[i], fontsize=10)
    fig.tight_layout()
    show(fig, dpi=72)
