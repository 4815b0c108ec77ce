"""The named evaluation degradations and the random training mix."""

import numpy as np
import pytest
import tensorflow as tf

from sr_lib import degradations
from sr_lib.data import degrade, pairs


def smooth(n=1, size=48, seed=0):
    """Smooth random colour images in [0, 1]: low-frequency content, like photographs."""
    rng = np.random.default_rng(seed)
    small = rng.random((n, size // 8, size // 8, 3)).astype(np.float32)
    return tf.image.resize(small, (size, size), "bicubic").numpy().clip(0, 1)


@pytest.mark.parametrize("name", degradations.NAMED)
def test_named_degradations_give_lr_images_close_to_bicubic(name):
    hr = smooth()
    lr = degradations.named(name)(hr, (24, 20))
    assert lr.shape == (1, 24, 20, 3) and lr.dtype == np.float32
    assert 0 <= lr.min() and lr.max() <= 1
    assert np.abs(lr - degrade(hr, (24, 20)).numpy()).mean() < 0.05


def test_named_degradations_differ_from_each_other():
    hr = smooth(seed=1)
    outs = {n: degradations.named(n)(hr, (20, 20)) for n in degradations.NAMED}  # x2.4
    assert np.array_equal(outs["bicubic"], degrade(hr, 20).numpy())  # the one degrade
    for a in outs:
        for b in outs:
            if a < b:
                assert not np.allclose(outs[a], outs[b], atol=1e-4), (a, b)
    # JPEG output is 8-bit: every value a multiple of 1/255
    assert np.allclose(outs["jpeg75"] * 255, np.round(outs["jpeg75"] * 255), atol=1e-4)


def test_naive_bicubic_aliases_where_antialiased_bicubic_does_not():
    stripes = np.zeros((1, 64, 64, 3), np.float32)
    stripes[:, :, ::3] = 1.0  # finer than the LR grid: a proper downsample gives flat grey
    clean = degradations.named("bicubic")(stripes, (20, 20))
    naive = degradations.named("bicubic_naive")(stripes, (20, 20))
    assert clean.std() < 0.02 and naive.std() > 0.2  # false stripes


def test_unknown_degradation_is_one_line():
    with pytest.raises(ValueError, match="unknown degradation 'jpeg0'.*jpegQ"):
        degradations.named("jpeg0")
    assert degradations.named("jpeg50") is not None


def test_random_degrade_is_seeded_and_mixes_kernels_noise_and_jpeg():
    hr = tf.constant(smooth(8, seed=2))
    f = tf.function(lambda s: degradations.random_degrade(hr, (16, 16), s))
    a, b = f(tf.constant([1, 2], tf.int64)), f(tf.constant([1, 2], tf.int64))
    assert a.shape == (8, 16, 16, 3) and np.array_equal(a, b)  # same seed, same LR
    outs = [f(tf.constant([i, 7], tf.int64)).numpy() for i in range(12)]
    clean = degrade(hr, 16).numpy()
    gaps = [np.abs(o - clean).mean() for o in outs]
    assert len({round(g, 6) for g in gaps}) > 6  # different draws, different degradations
    for o in outs:  # quantised to 8 bits, in range
        assert np.allclose(o * 255, np.round(o * 255), atol=1e-3) and 0 <= o.min() <= o.max() <= 1


def test_random_degrade_with_nothing_random_is_quantised_bicubic():
    hr = tf.constant(smooth(2, seed=3))
    mix = dict(kernels=dict(bicubic=1), blur=0, gaussian_noise=0, poisson_noise=0, jpeg=0)
    lr = degradations.random_degrade(hr, (12, 12), tf.constant([0, 0], tf.int64), mix)
    assert np.array_equal(lr, np.round(degrade(hr, 12).numpy() * 255) / 255)


def test_pairs_with_a_mix_degrade_training_batches_and_fix_validation():
    hr = smooth(16, 32, seed=4)
    train = pairs(hr, range(8, 13), batch_size=8, seed=0, mix=degradations.ROBUST)
    first = [lr.numpy() for lr, _ in train.take(2)]
    second = [lr.numpy() for lr, _ in train.take(2)]
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(first, second))
    val = pairs(hr, 8, batch_size=8, shuffle=False, mix=degradations.ROBUST)
    one, two = [[lr.numpy() for lr, _ in val] for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(one, two))  # the same every epoch
    plain = [lr.numpy() for lr, _ in pairs(hr, 8, batch_size=8, shuffle=False)]
    assert np.allclose(plain[0], degrade(hr[:8], 8).numpy())
