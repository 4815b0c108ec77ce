"""The process around the models: TensorFlow start-up without its log lines, the usable cores,
``tf.distribute`` strategies and multi-worker run folders, and the Keras precision policy.
Nothing here runs at import: TensorFlow loads when a function needs it."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

STRATEGIES = ("default", "mirrored", "multiworker")
_MULTIWORKER = []  # this process's MultiWorkerMirroredStrategy, once made


def quiet_tensorflow(first=None):
    """Import TensorFlow without its start-up log lines (oneDNN, CUDA probing), which TF 2.2x
    writes before reading ``TF_CPP_MIN_LOG_LEVEL``: stderr points at /dev/null while it loads.
    ``first()`` runs before TensorFlow starts (a multi-worker strategy must). For a notebook's
    kernel or the ``sr-lib`` process; importing ``sr_lib`` never calls it."""
    if "tensorflow" in sys.modules and first is None:
        return  # returns nothing: a notebook cell ending in this call displays nothing
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        if first is not None:
            first()
        tf.config.list_logical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tf.get_logger().setLevel("ERROR")


def usable_cores():
    """The CPU cores this process may run on (``os.sched_getaffinity``), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def get_strategy(name="default"):
    """A ``tf.distribute`` strategy by name. ``multiworker`` (``TF_CONFIG``'s cluster) is made once
    per process, before any other TensorFlow work (collective ops are set up at start-up)."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose from {STRATEGIES}")
    worker_dir(".", name)  # multiworker: a bad TF_CONFIG fails here, before TensorFlow loads
    import tensorflow as tf

    if name != "multiworker":
        return (tf.distribute.MirroredStrategy() if name == "mirrored"
                else tf.distribute.get_strategy())
    class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """``MultiWorkerMirroredStrategy`` whose ``reduce`` takes what Keras 3's ``fit`` passes
        it across workers (keras-team/keras#20585): a nested (x, y) batch, scalars with
        ``axis=0``."""

        def reduce(self, reduce_op, value, axis):
            reduce, local = super().reduce, self.experimental_local_results
            return tf.nest.map_structure(
                lambda v: reduce(reduce_op, v, axis if local(v)[0].shape.rank else None), value)

    try:
        if not _MULTIWORKER:
            _MULTIWORKER.append(MultiWorkerStrategy())
    except RuntimeError as exc:  # "Collective ops must be configured at program startup"
        if "program startup" in str(exc):
            raise ValueError("strategy 'multiworker' must be created before TensorFlow runs "
                             "anything: call train() first, in a fresh process") from None
        raise
    return _MULTIWORKER[0]


def worker_dir(out_dir, strategy="default"):
    """This process's run folder: ``out_dir``, or ``out_dir/worker_N`` on multi-worker workers
    but the chief (worker 0): workers sharing ``out_dir`` never write the same file."""
    if strategy != "multiworker":
        return Path(out_dir)
    text = os.environ.get("TF_CONFIG")
    try:
        config = json.loads(text)
        kind, index, cluster = config["task"]["type"], config["task"]["index"], config["cluster"]
        if kind in ("chief", "worker") and 0 <= index < len(cluster[kind]):
            chief = kind == "chief" or (index == 0 and "chief" not in cluster)
            return Path(out_dir) if chief else Path(out_dir) / f"{kind}_{index}"
    except (TypeError, ValueError, KeyError):
        pass
    raise ValueError(f"strategy 'multiworker' needs $TF_CONFIG ({'malformed' if text else 'unset'}"
                     """), e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": """
                     """{"type": "worker", "index": 0}}""")


@contextlib.contextmanager
def precision(policy):
    """Build layers under the Keras dtype ``policy`` (``mixed_bfloat16``: bfloat16 compute,
    float32 weights), then restore the global one."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
