"""Property-based tests: over random shapes and dtypes, a correct result or a ValueError."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sr_lib import upscalers
from sr_lib.data import degrade

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
    sr = np.asarray(upscalers.get(method)(lr, (out, out)))
    assert sr.shape == (2, out, out, 1) and np.all((sr >= 0) & (sr <= 1))


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((1, 2, 3, 4, 5)), np.array(["a"])])
def test_degrade_rejects_bad_arrays(bad):
    with pytest.raises(ValueError):
        degrade(bad, 2)
