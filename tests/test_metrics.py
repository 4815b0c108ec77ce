import json

import numpy as np
import pytest
import tensorflow as tf

from sr_lib import degrade, get_upscaler, metrics, upscalers
from sr_lib.data import load_mnist


@pytest.fixture(scope="module")
def x_test():
    return load_mnist()[1][0]


def test_psnr_ssim_identity_and_known_value():
    a = np.random.default_rng(0).random((2, 16, 16, 1)).astype(np.float32)
    assert np.all(metrics.psnr(a, a) == metrics.MAX_PSNR)  # capped, not inf
    np.testing.assert_allclose(metrics.ssim(a, a), 1.0, atol=1e-6)
    b = np.clip(a + 0.1, 0, 1)
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(metrics.psnr(a, b), 10 * np.log10(1 / mse), rtol=1e-5)
    assert metrics.ssim(np.zeros((1, 5, 5, 1)), np.ones((1, 5, 5, 1))).shape == (1,)


def test_interpolation_upscalers():
    lr = tf.random.uniform((3, 7, 7, 1), seed=1)
    for name in upscalers.INTERPOLATIONS:
        sr = get_upscaler(name)(lr, (28, 28))
        assert sr.shape == (3, 28, 28, 1)
        assert float(tf.reduce_min(sr)) >= 0 and float(tf.reduce_max(sr)) <= 1
    with pytest.raises(ValueError, match="unknown model 'magic'"):
        get_upscaler("magic")


def test_evaluate_reproduces_reference_baselines(x_test):
    """The issue's reference numbers on the full 10k test set, within 0.05 dB."""
    ups = {m: get_upscaler(m) for m in ("bicubic", "lanczos3")}
    rows = metrics.evaluate(ups, x_test, [26, 14, 7], batch_size=5000)
    got = {(r["method"], r["lr_size"]): r["psnr"] for r in rows}
    reference = {("bicubic", "26"): 27.24, ("bicubic", "14"): 19.73, ("bicubic", "7"): 14.47,
                 ("lanczos3", "26"): 28.72, ("lanczos3", "14"): 20.55, ("lanczos3", "7"): 14.72}
    for key, value in reference.items():
        assert abs(got[key] - value) < 0.05, (key, got[key])
    for r in rows:
        assert r["n"] == 10000 and 0 < r["ssim"] < 1 and r["images_per_s"] > 0


def test_evaluate_warms_up_on_the_first_batch_and_keeps_its_outputs(x_test):
    """The first batch compiles, so only the others are timed, but its outputs are scored; a set
    of less than two batches is upscaled twice (the second time timed)."""
    sizes = []

    def counting(lr, size):  # bicubic, recording each batch it is given
        sizes.append(len(lr))
        return get_upscaler("bicubic")(lr, size)

    bicubic = metrics.evaluate(["bicubic"], x_test[:250], [14], batch_size=100)[0]
    outputs = {}
    row = metrics.evaluate({"counting": counting}, x_test[:250], [14], batch_size=100,
                           outputs=outputs)[0]
    assert sizes == [100, 100, 50] and row["n"] == 250
    assert row["psnr"] == bicubic["psnr"] and row["ssim"] == bicubic["ssim"]
    # the images it scored, under the row's names, in order
    assert list(outputs) == [("counting", "bicubic", "14")]
    np.testing.assert_array_equal(outputs["counting", "bicubic", "14"],
                                  get_upscaler("bicubic")(degrade(x_test[:250], 14), (28, 28)))
    for n, calls in ((80, [80, 80]), (150, [100, 100, 50])):  # no full batch after the first:
        sizes.clear()  # all are timed again, lest a remainder's compile be timed alone
        metrics.evaluate({"counting": counting}, x_test[:n], [14], batch_size=100)
        assert sizes == calls, n


def test_evaluate_orders_methods_sensibly_on_subset(x_test):
    ups = {m: get_upscaler(m) for m in ("nearest", "bicubic")}
    rows = metrics.evaluate(ups, x_test[:200], [14], batch_size=64)
    by = {r["method"]: r for r in rows}
    assert by["bicubic"]["psnr"] > by["nearest"]["psnr"]
    outputs = get_upscaler("nearest")(degrade(x_test[:200], 14), (28, 28))  # nearest's own
    assert by["nearest"]["rms_gradient"] > by["bicubic"]["rms_gradient"] > 0  # blockier: sharper
    np.testing.assert_allclose(by["nearest"]["rms_gradient"],
                               float(np.mean(metrics.rms_gradient(outputs))), rtol=1e-5)
    assert {r["lr_size"] for r in rows} == {"14"} and all(r["hr_size"] == "28" for r in rows)


