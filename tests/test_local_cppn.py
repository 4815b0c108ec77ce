import keras
import numpy as np
import pytest
import tensorflow as tf

from sr_lib import get_upscaler
from sr_lib.coords import grid
from sr_lib.models.local_cppn import build_local_cppn, ensemble_neighbours, tile_bands


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_local_cppn(features=8, blocks=1, hidden=8, depth=2)


@pytest.mark.parametrize("lr_hw, out_hw", [((26, 26), (28, 28)), ((7, 7), (100, 100)),
                                           ((5, 9), (13, 40)), ((1, 1), (3, 3))])
def test_any_output_size(model, lr_hw, out_hw):
    lr = tf.random.uniform((2, *lr_hw, 1), seed=0)
    sr = model.upscale(lr, out_hw)
    assert sr.shape == (2, *out_hw, 1)
    assert float(tf.reduce_min(sr)) >= 0.0 and float(tf.reduce_max(sr)) <= 1.0


def test_call_renders_out_size_and_chunking_is_exact(model):
    lr = tf.random.uniform((3, 14, 14, 1), seed=1)
    np.testing.assert_allclose(model(lr), model.upscale(lr, (28, 28)), atol=1e-6)
    # 3 images of 64x64 in steps of 4096 pixels (the smallest chunk) against one step
    np.testing.assert_array_equal(model.upscale(lr, (64, 64), chunk=1),
                                  model.upscale(lr, (64, 64), chunk=None))
    up = get_upscaler(model)
    up.batch_size = 2
    np.testing.assert_allclose(up(lr.numpy(), (28, 28)), model.upscale(lr, (28, 28)), atol=1e-6)


SHAPES = [((17, 23), (40, 61)), ((23, 17), (9, 7)), ((19, 19), (19, 19)), ((1, 12), (3, 50))]


# tiles of 4 and 7 LR pixels at every shape; of 1 (a tile per LR pixel, a compile per tile shape:
# most of this test's time) at the two small outputs
@pytest.mark.parametrize("tile, lr_hw, out_hw", [(tile, *shape) for tile in (1, 4, 7)
                                                 for shape in SHAPES
                                                 if tile > 1 or shape[1][0] * shape[1][1] < 200])
def test_tiled_equals_untiled(lr_hw, out_hw, tile):
    """Tiles of the encoder (with its halo) and decoder, at borders, odd sizes, up and down: equal
    to float32 rounding (TensorFlow's CPU convolutions round differently for other input sizes:
    2.4e-7 measured in the codes with TF 2.21), and chunks of one tiling exactly."""
    m = build_local_cppn(features=8, blocks=2, hidden=8, depth=2)  # halo 1 + 4 + 1 = 6
    lr = tf.random.uniform((2, *lr_hw, 1), seed=4).numpy()
    whole = m.upscale(lr, out_hw, tile=max(lr_hw))
    assert len(tile_bands(lr_hw[0], out_hw[0], tile)) > 1 or lr_hw[0] <= tile
    np.testing.assert_allclose(m.upscale(lr, out_hw, tile=tile), whole, atol=1e-6, rtol=0)
    np.testing.assert_allclose(whole, m.upscale(lr, out_hw, chunk=None), atol=0)


@pytest.mark.parametrize("lr_n, out_n, tile", [(100, 400, 16), (4000, 1000, 256), (7, 3, 2),
                                                 (9, 9, 4), (257, 1024, 256)])
def test_tile_bands_cover_the_output_and_the_ensembles(lr_n, out_n, tile):
    bands = tile_bands(lr_n, out_n, tile)
    assert bands[0][0] == 0 and bands[-1][1] == out_n
    assert all(a[1] == b[0] for a, b in zip(bands, bands[1:]))  # contiguous, no overlap
    for o0, o1, l0, l1 in bands:
        assert l1 - l0 <= tile + 4
        v = (np.arange(o0, o1) + 0.5) * lr_n / out_n - 0.5  # every output pixel's two LR rows
        assert np.clip(np.floor(v), 0, lr_n - 1).min() >= l0
        assert np.clip(np.floor(v) + 1, 0, lr_n - 1).max() < l1


