import numpy as np
import pytest

from sr_lib.coords import axis, grid


def test_grid_shape_order_and_convention():
    g = grid(2, 3)
    assert g.shape == (6, 3) and g.dtype == np.float32
    np.testing.assert_allclose(g[:3, 0], [-2 / 3, 0, 2 / 3], atol=1e-6)  # x varies fastest
    np.testing.assert_allclose(g[::3, 1], [-0.5, 0.5])
    np.testing.assert_allclose(g[:, 2], np.hypot(g[:, 0], g[:, 1]), rtol=1e-6)


def test_grids_sample_the_same_square():
    for n in (28, 100):
        a = axis(n)
        np.testing.assert_allclose(a + a[::-1], 0, atol=1e-6)  # symmetric about 0
        np.testing.assert_allclose(a[0], -1 + 1 / n, atol=1e-6)
        np.testing.assert_allclose(np.diff(a), 2 / n, atol=1e-5)
    assert np.abs(grid(4, 4, scale=3.0)[:, :2]).max() == pytest.approx(3 * 0.75)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_grid_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive int"):
        grid(bad, 4)


def test_check_int_is_the_one_integer_check():
    import numpy as np

    from sr_lib.coords import check_int

    assert check_int(np.int64(3), "n") == 3 and type(check_int(np.int64(3), "n")) is int
    assert check_int(None, "chunk", optional=True) is None
    assert check_int(64, "depth", 1, 64) == 64
    for bad, message in ((True, "n must be a positive int"), (2.0, "positive int"),
                         ("3", "positive int"), (0, "positive int"), (np.bool_(True), "positive")):
        with pytest.raises(ValueError, match=message):
            check_int(bad, "n")
    with pytest.raises(ValueError, match="depth must be an int from 1 to 64, got 65"):
        check_int(65, "depth", 1, 64)
    with pytest.raises(ValueError, match="chunk must be a positive int or None"):
        check_int(-1, "chunk", optional=True)
