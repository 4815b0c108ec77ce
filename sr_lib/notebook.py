"""Notebook conveniences: the CI switch, seeding, quiet logs and inline previews."""

from __future__ import annotations

import os

QUICK_ENV = "SR_LIB_QUICK"


def quick_mode():
    """True when ``$SR_LIB_QUICK=1``: notebooks then train and evaluate on a tiny budget (CI)."""
    return os.environ.get(QUICK_ENV, "0") == "1"


def setup(seed=0):
    """Seed Python, NumPy and TensorFlow, quiet TF logging; return :func:`quick_mode`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.get_logger().setLevel("ERROR")
    return quick_mode()