def test_evaluate_rejects_wrong_output_shape(x_test):
    with pytest.raises(ValueError, match="returned shape"):
        metrics.evaluate({"bad": lambda lr, size: lr}, x_test[:4], [14])
    with pytest.raises(ValueError, match="at least one"):
        metrics.evaluate({}, x_test[:4], [14])


def test_table_text_json_csv(tmp_path, x_test):
    rows = metrics.evaluate({"bicubic": get_upscaler("bicubic")}, x_test[:8], [14, 7])
    text = metrics.format_table(rows)
    assert "bicubic" in text and "PSNR" in text and len(text.splitlines()) == 4
    json_path, csv_path = metrics.save_table(rows, tmp_path / "out")
    assert json.loads(json_path.read_text())[1]["lr_size"] == "7"
    assert csv_path.read_text().splitlines()[0].startswith("method,degradation,n,psnr")


def test_identical_images_are_capped_and_counted_not_inf(tmp_path):
    """One blank image comes through any interpolation unchanged: its PSNR is capped, counted
    in `identical`, and the table stays finite, valid JSON."""
    hr = np.zeros((3, 28, 28), np.uint8)
    hr[1:, 8:20, 12:16] = 255
    rows = metrics.evaluate(["bicubic"], hr, [14])
    assert np.isfinite(rows[0]["psnr"]) and rows[0]["identical"] == 1
    json.loads(metrics.save_table(rows, tmp_path)[0].read_text())
    with pytest.raises(ValueError, match="not smaller than the HR size"):
        metrics.evaluate(["bicubic"], hr, [14, 28])


def test_ssim_equals_tf_image_ssim_at_every_shape():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    # the banded matrix products up to metrics.BANDED_SIDE, tf.image.ssim itself beyond
    for shape in [(4, 28, 28, 1), (2, 40, 31, 3), (3, 7, 9, 1), (1, 28, 28, 1), (2, 11, 128, 3),
                  (1, 130, 60, 3), (5, 12, 12, 2)]:
        hr = rng.random(shape).astype(np.float32)
        sr = np.clip(hr + rng.normal(0, 0.05, shape), 0, 1).astype(np.float32)
        eager = tf.image.ssim(sr, hr, max_val=1.0, filter_size=min(11, shape[1], shape[2]))
        np.testing.assert_allclose(metrics.ssim(sr, hr), eager, atol=1e-5)
    # flat, bright images: the variance blur(x^2) - mean^2 cancels, and tf.image.ssim (always
    # float32 inside) is off by ~2e-5; the banded path (variances about the image mean) is not
    hr = (0.9 + 0.002 * rng.standard_normal((3, 28, 28, 2))).astype(np.float32)
    sr = (hr + 0.001 * rng.standard_normal(hr.shape)).astype(np.float32)
    np.testing.assert_allclose(metrics.ssim(sr, hr), _ssim_float64(sr, hr), atol=1e-6)
    np.testing.assert_allclose(metrics.ssim(sr, hr), tf.image.ssim(sr, hr, 1.0), atol=5e-5)


def _ssim_float64(sr, hr, size=11, sigma=1.5):
    """SSIM written out in float64: Gaussian-weighted sums over every valid window."""
    g = np.exp(-((np.arange(size) - (size - 1) / 2) ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    x, y = (np.lib.stride_tricks.sliding_window_view(np.asarray(a, np.float64), (size, size),
                                                     axis=(1, 2)) for a in (sr, hr))
    mx, my = (np.einsum("nijcab,ab->nijc", a, w) for a in (x, y))
    vx = np.einsum("nijcab,ab->nijc", x * x, w) - mx ** 2
    vy = np.einsum("nijcab,ab->nijc", y * y, w) - my ** 2
    cov = np.einsum("nijcab,ab->nijc", x * y, w) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim = (2 * mx * my + c1) * (2 * cov + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return ssim.mean(axis=(1, 2, 3))
