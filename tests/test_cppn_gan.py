"""CPPN-GAN generator: any-size rendering, equality with training output, saving, training."""

import keras
import numpy as np
import pytest

from sr_lib import get_upscaler, render, walk
from sr_lib.metrics import rms_gradient
from sr_lib.models import CPPNGenerator, build_cppn_gan_generator, build_discriminator
from sr_lib.training import SRGAN

LR, OUT, LATENT = (10, 10, 1), 12, 4  # tiny shapes keep the tests fast


def tiny(residual=True):
    keras.utils.set_random_seed(0)
    return build_cppn_gan_generator(LR, LATENT, out_size=OUT, residual=residual, hidden=8,
                                    depth=2, kl_weight=1e-3, seed=0)


def lr_batch(n=3):
    return np.random.default_rng(0).random((n, *LR), dtype=np.float32)


@pytest.mark.parametrize("residual", [True, False])
def test_output_size_follows_the_requested_grid(residual):
    g = tiny(residual)
    assert g(lr_batch()).shape == (3, OUT, OUT, 1)
    for size, shape in ((12, (12, 12)), (30, (30, 30)), ((7, 19), (7, 19))):
        out = g.upscale(lr_batch(), size)
        assert out.shape == (3, *shape, 1) and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("residual", [True, False])
def test_render_at_training_size_equals_training_output(residual):
    g = tiny(residual)
    if residual:  # give the CPPN a non-zero correction, else both sides are plain bicubic
        out = g.cppn.get_layer("out")
        out.kernel.assign(np.full(out.kernel.shape, 0.5, np.float32))
    lr = lr_batch()
    np.testing.assert_allclose(g.upscale(lr, OUT), g(lr, training=False), atol=1e-5)
    # small chunks and batches change nothing
    up = get_upscaler(g)
    up.batch_size = 2
    np.testing.assert_allclose(up(lr, OUT), g.upscale(lr, OUT, chunk=1024), atol=1e-6)


def test_residual_starts_at_bicubic():
    import tensorflow as tf

    lr = lr_batch()
    expected = tf.clip_by_value(tf.image.resize(lr, (30, 30), method="bicubic"), 0.0, 1.0)
    np.testing.assert_allclose(tiny(True).upscale(lr, 30), expected, atol=1e-6)


def test_keras_round_trip(tmp_path):
    g = tiny(False)
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, CPPNGenerator)
    assert loaded.get_config() == g.get_config()
    lr = lr_batch()
    np.testing.assert_array_equal(loaded(lr), g(lr))
    np.testing.assert_allclose(loaded.upscale(lr, 25), g.upscale(lr, 25), atol=1e-6)


def test_one_train_step_updates_encoder_cppn_and_discriminator():
    g = tiny(False)
    d = build_discriminator((OUT, OUT, 1))
    gan = SRGAN(g, d)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2), adv_weight=1e-2)
    parts = {"encoder": g.encoder, "cppn": g.cppn, "discriminator": d}
    before = {k: [np.array(w) for w in m.trainable_weights] for k, m in parts.items()}
    hr = np.random.default_rng(1).random((3, OUT, OUT, 1), dtype=np.float32)
    logs = gan.train_step((lr_batch(), hr))
    assert float(logs["kl"]) > 0  # the Sampling layer's KL reaches the trainer
    for name, model in parts.items():
        changed = [not np.array_equal(a, np.array(b))
                   for a, b in zip(before[name], model.trainable_weights)]
        assert all(changed), f"{name}: {changed.count(False)} weights did not change"


def test_latent_walk_endpoints_are_the_two_renders():
    """The one latent interpolation (sr_lib.walk) over encoder latents, rendered by the CPPN."""
    g = tiny(False)
    lr = lr_batch(2)
    za, zb = g.encode(lr)
    frames = render(g.cppn, walk.interpolate(za, zb, 4, "linear"), 20)
    assert frames.shape == (4, 20, 20, 1)
    np.testing.assert_allclose(frames[[0, -1]], g.upscale(lr, 20), atol=1e-6)


def test_bad_inputs():
    up = get_upscaler(tiny())
    assert (up.lr_size, up.hr_size, up.channels) == ((10, 10), None, 1)
    with pytest.raises(ValueError, match="takes 10x10 inputs"):
        up(np.zeros((2, 9, 10, 1), np.float32), 20)
    with pytest.raises(ValueError, match="size"):
        up(lr_batch(), 0)
    with pytest.raises(ValueError, match="size"):
        up(lr_batch(), (20, 20, 1))
    with pytest.raises(ValueError, match="1 channel"):
        build_cppn_gan_generator((10, 10, 3), LATENT)
    with pytest.raises(ValueError, match="out_size"):
        build_cppn_gan_generator(LR, LATENT, out_size=-1)


def test_rms_gradient_ranks_sharp_above_blurry():
    import tensorflow as tf

    sharp = np.zeros((1, 16, 16, 1), np.float32)
    sharp[:, :, 8:] = 1.0
    blurry = tf.image.resize(tf.image.resize(sharp, (4, 4), antialias=True), (16, 16)).numpy()
    grad = rms_gradient(np.concatenate([sharp, blurry]))
    assert grad[0] > grad[1] > 0
    np.testing.assert_allclose(grad[0], 0.25, rtol=1e-6)  # sqrt(16 unit steps / 256 pixels)
    with pytest.raises(ValueError, match="N, H, W, C"):
        rms_gradient(np.zeros((16, 16)))
