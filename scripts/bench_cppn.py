"""Benchmark CPPN art rendering against this machine's matmul rate.

    python scripts/bench_cppn.py [--repeats 5] [--out readme_assets/cppn_bench.json]

In one process: the float32 matmul rate (before and after), then renders of the default art CPPN
(hidden 32, depth 4, tanh) at 1800x1800 (grey uint8 and float32, colour) and 4096x4096 (grey,
colour), each the median of ``--repeats`` warm runs with peak memory, achieved GFLOP/s and its
fraction of the matmul rate. FLOP: multiply-adds count 2; the tanh and sigmoid evaluations, which
cost more than the dense layers at this width, are not counted.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench_common import load_average, machine, matmul_gflops, rate, timed, write  # same folder

from sr_lib.models import build_cppn
from sr_lib.rendering import DEFAULT_CHUNK, render
from sr_lib.walk import random_latents

LATENT = 8


def cppn_flop(hidden, depth, channels):
    """Per pixel: (x, y, r) into the first layer, depth - 1 dense layers, the output layer."""
    return 2 * 3 * hidden + (depth - 1) * 2 * hidden * hidden + 2 * hidden * channels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    parser.add_argument("--out", default="readme_assets/cppn_bench.json")
    args = parser.parse_args(argv)

    from sr_lib.runtime import quiet_tensorflow

    quiet_tensorflow()
    load_before = load_average()
    reference = [matmul_gflops()]
    z = random_latents(1, LATENT, seed=0)[0]
    rows = []
    for size, channels, dtype in ((1800, 1, "uint8"), (1800, 1, "float32"), (1800, 3, "uint8"),
                                  (4096, 1, "uint8"), (4096, 3, "uint8")):
        model = build_cppn(LATENT, channels=channels, hidden=32, depth=4, seed=0)
        repeats = args.repeats if size < 4096 else max(1, args.repeats // 2)
        row = {"workload": f"cppn art {size}x{size}, {channels} channel(s), {dtype}",
               "size": size, "channels": channels, "dtype": dtype, "chunk": args.chunk,
               **timed(lambda: render(model, z, size, chunk=args.chunk, dtype=dtype), repeats)}
        rows.append((row, size * size * cppn_flop(32, 4, channels) / 1e9))
        print(row, flush=True)
    reference.append(matmul_gflops())
    matmul = float(np.mean(reference))
    rows = [rate(row, gflop, matmul) for row, gflop in rows]
    for row in rows:
        print(f"{row['workload']}: {row['median_s']} s median, {row['gflops']} GFLOP/s = "
              f"{row['fraction_of_matmul']:.0%} of the {matmul:.0f} GFLOP/s matmul")
    write({"machine": machine(), "matmul_gflops_before_after": [round(r, 1) for r in reference],
           "load_avg_1_5_15_before": load_before, "load_avg_1_5_15_after": load_average(),
           "renders": rows}, args.out)


if __name__ == "__main__":
    main()
