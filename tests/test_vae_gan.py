"""Sampling layer, VAE-GAN builders, the SRGAN trainer and the bundled vae_gan upscaler."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from sr_lib.layers import Clip, Resize, Sampling, kl_divergence
from sr_lib import get_upscaler
from sr_lib.models import (build_decoder, build_discriminator, build_encoder,
                           build_vae_gan_generator)
from sr_lib.registry import bundled as bundled_models
from sr_lib.training import SRGAN, SampleGrid

LR, HR, LATENT = (10, 10, 1), (12, 12, 1), 4  # tiny shapes keep the tests fast


def tiny_gan(residual=True, adv_weight=1e-3):
    keras.utils.set_random_seed(0)
    gan = SRGAN(build_vae_gan_generator(LR, HR, LATENT, residual=residual, kl_weight=1e-3, seed=0),
                build_discriminator(HR))
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), adv_weight=adv_weight)
    return gan


def tiny_batch(n=4):
    rng = np.random.default_rng(0)
    return (rng.random((n, *LR), dtype=np.float32), rng.random((n, *HR), dtype=np.float32))


# ---- Sampling ---------------------------------------------------------------------------------
def test_sampling_statistics_over_many_draws():
    mean, log_var = 1.5, math.log(0.25)  # std 0.5
    z_mean = tf.fill((4000, 8), mean)
    z_log_var = tf.fill((4000, 8), log_var)
    z = np.asarray(Sampling(seed=1)([z_mean, z_log_var], training=True))
    assert abs(z.mean() - mean) < 0.02
    assert abs(z.var() - 0.25) < 0.02
    assert not np.allclose(z, mean)


def test_sampling_seed_generator_advances_between_calls():
    layer = Sampling(seed=3)
    zeros = tf.zeros((2, 5))
    a, b = layer([zeros, zeros], training=True), layer([zeros, zeros], training=True)
    assert not np.allclose(a, b)


def test_kl_on_known_inputs():
    z_mean = tf.constant([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]])
    z_log_var = tf.constant([[0.0, 0.0], [0.0, 0.0], [math.log(2.0), 0.0]])
    expected = [0.0, 2.5, 0.5 * (1 - math.log(2.0))]
    np.testing.assert_allclose(kl_divergence(z_mean, z_log_var), expected, rtol=1e-6, atol=1e-7)

    layer = Sampling(kl_weight=0.5)
    layer([z_mean, z_log_var], training=True)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.5 * np.mean(expected), rtol=1e-6)


def test_sampling_returns_z_mean_at_inference():
    layer = Sampling(seed=0)
    z_mean, z_log_var = tf.random.normal((3, 6)), tf.ones((3, 6))
    np.testing.assert_array_equal(layer([z_mean, z_log_var]), z_mean)
    np.testing.assert_array_equal(layer([z_mean, z_log_var], training=False), z_mean)


def test_sampling_config_and_bad_weight():
    layer = Sampling(kl_weight=0.25, seed=7, name="s")
    clone = Sampling.from_config(layer.get_config())
    assert (clone.kl_weight, clone.seed, clone.name) == (0.25, 7, "s")
    with pytest.raises(ValueError, match="kl_weight"):
        Sampling(kl_weight=-1)


# ---- builders ---------------------------------------------------------------------------------
def test_builder_shapes():
    z_mean, z_log_var, z = build_encoder(LR, LATENT).outputs
    assert z_mean.shape == z_log_var.shape == z.shape == (None, LATENT)
    assert build_decoder(LATENT, HR).output.shape == (None, *HR)
    assert build_discriminator(HR).output.shape == (None, 1)
    for residual in (False, True):
        g = build_vae_gan_generator(LR, HR, LATENT, residual=residual)
        out = np.asarray(g(np.random.rand(2, *LR).astype("float32")))
        assert out.shape == (2, *HR) and out.min() >= 0 and out.max() <= 1


def test_residual_generator_starts_at_bicubic():
    lr = np.random.default_rng(1).random((3, *LR), dtype=np.float32)
    g = build_vae_gan_generator(LR, HR, LATENT, residual=True)
    bicubic = tf.clip_by_value(tf.image.resize(lr, HR[:2], method="bicubic"), 0, 1)
    np.testing.assert_allclose(g(lr), bicubic, atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr_shape=(10, 10)), "lr_shape"),
    (dict(hr_shape=(14, 14, 1)), "multiples of 4"),
    (dict(hr_shape=(12, 12, 3)), "same channels"),
    (dict(latent_dim=0), "latent_dim"),
])
def test_builders_reject_bad_shapes(kwargs, match):
    args = dict(lr_shape=LR, hr_shape=HR, latent_dim=LATENT) | kwargs
    with pytest.raises(ValueError, match=match):
        build_vae_gan_generator(**args)


@pytest.mark.parametrize("residual", [False, True])
def test_keras_round_trip_gives_identical_outputs(tmp_path, residual):
    g = build_vae_gan_generator(LR, HR, LATENT, residual=residual, seed=0)
    lr = np.random.default_rng(2).random((5, *LR), dtype=np.float32)
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(lr, verbose=0), g.predict(lr, verbose=0))
    assert {type(layer) for layer in loaded.get_layer("encoder").layers} >= {Sampling}
    if residual:
        assert isinstance(loaded.get_layer("bicubic"), Resize)
    assert isinstance(loaded.get_layer("sr"), Clip)


# ---- trainer ----------------------------------------------------------------------------------
def test_train_step_updates_both_networks_with_finite_losses():
    gan = tiny_gan()
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    logs = gan.train_step(tiny_batch())
    assert set(logs) == {"g_loss", "d_loss", "recon", "adv", "kl", "psnr"}
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))


def test_test_step_leaves_weights_alone():
    gan = tiny_gan()
    before = [w.copy() for w in gan.get_weights()]
    logs = gan.test_step(tiny_batch())
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert all(np.array_equal(a, b) for a, b in zip(before, gan.get_weights()))


def test_compile_rejects_negative_weights():
    gan = SRGAN(build_vae_gan_generator(LR, HR, LATENT), build_discriminator(HR))
    with pytest.raises(ValueError, match="adv_weight"):
        gan.compile(adv_weight=-1.0)


@pytest.mark.usefixtures("eager")
def test_fit_with_standard_callbacks_and_sample_grid(tmp_path):
    gan = tiny_gan(residual=False)
    x, y = tiny_batch(16)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt.weights.h5"), save_weights_only=True),
        keras.callbacks.EarlyStopping(monitor="g_loss", mode="min", patience=5),
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        SampleGrid(x[:3], tmp_path / "samples", targets=y[:3]),
    ]
    history = gan.fit(ds, epochs=2, validation_data=ds, callbacks=callbacks, verbose=0,
                      shuffle=False)  # a tf.data input is shuffled (or not) by itself
    assert {"g_loss", "d_loss", "recon", "kl", "psnr", "val_psnr"} <= set(history.history)
    assert (tmp_path / "ckpt.weights.h5").exists() and (tmp_path / "log.csv").exists()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_001.png",
                                                                        "epoch_002.png"]
    fresh = tiny_gan(residual=False)
    fresh.load_weights(tmp_path / "ckpt.weights.h5")
    np.testing.assert_array_equal(fresh.generator.predict(x, verbose=0),
                                  gan.generator.predict(x, verbose=0))


# ---- bundled model / upscaler -----------------------------------------------------------------
def test_fixed_size_upscaler_checks_sizes():
    upscale = get_upscaler(build_vae_gan_generator(LR, HR, LATENT))
    lr = np.zeros((2, *LR), np.float32)
    assert upscale(lr, HR[:2]).shape == (2, *HR)
    assert upscale(lr).shape == (2, *HR)  # a fixed-size model defaults to its own output size
    with pytest.raises(ValueError, match="takes 10x10 inputs"):
        upscale(np.zeros((2, 8, 8, 1), np.float32), HR[:2])
    with pytest.raises(ValueError, match="only"):
        upscale(lr, (24, 24))


bundled = pytest.mark.skipif("vae_gan" not in bundled_models(), reason="models/vae_gan.keras missing")


@bundled
def test_bundled_vae_gan_upscales_26_to_28_only():
    upscale = get_upscaler("vae_gan")
    sr = upscale(np.zeros((2, 26, 26, 1), np.float32), (28, 28))
    assert sr.shape == (2, 28, 28, 1)
    with pytest.raises(ValueError, match="takes 26x26 inputs"):
        upscale(np.zeros((2, 14, 14, 1), np.float32), (28, 28))


@bundled
def test_cli_upscale(tmp_path, capsys):
    from PIL import Image

    from sr_lib.cli import main

    Image.new("L", (26, 26), 128).save(tmp_path / "in.png")
    assert main(["upscale", "--model", "vae_gan", str(tmp_path / "in.png"),
                 str(tmp_path / "out.png")]) == 0
    assert Image.open(tmp_path / "out.png").size == (28, 28)
    Image.new("L", (30, 20)).save(tmp_path / "big.png")
    assert main(["upscale", "--model", "vae_gan", str(tmp_path / "big.png"),
                 str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "takes 26x26 inputs" in err and "Traceback" not in err
    assert main(["upscale", "--model", "vae_gan", "--scale", "2", str(tmp_path / "in.png"),
                 str(tmp_path / "x.png")]) == 2
    assert "to (28, 28) only" in capsys.readouterr().err
