"""What every benchmark here shares: the machine's matmul rate measured in the same run, medians
of several warm runs, peak memory, the load average and an atomic JSON write.

A workload's speed is reported as achieved GFLOP/s and as a fraction of a large float32
``tf.matmul`` (``--matmul-n``, default 4096) measured by the same process, before and after the
workloads: a ratio says how close to this machine's limit the code runs, on any machine.
"""

from __future__ import annotations

import os
import platform
import threading
import time

import numpy as np


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakRSS:
    """Context manager sampling the resident set size in a thread; ``.peak`` / ``.before`` in MB."""

    def __enter__(self):
        self.before = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def timed(fn, repeats):
    """Run ``fn`` once (compiling, reported apart), then ``repeats`` times: seconds and memory."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    walls, peaks = [], []
    for _ in range(repeats):
        with PeakRSS() as mem:
            start = time.perf_counter()
            fn()
            walls.append(time.perf_counter() - start)
        peaks.append(mem.peak - mem.before)
    return {"runs": repeats, "first_call_s": round(first, 3), "median_s": round(
        float(np.median(walls)), 3), "best_s": round(min(walls), 3),
        "peak_rss_growth_mb": round(max(peaks), 1)}


def matmul_gflops(n=4096, repeats=5):
    """Median GFLOP/s of an ``n x n`` float32 ``tf.matmul`` (2 n^3 FLOP) on this process's cores."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(0, 1))
    b = tf.random.stateless_normal((n, n), seed=(0, 2))
    matmul = tf.function(tf.matmul)
    matmul(a, b).numpy()
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        walls.append(time.perf_counter() - start)
    return 2 * n ** 3 / float(np.median(walls)) / 1e9


def rate(row, gflop, reference):
    """Add ``gflop`` of work, the achieved GFLOP/s (median run) and its fraction of
    ``reference`` (the matmul rate) to a :func:`timed` row."""
    achieved = gflop / row["median_s"]
    return {**row, "gflop": round(gflop, 2), "gflops": round(achieved, 1),
            "fraction_of_matmul": round(achieved / reference, 3)}


def machine():
    import keras
    import tensorflow as tf

    from sr_lib.runtime import usable_cores

    return {"usable_cores": usable_cores(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__}


def load_average():
    return [round(v, 2) for v in os.getloadavg()]


def write(result, path):
    from sr_lib.files import write_json

    write_json(path, result)
    print(f"wrote {path}")
