"""The process around the models: a quiet TensorFlow start-up, the usable cores, ``tf.distribute``
strategies and run folders, the Keras precision policy. TensorFlow loads only when needed."""

import contextlib
import json
import os
import signal
import select
import socket
import sys
import time
from pathlib import Path

STRATEGIES = ("default", "mirrored", "multiworker")
_MULTIWORKER = []  # this process's MultiWorkerMirroredStrategy, once made
_STDERR = []  # the real stderr while quiet_tensorflow silences file descriptor 2
PEER_TIMEOUT_S = 600  # multiworker: how long to wait for every worker ($SR_LIB_PEER_TIMEOUT)


def quiet_tensorflow(first=None):
    """Import TensorFlow quietly (stderr at /dev/null), running ``first()`` before it starts."""
    if "tensorflow" in sys.modules and first is None:
        return  # returns nothing: a notebook cell ending in this call displays nothing
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    _STDERR.append(saved)
    try:
        import tensorflow as tf

        if first is not None:
            first()
        tf.config.list_logical_devices()
    finally:
        _STDERR.remove(saved)
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
    """A ``tf.distribute`` strategy by name (``multiworker``: once, before other TF work; it
    waits at most :data:`PEER_TIMEOUT_S` for its peers, and SIGTERM / SIGINT end the wait)."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose from {STRATEGIES}")
    worker_dir(".", name)  # multiworker: a bad TF_CONFIG fails here, before TensorFlow loads
    import tensorflow as tf

    if name != "multiworker":
        return (tf.distribute.MirroredStrategy() if name == "mirrored"
                else tf.distribute.get_strategy())
    class MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """``reduce`` taking what Keras 3's ``fit`` passes it (keras-team/keras#20585)."""

        def reduce(self, reduce_op, value, axis):
            reduce, local = super().reduce, self.experimental_local_results
            return tf.nest.map_structure(
                lambda v: reduce(reduce_op, v, axis if local(v)[0].shape.rank else None), value)

    if _MULTIWORKER:
        return _MULTIWORKER[0]
    _rendezvous(*_cluster())  # in Python: a timeout, SIGTERM and Ctrl-C all work while waiting
    try:
        strategy = MultiWorkerStrategy()
    except RuntimeError as exc:  # "Collective ops must be configured at program startup"
        if "program startup" in str(exc):
            raise ValueError("strategy 'multiworker' must be created before TensorFlow runs "
                             "anything: call train() first, in a fresh process") from None
        raise
    with contextlib.suppress(ValueError):  # (main thread only) TensorFlow's coordination agent
        for sig in (signal.SIGTERM, signal.SIGINT):  # took both: they interrupt training again
            signal.signal(sig, signal.default_int_handler)
    _MULTIWORKER.append(strategy)
    return strategy


def _rendezvous(kind, index, cluster):
    """Wait (``$SR_LIB_PEER_TIMEOUT`` s at most) until every worker listens on its address and
    has connected to this one, before TensorFlow takes the port (its wait is uninterruptible)."""
    own = cluster[kind][index]
    peers = {f"{k} {i} ({a})": a for k, v in cluster.items() for i, a in enumerate(v) if a != own}
    timeout = float(os.environ.get("SR_LIB_PEER_TIMEOUT", PEER_TIMEOUT_S))
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind(("", int(own.rpartition(":")[2])))
        except OSError as exc:
            raise ValueError(f"TF_CONFIG: this worker's address {own} cannot be used "
                             f"({exc.strerror}); pick a free port") from None
        server.listen(len(peers) + 1)
        os.write(_STDERR[-1] if _STDERR else 2, f"{kind} {index}: waiting up to {timeout:.0f} s "
                 f"for {len(peers)} other worker(s)\n".encode())
        reached, heard, deadline = set(), 0, time.monotonic() + timeout
        while min(len(reached), heard) < len(peers) and time.monotonic() < deadline:
            for name in set(peers) - reached:
                host, _, port = peers[name].rpartition(":")
                with contextlib.suppress(OSError):
                    socket.create_connection((host, int(port)), timeout=0.2).close()
                    reached.add(name)
            while select.select([server], [], [], 0.1)[0]:
                server.accept()[0].close()
                heard += 1
    if min(len(reached), heard) < len(peers):
        missing = ", ".join(sorted(set(peers) - reached)) or "a worker (not reaching this one)"
        raise ValueError(f"{missing} did not join within {timeout:.0f} s ($SR_LIB_PEER_TIMEOUT); "
                         "start every worker of TF_CONFIG")


def _cluster():
    """``(task kind, index, cluster)`` of ``$TF_CONFIG``, checked, else a one-line error."""
    text = os.environ.get("TF_CONFIG")
    try:
        config = json.loads(text)
        kind, index, cluster = config["task"]["type"], config["task"]["index"], config["cluster"]
        ok = (kind in ("chief", "worker") and type(index) is int and isinstance(cluster, dict)
              and all(isinstance(v, list) and v for v in cluster.values())
              and 0 <= index < len(cluster.get(kind, [])))
        bad = [a for v in cluster.values() for a in v if not isinstance(a, str)
               or not a.rpartition(":")[2].isdigit() or not 0 < int(a.rpartition(":")[2]) < 65536]
        if ok:
            if not bad:
                return kind, index, cluster
            raise ValueError(f"TF_CONFIG: worker addresses must be \"host:port\", got {bad[0]!r}")
    except (TypeError, KeyError, AttributeError, json.JSONDecodeError):
        pass
    raise ValueError(f"strategy 'multiworker' needs $TF_CONFIG ({'malformed' if text else 'unset'}"
                     """), e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": """
                     """{"type": "worker", "index": 0}}""")


def worker_dir(out_dir, strategy="default"):
    """This process's run folder: ``out_dir``, or ``out_dir/worker_N`` on non-chief workers."""
    if strategy != "multiworker":
        return Path(out_dir)
    kind, index, cluster = _cluster()
    chief = kind == "chief" or (index == 0 and "chief" not in cluster)
    return Path(out_dir) if chief else Path(out_dir) / f"{kind}_{index}"


@contextlib.contextmanager
def precision(policy):
    """Build layers under the Keras dtype ``policy`` (e.g. ``mixed_bfloat16``), then restore it."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
