"""Benchmark the local-latent CPPN: big renders and batch upscaling, next to bicubic.

    python scripts/bench_local_cppn.py [--model models/local_cppn.keras] [--repeats 3]
                                       [--out readme_assets/local_cppn_bench.json]

Measures (best of ``--repeats`` warm runs; the first, compiling call is reported apart):
a 26x26 digit rendered at 1800x1800 and at 4096x4096 with the peak resident-memory growth, and
the 10k MNIST test set upscaled to 28x28 from LR 26, 14 and 7, in images/s, with bicubic timed
in the same run. The load average is recorded: on a busy machine wall times are inflated.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench_cppn import PeakRSS  # same folder

from sr_lib import get_upscaler
from sr_lib.data import degrade, load_mnist


def timed(fn, repeats):
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
    return {"first_call_s": round(first, 3), "best_s": round(min(walls), 3),
            "median_s": round(float(np.median(walls)), 3),
            "peak_rss_growth_mb": round(max(peaks), 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/local_cppn.keras")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="readme_assets/local_cppn_bench.json")
    args = parser.parse_args()

    import keras

    import sr_lib.models.local_cppn  # noqa: F401  (registers LocalCPPN)

    model = keras.saving.load_model(args.model)
    x_test = load_mnist()[1][0]
    load_before = os.getloadavg()
    digit = degrade(x_test[:1], 26).numpy()
    renders = []
    for size in (1800, 4096):
        row = {"lr": 26, "size": size, **timed(lambda: model.upscale(digit, (size, size)),
                                                   args.repeats if size < 4096 else 1)}
        renders.append(row)
        print(row)
    bicubic = get_upscaler("bicubic")
    batch = []
    for lr_size in (26, 14, 7):
        lr = degrade(x_test, lr_size).numpy()
        for name, fn in (("local_cppn", model.upscale), ("bicubic", bicubic)):
            stats = timed(lambda: np.asarray(fn(lr, (28, 28))), args.repeats)
            row = {"method": name, "lr": lr_size, "hr": 28, "images": len(lr), **stats,
                   "images_per_s": round(len(lr) / stats["best_s"], 1)}
            batch.append(row)
            print(row)
    result = {"machine": {"cpus": os.cpu_count()}, "model": args.model,
              "load_avg_before": [round(v, 2) for v in load_before],
              "load_avg_after": [round(v, 2) for v in os.getloadavg()],
              "renders": renders, "batch_upscale": batch}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
