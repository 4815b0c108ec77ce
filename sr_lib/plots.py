"""Figures only: labelled image grids and inline previews (picture files: :mod:`sr_lib.images`).

Every figure is legible at the size a notebook shows it: captions :data:`CAPTION` points, row
names :data:`CAPTION` points written across, figure titles :data:`TITLE` points."""

import io

import numpy as np

from sr_lib.images import float_batch, to_uint8

CAPTION = 10  # points: panel captions and row names
TITLE = 12  # points: figure titles


def _display(image, pixels, normalize=False):
    """One (H, W[, 1|3]) image as uint8 for ``imshow``, at most ``pixels`` a side."""
    from PIL import Image

    image = np.asarray(image)
    if normalize:
        image = (image - image.min()) / max(float(image.max() - image.min()), 1e-12)
    image = to_uint8(image)
    image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    if max(image.shape[:2]) > pixels:
        h, w = image.shape[:2]
        f = pixels / max(h, w)
        image = np.asarray(Image.fromarray(image).resize(
            (max(1, round(w * f)), max(1, round(h * f))), Image.LANCZOS))
    return image


def _figure(cells, row_names=None, titles=None, inches=1.6, title=None, pixels=400,
            normalize=False, box=None):
    """A grid figure of ``cells`` (rows of images or ``None``), ``titles`` per cell or column;
    ``box``: (top, left, side) in image pixels, outlined in red on every panel."""
    import matplotlib.pyplot as plt

    ncols = max(len(row) for row in cells)
    fig, axes = plt.subplots(len(cells), ncols, figsize=(inches * ncols, inches * len(cells)),
                             squeeze=False)
    for r, row in enumerate(cells):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([]), ax.set_yticks([])
            image = row[c] if c < len(row) else None
            if image is None:
                ax.axis("off")
                continue
            shown = _display(image, pixels, normalize)
            ax.imshow(shown, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            if box is not None:
                top, left, side = (v * shown.shape[0] / np.shape(image)[0] for v in box)
                ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), side, side, fill=False,
                                           color="red", lw=2))
            caption = (titles[r][c] if titles and isinstance(titles[0], (list, tuple))
                       else titles[c] if titles and r == 0 else None)
            if caption:
                ax.set_title(caption, fontsize=CAPTION, pad=3)
        if row_names:
            axes[r, 0].set_ylabel(row_names[r], fontsize=CAPTION, rotation=0, ha="right",
                                  va="center")
    if title:
        fig.suptitle(title, fontsize=TITLE)
    fig.tight_layout()
    return fig


def compare(columns, hr=None, n=8, title=None):
    """``n`` images a row per method of ``columns`` (name -> images), each captioned with its
    PSNR against ``hr`` if given (not a row of ``hr`` itself, nor a row of another size)."""
    from sr_lib.metrics import psnr

    rows = [list(float_batch(images)[:n]) for images in columns.values()]
    hr = None if hr is None else float_batch(hr)[:n, ..., None]
    captions = [[f"{float(v):.1f} dB" for v in np.asarray(psnr(np.stack(row)[..., None], hr))]
                if hr is not None and row[0].shape == hr.shape[1:3]
                and not np.array_equal(np.stack(row), hr[..., 0]) else [""] * len(row)
                for row in rows]
    return _figure(rows, list(columns), captions, inches=1.4, title=title)


def image_table(rows, col_titles=None, size=1.6, title=None):
    """A figure of ``rows`` (name -> images of any size, or ``None``), all drawn the same size."""
    return _figure(list(rows.values()), list(rows), col_titles, inches=size, title=title)


def show_table(rows, col_titles=None, size=1.6, path=None):
    """Show :func:`image_table` of ``rows`` (and save it to ``path`` if given)."""
    show(image_table(rows, col_titles, size=size), path)


def show_images(images, titles=None, cols=None, inches=3.0, pixels=400, normalize=False,
                box=None, dpi=72):
    """Display images ``cols`` a row, each a Lanczos preview of at most ``pixels`` a side
    (``normalize``: each to [0, 1]; ``box``: (top, left, side) outlined in red on each)."""
    images, cols = list(images), cols or len(images)
    cells = [images[i:i + cols] for i in range(0, len(images), cols)]
    titles = titles and [titles[i:i + cols] for i in range(0, len(images), cols)]
    show(_figure(cells, titles=titles, inches=inches, pixels=pixels, normalize=normalize,
                 box=box), dpi=dpi)


def at_native_pixels(crops, titles, dpi=80):
    """Crops side by side at one image pixel per screen pixel (the preview is shown at ``dpi``),
    so that a resolution can be seen rather than read."""
    import matplotlib.pyplot as plt

    h, w = np.shape(crops[0])[:2]
    gap, top = 0.3, 0.5  # inches between the panels and above them for the captions
    fig = plt.figure(figsize=(len(crops) * (w / dpi + gap), h / dpi + top))
    width, height = fig.get_size_inches()
    for i, (crop, title) in enumerate(zip(crops, titles)):
        ax = fig.add_axes([i * (w / dpi + gap) / width, 0, w / dpi / width, h / dpi / height])
        ax.imshow(_display(crop, max(h, w)), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(title, fontsize=CAPTION)
        ax.set_xticks([]), ax.set_yticks([])
    show(fig, dpi=dpi)


def show(fig, path=None, dpi=80, save_dpi=150):
    """Save ``fig`` to ``path`` (if given), display a small ``dpi`` preview, close it."""
    import matplotlib.pyplot as plt

    if path is not None:
        from sr_lib.files import replacing

        with replacing(path) as tmp:
            fig.savefig(tmp, dpi=save_dpi, bbox_inches="tight")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    try:
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover - outside IPython there is nothing to show
        return
    display(Image(data=buf.getvalue()))
