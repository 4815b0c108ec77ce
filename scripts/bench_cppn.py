"""Benchmark CPPN rendering: time at 1800x1800 and peak memory at 4096x4096.

    python scripts/bench_cppn.py [--repeats 5] [--out readme_assets/cppn_bench.json]

Times are the best of ``--repeats`` warm renders (the first, compiling call is reported apart),
with the process CPU time beside the wall time. Memory is the peak resident set size sampled
every 2 ms during a render, absolute and minus the resident size just before it. The load average is recorded
before and after: on a busy machine wall times are inflated, so rerun when the load is high.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np

from sr_lib.models import build_cppn
from sr_lib.rendering import DEFAULT_CHUNK, render
from sr_lib.walk import random_latents

LATENT = 8


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


def bench(size, channels, dtype, repeats, chunk, hidden=32, depth=4):
    model = build_cppn(LATENT, channels=channels, hidden=hidden, depth=depth, seed=0)
    z = random_latents(1, LATENT, seed=0)[0]
    start = time.perf_counter()
    render(model, z, size, chunk=chunk, dtype=dtype)
    first = time.perf_counter() - start
    walls, cpus, peaks, absolute = [], [], [], []
    for _ in range(repeats):
        with PeakRSS() as mem:
            wall, cpu = time.perf_counter(), time.process_time()
            image = render(model, z, size, chunk=chunk, dtype=dtype)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        peaks.append(mem.peak - mem.before)
        absolute.append(mem.peak)
        del image
    row = {"size": size, "channels": channels, "hidden": hidden, "depth": depth, "dtype": dtype,
           "chunk": chunk, "first_call_s": round(first, 3), "best_s": round(min(walls), 3),
           "median_s": round(float(np.median(walls)), 3), "cpu_s_of_best": round(
               cpus[int(np.argmin(walls))], 3), "peak_rss_growth_mb": round(max(peaks), 1),
           "peak_rss_mb": round(max(absolute), 1),
           "output_mb": round(size * size * channels * np.dtype(dtype).itemsize / 2**20, 1),
           "megapixels_per_s": round(size * size / min(walls) / 1e6, 2)}
    print(json.dumps(row), flush=True)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    parser.add_argument("--out", default="readme_assets/cppn_bench.json")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    rows = [bench(1800, 1, "uint8", args.repeats, args.chunk),
            bench(1800, 1, "float32", args.repeats, args.chunk),
            bench(1800, 3, "uint8", args.repeats, args.chunk),
            bench(4096, 1, "uint8", max(1, args.repeats // 2), args.chunk),
            bench(4096, 3, "uint8", max(1, args.repeats // 2), args.chunk)]
    result = {"machine": {"cpus": os.cpu_count(), "processor": platform.processor() or
                          platform.machine(), "python": platform.python_version()},
              "load_avg_1_5_15_before": [round(x, 2) for x in load_before],
              "load_avg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
              "rss_mb_at_end": round(rss_mb(), 1), "renders": rows}
    import keras
    import tensorflow as tf
    result["machine"].update(tensorflow=tf.__version__, keras=keras.__version__)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
