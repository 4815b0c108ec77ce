import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from PIL import Image

import sr_lib.images as img
from sr_lib import plots


def test_grid_array_layout_and_padding():
    images = np.stack([np.full((3, 2), i / 4, np.float32) for i in range(5)])
    grid = img.grid_array(images, ncols=3, pad=1)
    assert grid.shape == (2 * 4 + 1, 3 * 3 + 1)
    assert grid[1, 1] == 0 and grid[1, 4] == pytest.approx(0.25) and grid[5, 4] == 1.0
    assert grid[0].min() == 1.0  # padding row


def test_save_grid_rows_of_different_sizes(tmp_path):
    rows = [np.zeros((4, 7, 7, 1), np.uint8), np.ones((4, 28, 28), np.float32)]
    path = img.save_grid(rows, tmp_path / "g.png", scale=2)
    width, height = Image.open(path).size
    assert (width, height) == (2 * (4 * 29 + 1), 2 * (2 * 29 + 1))
    rgb = img.save_grid(np.zeros((2, 4, 4, 3)), tmp_path / "rgb.png")
    assert Image.open(rgb).mode == "RGB"
    with pytest.raises(ValueError, match="expected images"):
        img.save_grid(np.zeros((2, 4, 4, 2)), tmp_path / "two.png")


def test_compare_and_image_table_figures(tmp_path):
    hr = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    fig = plots.compare({"a": hr, "b": np.clip(hr + 0.1, 0, 1)}, hr=hr, n=3, title="t")
    assert len(fig.axes) == 6 and fig.axes[3].get_title().endswith("dB")
    table = plots.image_table({"lr": [hr[0, :7, :7], hr[0]], "hr": [None, hr[1]]}, ["x", "y"])
    assert len(table.axes) == 4 and not table.axes[2].axison
    plots.show(table, tmp_path / "t.png")
    assert Image.open(tmp_path / "t.png").size[0] > 100


def test_captions_and_row_names_are_legible_and_hr_is_not_scored_against_itself():
    hr = np.random.default_rng(1).random((2, 28, 28)).astype(np.float32)
    fig = plots.compare({"blurred": np.clip(hr * 0.9, 0, 1), "HR": hr}, hr=hr, n=2, title="t")
    assert [ax.get_title() for ax in fig.axes[2:]] == ["", ""]  # the HR row: no "100.0 dB"
    assert fig.axes[0].get_title().endswith(" dB")
    sizes = [ax.title.get_fontsize() for ax in fig.axes if ax.get_title()]
    sizes += [ax.yaxis.label.get_fontsize() for ax in fig.axes if ax.get_ylabel()]
    assert sizes and min(sizes) >= plots.CAPTION >= 10
    assert fig._suptitle.get_fontsize() >= plots.TITLE


def test_at_native_pixels_draws_one_image_pixel_per_screen_pixel(monkeypatch):
    shown = []
    monkeypatch.setattr(plots, "show", lambda fig, path=None, dpi=80: shown.append(fig))
    crops = [np.zeros((60, 90)), np.ones((60, 90, 3))]
    assert plots.at_native_pixels(crops, ["a", "b"], dpi=80) is None  # shown once, not returned
    (fig,) = shown
    for ax in fig.axes:
        width, height = ax.get_position().size * fig.get_size_inches() * 80
        assert (round(width), round(height)) == (90, 60)


def test_show_images_outlines_the_box_on_the_preview(monkeypatch):
    shown = []
    monkeypatch.setattr(plots, "show", lambda fig, path=None, dpi=80: shown.append(fig))
    plots.show_images([np.zeros((800, 800))], ["big"], pixels=200, box=(100, 200, 400))
    (ax,) = shown[0].axes
    (patch,) = ax.patches
    assert ax.get_images()[0].get_array().shape == (200, 200)  # a preview, 4x smaller
    assert (patch.get_x(), patch.get_y(), patch.get_width()) == (49.5, 24.5, 100)


def test_show_table_saves_when_given_a_path(tmp_path):
    plots.show_table({"a": [np.zeros((8, 8))], "b": [None]}, ["x"], path=tmp_path / "t.png")
    assert Image.open(tmp_path / "t.png").size[0] > 50