@pytest.mark.parametrize("lr_hw, out_hw", [((5, 7), (13, 11)), ((26, 26), (28, 28)), ((1, 3), (4, 4))])
def test_ensemble_weights_sum_to_one_and_are_bilinear(lr_hw, out_hw):
    index, rel, weight = ensemble_neighbours(*lr_hw, grid(*out_hw)[:, :2])
    np.testing.assert_allclose(np.sum(weight, axis=0), 1.0, atol=1e-5)
    assert np.all(np.asarray(weight) >= 0) and np.all(np.abs(rel) <= 1.0 + 1e-5)
    assert np.asarray(index).min() >= 0 and np.asarray(index).max() < lr_hw[0] * lr_hw[1]
    # blending LR values with the weights is exactly tf.image.resize's bilinear interpolation
    lr = np.random.default_rng(0).random(lr_hw).astype(np.float32)
    blended = np.sum(np.asarray(weight) * lr.reshape(-1)[np.asarray(index)], axis=0)
    expected = tf.image.resize(lr[None, ..., None], out_hw, "bilinear")[0, ..., 0]
    np.testing.assert_allclose(blended.reshape(out_hw), expected, atol=1e-5)


@pytest.mark.parametrize("bad", [np.zeros((8, 8, 5)), np.zeros((1, 8, 8, 3)), np.zeros((0, 8, 8, 1)),
                                 np.zeros((1, 8, 8, 1), np.int32)])
def test_upscale_rejects_bad_input(model, bad):
    up = get_upscaler(model)
    with pytest.raises(ValueError, match="images"):
        up(bad, (16, 16))
    with pytest.raises(ValueError, match="positive int"):
        up(np.zeros((1, 8, 8, 1)), (0, 16))


def test_keras_round_trip(model, tmp_path):
    lr = tf.random.uniform((2, 10, 10, 1), seed=2)
    path = tmp_path / "local.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded(lr), model(lr))
    np.testing.assert_array_equal(loaded.upscale(lr, (50, 50)), model.upscale(lr, (50, 50)))
    assert loaded.get_config()["hidden"] == 8


def test_overfits_a_few_images_at_two_scales():
    keras.utils.set_random_seed(0)
    hr = tf.image.resize(tf.random.uniform((4, 6, 6, 1), seed=3), (28, 28), "bicubic")
    hr = tf.clip_by_value(hr, 0, 1)
    from sr_lib.data import degrade

    data = [(degrade(hr, s), hr) for s in (14, 7)]
    m = build_local_cppn(features=16, blocks=1, hidden=32, depth=2)
    m.compile(keras.optimizers.Adam(3e-3), loss="mae")
    before = [float(tf.reduce_mean(tf.abs(m(lr) - y))) for lr, y in data]
    for _ in range(150):
        for lr, y in data:
            m.train_on_batch(lr, y)
    after = [float(tf.reduce_mean(tf.abs(m(lr) - y))) for lr, y in data]
    for b, a in zip(before, after):
        assert a < 0.5 * b, (before, after)


def test_grow_from_a_shallower_model_computes_the_same_and_refuses_other_sizes(model):
    lr = tf.random.uniform((2, 9, 11, 1), seed=4)
    keras.utils.set_random_seed(1)
    deeper = build_local_cppn(features=8, blocks=3, hidden=8, depth=2)
    assert np.abs(np.asarray(deeper(lr)) - np.asarray(model(lr))).max() > 1e-3  # before
    deeper.grow_from(model)
    np.testing.assert_allclose(deeper.upscale(lr, (30, 17)), model.upscale(lr, (30, 17)), atol=1e-6)
    assert deeper.halo > model.halo  # the added blocks widen what each code sees, once trained
    for other in (build_local_cppn(features=16, blocks=3, hidden=8, depth=2),
                  build_local_cppn(features=8, blocks=2, hidden=8, depth=3)):
        with pytest.raises(ValueError, match="cannot grow"):
            other.grow_from(model)
    with pytest.raises(ValueError, match="cannot grow 1 blocks"):
        model.grow_from(deeper)  # a deeper model cannot be shrunk into a shallower one
