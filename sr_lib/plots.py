"""Figures only: labelled image grids and inline previews (picture files: :mod:`sr_lib.images`)."""

import io

import numpy as np

from sr_lib.images import float_batch, to_uint8


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
            normalize=False):
    """A grid figure of ``cells`` (rows of images or ``None``), ``titles`` per cell or column."""
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
            ax.imshow(_display(image, pixels, normalize), cmap="gray", vmin=0, vmax=255,
                      interpolation="nearest")
            caption = (titles[r][c] if titles and isinstance(titles[0], (list, tuple))
                       else titles[c] if titles and r == 0 else None)
            if caption:
                ax.set_title(caption, fontsize=8, pad=2)
        if row_names:
            axes[r, 0].set_ylabel(row_names[r], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def compare(columns, hr=None, n=8, title=None):
    """``n`` images a row per method of ``columns`` (name -> images), with PSNRs if ``hr``."""
    from sr_lib.metrics import psnr

    rows = [list(float_batch(images)[:n]) for images in columns.values()]
    hr = None if hr is None else float_batch(hr)[:n, ..., None]
    captions = [[f"{float(v):.1f} dB" if np.isfinite(v) else "" for v in
                 np.asarray(psnr(np.stack(row)[..., None], hr))]
                if hr is not None and row[0].shape == hr.shape[1:3] else [""] * len(row)
                for row in rows]
    return _figure(rows, list(columns), captions, inches=1.25, title=title)


def image_table(rows, col_titles=None, size=1.6, title=None):
    """A figure of ``rows`` (name -> images of any size, or ``None``), all drawn the same size."""
    return _figure(list(rows.values()), list(rows), col_titles, inches=size, title=title)


def show_images(images, titles=None, cols=None, inches=3.0, pixels=400, normalize=False):
    """Display images ``cols`` a row, at most ``pixels`` a side (``normalize``: each to [0, 1])."""
    images, cols = list(images), cols or len(images)
    cells = [images[i:i + cols] for i in range(0, len(images), cols)]
    titles = titles and [titles[i:i + cols] for i in range(0, len(images), cols)]
    show(_figure(cells, titles=titles, inches=inches, pixels=pixels, normalize=normalize), dpi=72)


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
