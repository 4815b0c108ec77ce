"""Property-based tests: over random shapes and dtypes, a correct result or a ValueError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sr_lib import get_upscaler, upscalers
from sr_lib.data import degrade
from sr_lib.rendering import render

FAST = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
dtypes = st.sampled_from([np.uint8, np.float32, np.float64, np.int32, np.bool_])


@FAST
@given(n=st.integers(0, 3), h=st.integers(0, 40), w=st.integers(0, 40),
       c=st.sampled_from([None, 1, 3]), size=st.integers(-2, 50), dtype=dtypes)
def test_degrade_result_or_value_error(n, h, w, c, size, dtype):
    shape = (n, h, w) if c is None else (n, h, w, c)
    hr = (np.random.default_rng(0).random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    try:
        lr = degrade(hr, size)
    except ValueError as exc:
        assert str(exc)
        return
    lr = np.asarray(lr)
    assert lr.shape == (n, size, size, c or 1) and lr.dtype == np.float32
    assert np.all((lr >= 0) & (lr <= 1))


@FAST
@given(method=st.sampled_from(upscalers.INTERPOLATIONS), h=st.integers(1, 20),
       w=st.integers(1, 20), out=st.integers(1, 60))
def test_interpolation_upscalers_any_shape(method, h, w, out):
    lr = np.random.default_rng(1).random((2, h, w, 1)).astype(np.float32)
    sr = get_upscaler(method)(lr, (out, out))
    assert sr.shape == (2, out, out, 1) and np.all((sr >= 0) & (sr <= 1))


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((1, 2, 3, 4, 5)), np.array(["a"])])
def test_degrade_rejects_bad_arrays(bad):
    with pytest.raises(ValueError):
        degrade(bad, 2)


# ---- render and the model upscalers ----------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_cppn():
    from sr_lib.models import build_cppn

    return build_cppn(latent_dim=3, hidden=4, depth=2, channels=1, seed=0)


def _models():
    """One tiny instance of each upscaling model (any-size and fixed-size), built once."""
    if not hasattr(_models, "cache"):
        from conftest import tiny_model

        _models.cache = {name: get_upscaler(tiny_model(name))
                         for name in ("local_cppn", "cppn_gan", "vae_gan")}
    return _models.cache


MORE = settings(FAST, max_examples=30)


@MORE
@given(n=st.integers(0, 2), latent=st.sampled_from([3, 3, 2]), h=st.integers(-1, 40),
       w=st.integers(0, 40), chunk=st.sampled_from([None, 1, 7, 64, 10_000, 0]),
       dtype=st.sampled_from(["float32", "uint8", "int8"]), zdtype=dtypes)
def test_render_result_or_value_error(tiny_cppn, n, latent, h, w, chunk, dtype, zdtype):
    z = np.random.default_rng(2).normal(size=(n, latent)).astype(zdtype)
    try:
        out = render(tiny_cppn, z, (h, w), chunk=chunk, dtype=dtype)
    except ValueError as exc:
        assert str(exc)
        event("ValueError")
        return
    event("rendered")
    assert out.shape == (n, h, w, 1) and out.dtype == np.dtype(dtype)
    whole = render(tiny_cppn, z, (h, w), chunk=None, dtype=dtype)
    np.testing.assert_array_equal(out, whole)  # chunking never changes the picture
    if dtype == "float32":
        assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("name", ["local_cppn", "cppn_gan", "vae_gan"])
@FAST
@given(n=st.integers(1, 2),
       h=st.one_of(st.just(6), st.integers(0, 9)), w=st.one_of(st.just(6), st.integers(0, 9)),
       c=st.sampled_from([None, 1, 1, 3]),
       out=st.one_of(st.just(8), st.integers(-1, 40), st.tuples(st.integers(0, 30),
                                                                st.integers(0, 30))),
       dtype=st.sampled_from([np.uint8, np.float32, np.float64, np.int32]))
def test_model_upscalers_result_or_value_error(name, n, h, w, c, out, dtype):
    shape = (n, h, w) if c is None else (n, h, w, c)
    lr = (np.random.default_rng(3).random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    try:
        sr = np.asarray(_models()[name](lr, out))
    except ValueError as exc:
        assert str(exc)
        event("ValueError")
        return
    event(f"{name} upscaled")
    size = (out, out) if isinstance(out, int) else out
    # the one input rule: rank 4 is a batch, rank 3 one (H, W, C) image, and the output follows
    assert sr.shape == ((n, *size, 1) if c else (*size, 1)) and np.all((sr >= 0) & (sr <= 1))


@pytest.mark.parametrize("name", ["local_cppn", "cppn_gan", "vae_gan"])
def test_model_upscalers_refuse_an_empty_batch(name):
    with pytest.raises(ValueError, match="got shape \\(0, 6, 6, 1\\)"):
        _models()[name](np.zeros((0, 6, 6, 1), np.float32), 8)
