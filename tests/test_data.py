import gzip
import struct

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sr_lib import data
from sr_lib.data import DataError, degrade, load_mnist, pairs


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def test_bundled_mnist_shapes_and_dtypes(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    assert x_train.max() == 255 and set(np.unique(y_test)) == set(range(10))


def test_tampered_repo_copy_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "mnist.npz"
    raw = bytearray(data.REPO_MNIST.read_bytes())
    raw[-100] ^= 0xFF
    bad.write_bytes(bytes(raw))
    monkeypatch.delenv("SR_LIB_MNIST", raising=False)
    monkeypatch.setattr(data, "REPO_MNIST", bad)
    with pytest.raises(DataError, match="sha256"):
        load_mnist()


def test_env_var_is_used_before_repo_copy(tmp_path, monkeypatch):
    path = tmp_path / "small.npz"
    x = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    np.savez(path, x_train=x, y_train=np.array([1, 2], np.uint8), x_test=x[:1],
             y_test=np.array([3], np.uint8))
    monkeypatch.setenv("SR_LIB_MNIST", str(path))
    (x_train, _), (x_test, y_test) = load_mnist()
    np.testing.assert_array_equal(x_train, x)
    assert x_test.shape == (1, 8, 8) and y_test[0] == 3


def test_npz_missing_arrays_named(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((1, 4, 4), np.uint8))
    with pytest.raises(DataError, match=r"bad\.npz.*missing arrays.*y_train"):
        load_mnist(path)


def test_bad_paths_named(tmp_path):
    with pytest.raises(DataError, match="nope.*no such file"):
        load_mnist(tmp_path / "nope")
    txt = tmp_path / "notes.txt"
    txt.write_text("hi")
    with pytest.raises(DataError, match=r"notes\.txt.*unsupported"):
        load_mnist(txt)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty.*no pictures"):
        load_mnist(tmp_path / "empty")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "a.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"a\.png.*not a readable image"):
        load_mnist(corrupt)


def _write_idx(path, array, gz):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("gz", [False, True])
def test_idx_directory(tmp_path, gz):
    rng = np.random.default_rng(0)
    xs = {s: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for s, n in (("train", 5), ("t10k", 3))}
    ext = ".gz" if gz else ""
    for split, x in xs.items():
        _write_idx(tmp_path / f"{split}-images-idx3-ubyte{ext}", x, gz)
        _write_idx(tmp_path / f"{split}-labels-idx1-ubyte{ext}", np.arange(len(x)), gz)
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path)
    np.testing.assert_array_equal(x_train, xs["train"])
    np.testing.assert_array_equal(x_test, xs["t10k"])
    np.testing.assert_array_equal(y_test, [0, 1, 2])


def test_idx_directory_count_mismatch(tmp_path):
    _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 2, 2)), False)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3), False)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((1, 2, 2)), False)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(1), False)
    with pytest.raises(DataError, match="4 images but 3 labels"):
        load_mnist(tmp_path)


def test_idx_directory_missing_split(tmp_path):
    _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 2, 2)), False)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4), False)
    with pytest.raises(DataError, match="t10k"):
        load_mnist(tmp_path)


