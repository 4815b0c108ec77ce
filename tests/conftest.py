"""Fixtures shared by the test modules."""

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

from sr_lib import recipes, registry


@pytest.fixture
def eager(request):
    """TensorFlow functions (Keras' train, test and predict steps among them) run op by op for the
    test, unless it is marked ``compiled``: tests of run folders, resumes, seeds and errors train
    a few steps, and tracing those steps was most of their time. Graph mode stays covered by the
    ``compiled`` tests, the notebooks, every test that trains in a subprocess (``sr-lib`` run as
    a command, the workers) and ``test_train.py::test_eager_training_matches_compiled``; the
    in-process ``cli.main`` calls of an eager module run eagerly too."""
    if request.node.get_closest_marker("compiled"):
        yield
        return
    with eagerly():
        yield


@contextlib.contextmanager
def eagerly():
    """TensorFlow functions run op by op inside, the previous mode restored after."""
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(before)


@pytest.fixture
def crash_in_epoch():
    """``crash(out_dir, epoch, kw, model="local_cppn")``: ``recipes.train`` killed at the start of
    ``epoch`` (a callback raises), as an interrupted run leaves its folder."""
    import keras

    def crash(out_dir, epoch, kw, model="local_cppn"):
        class Crash(keras.callbacks.Callback):
            def on_epoch_begin(self, e, logs=None):
                if e == epoch:
                    raise RuntimeError("simulated kill")

        original = recipes.callbacks
        recipes.callbacks = lambda *a, **k: original(*a, **k) + [Crash()]
        try:
            with pytest.raises(RuntimeError, match="simulated kill"):
                recipes.train(model, out_dir, **kw)
        finally:
            recipes.callbacks = original

    return crash


TINY = registry.MODELS["local_cppn"].tiny  # builder arguments of a tiny local CPPN


def tiny_model(name, lr=6, hr=8, channels=1, seed=0, **changes):
    """A small untrained upscaling network of the registry's ``name``, built as training builds
    it (its ``tiny`` configuration, ``changes`` on top): the one way tests make models."""
    spec = dict(channels=channels, hr_size=hr, lr_sizes=[lr, lr], residual=True, seed=seed)
    return registry.MODELS[name].build(spec, **{**registry.MODELS[name].tiny, **changes})


def write_npz(path, x_train, x_test):
    """An ``.npz`` in the keras MNIST layout (labels all 0) of the uint8 images given."""
    np.savez(path, x_train=x_train, y_train=np.zeros(len(x_train), np.uint8), x_test=x_test,
             y_test=np.zeros(len(x_test), np.uint8))
    return path


@pytest.fixture(scope="session")
def mnist():
    """``((x_train, y_train), (x_test, y_test))`` of the bundled MNIST, read once per run."""
    from sr_lib.data import load_mnist

    return load_mnist()


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def nb_cells(name):
    """The cells of ``notebooks/NAME`` as committed (the .ipynb JSON; nbval executes them)."""
    return json.loads((NOTEBOOKS / name).read_text())["cells"]


def nb_source(cell):
    return "".join(cell["source"])


def nb_markdown(name):
    """All markdown of a notebook as one text."""
    return "\n".join(nb_source(c) for c in nb_cells(name) if c["cell_type"] == "markdown")


def nb_code(name):
    """The sources of a notebook's code cells."""
    return [nb_source(c) for c in nb_cells(name) if c["cell_type"] == "code"]


def wide_gamut_icc(description="Display P3 (sr_lib test)"):
    """A minimal ICC v2 matrix/TRC display profile with Display P3 primaries (D50-adapted
    colorants, gamma 2.2): a wide-gamut profile built here, as no file of one is at hand."""
    import struct

    def s15(v):
        return struct.pack(">i", round(v * 65536))

    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 70
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz(0.5151, 0.2412, -0.0011)), (b"gXYZ", xyz(0.2920, 0.6922, 0.0419)),
            (b"bXYZ", xyz(0.1571, 0.0666, 0.7841)), (b"rTRC", curve), (b"gTRC", curve),
            (b"bTRC", curve), (b"cprt", b"text\0\0\0\0none\0\0\0\0")]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + s15(0.9642) + s15(1.0)
              + s15(0.8249) + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + data
