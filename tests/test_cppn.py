"""CPPN model, chunked rendering, latent walks and the ``sr-lib cppn`` command."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import sr_lib
from sr_lib import walk
from sr_lib.cli import main
from sr_lib.coords import grid
from sr_lib.models import build_cppn
from sr_lib.images import save_gif, to_uint8
from sr_lib.rendering import chunk_coords, render

LATENT = 4


@pytest.fixture(scope="module")
def grey():
    return build_cppn(LATENT, channels=1, hidden=8, depth=3, seed=0)


@pytest.fixture(scope="module")
def rgb():
    return build_cppn(LATENT, channels=3, hidden=8, depth=2, seed=0)


def z_of(seed):
    return walk.random_latents(1, LATENT, seed=seed)[0]


def test_model_maps_coords_and_z_to_unit_values(rgb):
    coords = np.stack([grid(5, 7), grid(5, 7)])
    out = rgb.predict([coords, walk.random_latents(2, LATENT, seed=0)], verbose=0)
    assert out.shape == (2, 35, 3)
    assert 0 <= out.min() and out.max() <= 1 and out.std() > 0.05  # N(0, 1) weights: rich
    assert rgb.count_params() == (3 + LATENT + 1) * 8 + (8 + 1) * 8 + (8 + 1) * 3


def test_gradients_reach_z_and_weights(grey):
    coords = tf.constant(grid(4, 4)[None])
    z = tf.Variable(z_of(0)[None])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(grey([coords, z]))
    grads = tape.gradient(loss, [z, *grey.trainable_variables])
    assert all(g is not None for g in grads) and float(tf.norm(grads[0])) > 0


@pytest.mark.parametrize("activation", ["tanh", "sin"])
def test_keras_round_trip(tmp_path, activation):
    model = build_cppn(LATENT, channels=3, hidden=8, depth=2, activation=activation, seed=1)
    model.save(tmp_path / "cppn.keras")
    loaded = keras.saving.load_model(tmp_path / "cppn.keras")
    assert np.array_equal(render(loaded, z_of(0), (9, 11)), render(model, z_of(0), (9, 11)))
    assert loaded.get_layer("mix").get_config()["scale"] == 8.0


@pytest.mark.parametrize("kwargs", [dict(channels=2), dict(channels=0), dict(depth=0),
                                    dict(hidden=1.5), dict(activation="nope"), dict(scale=0)])
def test_bad_model_args_refused(kwargs):
    with pytest.raises(ValueError):
        build_cppn(LATENT, **kwargs)


@pytest.mark.parametrize("start,count,height,width", [(0, 35, 5, 7), (9, 20, 5, 7), (0, 6, 1, 6)])
def test_chunk_coords_match_grid(start, count, height, width):
    expected = grid(height, width)[start:start + count]
    assert np.array_equal(chunk_coords(start, count, height, width).numpy(), expected)


def test_render_shapes_ranges_and_dtypes(grey, rgb):
    image = render(grey, z_of(0), (6, 10))
    assert image.shape == (6, 10, 1) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1
    batch = render(rgb, walk.random_latents(3, LATENT, seed=0), (5, 4), dtype="uint8")
    assert batch.shape == (3, 5, 4, 3) and batch.dtype == np.uint8
    assert np.array_equal(render(grey, z_of(0), (6, 10), dtype="uint8"), to_uint8(image))
    assert sr_lib.render is render


@pytest.mark.parametrize("chunk,workers", [(1, 1), (1024, 2), (1500, 3)])
def test_chunked_equals_unchunked(rgb, chunk, workers):
    whole = render(rgb, z_of(3), (97, 131), chunk=None)  # one step of 16384 pixels
    # 4 steps of 4096 (the smallest chunk), with the last one padded
    assert np.array_equal(render(rgb, z_of(3), (97, 131), chunk=chunk, workers=workers), whole)


def test_traced_once_per_chunk_shape(grey):
    render(grey, z_of(0), (40, 40), chunk=1024)  # 1600 pixels: one 2048-pixel block per step
    fn = sr_lib.rendering._cppn_step(grey)
    traces = fn.experimental_get_tracing_count()
    for size in (33, 40, 44):  # other sizes with the same step shape
        render(grey, z_of(size), (size, size + 1), chunk=1024)
    assert fn.experimental_get_tracing_count() == traces
    for size in (36, 45):  # the default chunk: the same 2048-pixel step
        render(grey, z_of(size), (size, size))
    assert fn.experimental_get_tracing_count() == traces
    render(grey, z_of(0), (70, 70))  # 4900 pixels: a new step shape, traced once more
    assert fn.experimental_get_tracing_count() == traces + 1


def test_seed_and_z_determine_the_image(grey):
    again = build_cppn(LATENT, channels=1, hidden=8, depth=3, seed=0)
    other = build_cppn(LATENT, channels=1, hidden=8, depth=3, seed=1)
    image = render(grey, z_of(0), (12, 12))
    assert np.array_equal(render(again, z_of(0), (12, 12)), image)
    assert np.abs(render(grey, z_of(1), (12, 12)) - image).mean() > 1e-2
    assert np.abs(render(other, z_of(0), (12, 12)) - image).mean() > 1e-2


@pytest.mark.parametrize("height,width", [(0, 5), (5, -1), (2.5, 4), (True, 3), (10**6, 10**6)])
def test_bad_sizes_refused(grey, height, width):
    with pytest.raises(ValueError, match="size|pixels"):
        render(grey, z_of(0), (height, width))


@pytest.mark.parametrize("kwargs", [dict(z=np.zeros(LATENT + 1)), dict(z=np.zeros((1, 1, LATENT))),
                                    dict(chunk=0), dict(dtype="float16"), dict(workers=0)])
def test_bad_render_args_refused(grey, kwargs):
    args = {"z": z_of(0), "size": 4, **kwargs}
    with pytest.raises(ValueError):
        render(grey, **args)


def test_interpolate_and_loop():
    z0, z1 = walk.random_latents(2, 16, seed=0)
    for method in ("slerp", "linear"):
        path = walk.interpolate(z0, z1, 5, method)
        assert path.shape == (5, 16)
        np.testing.assert_allclose(path[[0, -1]], [z0, z1], atol=1e-5)
    slerp_mid = np.linalg.norm(walk.interpolate(z0, z1, 3)[1])
    assert slerp_mid > np.linalg.norm(walk.interpolate(z0, z1, 3, "linear")[1])
    keys = walk.random_latents(3, 16, seed=1)
    path = walk.loop(keys, 4)
    assert path.shape == (12, 16)
    np.testing.assert_allclose(path[[0, 4, 8]], keys, atol=1e-5)
    with pytest.raises(ValueError):
        walk.interpolate(z0, z1[:3], 4)


def test_walk_gif(rgb, tmp_path):
    zs = walk.interpolate(z_of(0), z_of(1), 4)
    frames = render(rgb, zs, (10, 12), dtype="uint8")
    assert frames.shape == (4, 10, 12, 3) and frames.dtype == np.uint8
    with Image.open(save_gif(frames, tmp_path / "walk.gif")) as gif:
        assert gif.n_frames == 4 and gif.size == (12, 10)


def test_cli_png_and_gif(tmp_path, capsys):
    png = tmp_path / "art.png"
    args = ["cppn", "--size", "16", "24", "--channels", "3", "--hidden", "8", "--seed", "7"]
    assert main([*args, "--out", str(png)]) == 0
    with Image.open(png) as image:
        assert image.size == (24, 16) and image.mode == "RGB"
    gif = tmp_path / "walk.gif"
    assert main([*args, "--gif", "--frames", "6", "--out", str(gif), "--quiet"]) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 6
    assert main(["cppn", "--size", "1000000", "--out", str(tmp_path / "x.png")]) == 2
    assert "max_pixels" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cppn", "--channels", "2"])