def test_image_folder_resize_crop_labels(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (40 + i, 50, 3), dtype=np.uint8)).save(
                tmp_path / cls / f"{i}.png")
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path, hr_size=32, test_fraction=0.2)
    assert x_train.shape == (8, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert x_train.dtype == np.uint8
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == [0] * 5 + [1] * 5
    (x_c, _), _ = load_mnist(tmp_path, hr_size=(20, 30), fit="crop", test_fraction=0)
    assert x_c.shape == (10, 20, 30, 3)


def test_image_folder_grayscale_same_size(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((12, 10), i * 100, np.uint8), mode="L").save(tmp_path / f"{i}.png")
    (x_train, _), (x_test, _) = load_mnist(tmp_path, test_fraction=0)
    assert x_train.shape == (3, 12, 10) and x_test.shape == (0, 12, 10)
    assert sorted(x_train[:, 0, 0].tolist()) == [0, 100, 200]


def test_image_folder_reads_pictures_upright_as_upscale_does(tmp_path):
    """A phone photo stored sideways (EXIF orientation 6) among upright ones: read through the
    one picture reader, it is upright (12 high, 10 wide) like the others, not refused as a
    picture of another size."""
    from sr_lib.images import ORIENTATION, load_image

    for i in range(2):
        Image.fromarray(np.full((12, 10), 50, np.uint8), mode="L").save(tmp_path / f"{i}.png")
    sideways = np.zeros((10, 12), np.uint8)
    sideways[0, :] = 255  # the stored top row: the right-hand column once turned upright
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    Image.fromarray(sideways, mode="L").save(tmp_path / "phone.jpg", exif=exif, quality=100)
    upright, _ = load_image(tmp_path / "phone.jpg")
    assert upright.shape == (12, 10) and upright[:, -1].mean() > 0.9 > upright[:, 0].mean()
    (x_train, _), _ = load_mnist(tmp_path, test_fraction=0)
    assert x_train.shape == (3, 12, 10)
    assert sum(int(x[:, -1].mean() > 200) for x in x_train) == 1


def test_image_folder_mixed_sizes_need_hr_size(tmp_path):
    Image.new("L", (10, 10)).save(tmp_path / "a.png")
    Image.new("L", (12, 10)).save(tmp_path / "b.png")
    with pytest.raises(DataError, match="different sizes.*hr_size"):
        load_mnist(tmp_path)


def test_degrade_shape_range_and_definition():
    hr = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    lr = degrade(hr, 14)
    assert lr.shape == (4, 14, 14, 1) and lr.dtype == tf.float32
    assert float(tf.reduce_min(lr)) >= 0.0 and float(tf.reduce_max(lr)) <= 1.0
    expected = tf.clip_by_value(tf.image.resize(hr[..., None] / 255.0, (14, 14), "bicubic",
                                                antialias=True), 0, 1)
    np.testing.assert_allclose(lr, expected, atol=1e-6)
    assert degrade(hr, (7, 9)).shape == (4, 7, 9, 1)
    assert degrade(np.ones((2, 28, 28, 3), np.float32), 7).shape == (2, 7, 7, 3)
    assert degrade(np.ones((28, 28, 3), np.float32), 7).shape == (28, 7, 7, 1)  # always a batch


@pytest.mark.parametrize("size", [0, -3, (5, 0), "big", 10**7])
def test_degrade_bad_size(size):
    with pytest.raises(ValueError, match="size"):
        degrade(np.zeros((1, 8, 8), np.uint8), size)


def test_pairs_fixed_size_seeded():
    hr = np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    batches = list(pairs(hr, 26, batch_size=4, seed=3))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    lr, hr_b = batches[0]
    assert lr.shape == (4, 26, 26, 1) and hr_b.shape == (4, 28, 28, 1)
    np.testing.assert_allclose(lr, degrade(hr_b, 26), atol=1e-6)
    again = list(pairs(hr, 26, batch_size=4, seed=3))
    np.testing.assert_array_equal(batches[0][1], again[0][1])


def test_pairs_random_size_per_batch():
    hr = np.zeros((64, 28, 28), np.uint8)
    ds = pairs(hr, range(7, 27), batch_size=2, seed=0)
    sizes = {int(lr.shape[1]) for lr, _ in ds}
    assert len(sizes) > 3 and min(sizes) >= 7 and max(sizes) <= 26
    for lr, hr_b in ds.take(3):
        assert lr.shape[1] == lr.shape[2] and hr_b.shape[1:] == (28, 28, 1)


def test_pairs_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        pairs(np.zeros((2, 8, 8), np.uint8), 4, batch_size=0)
    with pytest.raises(ValueError, match="no images"):
        pairs(np.zeros((0, 8, 8), np.uint8), 4)
    with pytest.raises(ValueError, match="shape"):
        pairs(np.zeros((8, 8), np.uint8), 4)


def test_a_test_only_load_reads_no_training_arrays(tmp_path, monkeypatch):
    """What `sr-lib evaluate` asks for: the test split alone; .npz training arrays are not read."""
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((5, 8, 8), np.uint8), y_train=np.zeros(5, np.uint8),
             x_test=np.ones((2, 8, 8), np.uint8), y_test=np.zeros(2, np.uint8))
    read = []
    original = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__",
                        lambda self, key: read.append(key) or original(self, key))
    (x, y), (xt, yt) = load_mnist(path, splits=("test",))
    assert x is None and y is None and xt.shape == (2, 8, 8) and sorted(read) == ["x_test", "y_test"]
    assert load_mnist(path)[0][0].shape == (5, 8, 8)
