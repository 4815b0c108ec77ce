"""Benchmark the local-latent CPPN against this machine's matmul rate.

    python scripts/bench_local_cppn.py [--repeats 5] [--out readme_assets/local_cppn_bench.json]

In one process: the float32 matmul rate (before and after the workloads), then a 26x26 digit
rendered at 1800x1800 and 4096x4096, the 10,000 MNIST test digits upscaled to 28x28 from LR 26,
14 and 7 (bicubic timed beside them), each the median of ``--repeats`` warm runs with its achieved
GFLOP/s and fraction of the matmul rate; then two large ``sr-lib upscale`` runs in child
processes (2000x2000 x4 and 4000x4000 -> 1000x1000 MNIST mosaics) with their wall time and peak
resident memory. FLOP: multiply-adds of the convolutions and dense layers count 2; biases,
activations, gathers and the blend are not counted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_common import load_average, machine, matmul_gflops, rate, timed, write  # same folder

from sr_lib import get_upscaler
from sr_lib.data import degrade, load_mnist
from sr_lib.registry import load_pretrained


def decoder_flop(m):
    """Per output pixel: four neighbours through the coordinate projection, MLP and output."""
    return 4 * (2 * 5 * m.hidden + (m.depth - 1) * 2 * m.hidden ** 2 + 2 * m.hidden * m.channels)


def encoder_flop(m):
    """Per LR pixel: head, residual blocks and the k x k code projection."""
    f = m.features
    return 2 * 9 * m.channels * f + m.blocks * 2 * 2 * 9 * f * f + 2 * m.unfold ** 2 * f * m.hidden


def large_upscale(tmp, digits, side, scale):
    """``sr-lib upscale`` of a ``side`` x ``side`` mosaic of ``digits`` in a child process: wall
    seconds and the child's peak resident memory."""
    from PIL import Image

    k = -(-side // 28)
    mosaic = digits[:k * k].reshape(k, k, 28, 28).transpose(0, 2, 1, 3).reshape(k * 28, k * 28)
    src, dst = Path(tmp) / f"in{side}.png", Path(tmp) / f"out{side}.png"
    Image.fromarray(mosaic[:side, :side]).save(src)
    # the child reports its own peak (VmHWM): ru_maxrss would include this process's size at fork
    code = ("import sys; from sr_lib.cli import main; rc = main(sys.argv[1:]); print([l for l in "
            "open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]); sys.exit(rc)")
    start = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", code, "upscale", str(src), str(dst), "--scale",
                            str(scale)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    out = Image.open(dst).size if dst.exists() else None
    peak_kb = int(child.stdout.split()[-1]) if child.returncode == 0 else 0
    return {"input": [side, side], "scale": scale, "output": out and [out[1], out[0]],
            "exit_status": child.returncode, "wall_s": round(wall, 2),
            "peak_rss_mb": round(peak_kb / 1024, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="local_cppn")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="readme_assets/local_cppn_bench.json")
    parser.add_argument("--no-large", action="store_true", help="skip the two large upscales")
    args = parser.parse_args()

    from sr_lib.runtime import quiet_tensorflow

    quiet_tensorflow()
    load_before = load_average()
    reference = [matmul_gflops()]
    model = load_pretrained(args.model)
    up = get_upscaler(model)
    dec, enc = decoder_flop(model), encoder_flop(model)
    (x_train, _), (x_test, _) = load_mnist()  # read once: the large upscales tile x_train
    digit = degrade(x_test[:1], 26).numpy()
    jobs = []
    for size in (1800, 4096):
        jobs.append((f"render {size}x{size} from 26x26", dict(lr=26, size=size),
                     lambda size=size: up(digit, size), (size * size * dec + 676 * enc) / 1e9,
                     args.repeats if size < 4096 else max(1, args.repeats // 2)))
    bicubic = get_upscaler("bicubic")
    for lr_size in (26, 14, 7):
        lr = degrade(x_test, lr_size).numpy()
        gflop = len(lr) * (28 * 28 * dec + lr_size ** 2 * enc) / 1e9
        jobs.append((f"10k digits {lr_size} -> 28", dict(lr=lr_size, size=28, images=len(lr)),
                     lambda lr=lr: up(lr, 28), gflop, args.repeats))
        jobs.append((f"10k digits {lr_size} -> 28, bicubic", dict(lr=lr_size, size=28,
                                                                  images=len(lr)),
                     lambda lr=lr: bicubic(lr, 28), None, args.repeats))
    rows = []
    for name, info, fn, gflop, repeats in jobs:
        row = {"workload": name, **info, **timed(fn, repeats)}
        if "images" in info:
            row["images_per_s"] = round(info["images"] / row["median_s"], 1)
        rows.append((row, gflop))
        print(row, flush=True)
    reference.append(matmul_gflops())
    matmul = float(np.mean(reference))  # the machine's rate over the run
    rows = [row if gflop is None else rate(row, gflop, matmul) for row, gflop in rows]
    for row in rows:
        if "fraction_of_matmul" in row:
            print(f"{row['workload']}: {row['median_s']} s median, {row['gflops']} GFLOP/s = "
                  f"{row['fraction_of_matmul']:.0%} of the {matmul:.0f} GFLOP/s matmul")
    large = []
    if not args.no_large:
        with tempfile.TemporaryDirectory() as tmp:
            for side, scale in ((2000, 4), (4000, 0.25)):
                large.append(large_upscale(tmp, x_train, side, scale))
                print(large[-1], flush=True)
    result = {"machine": machine(), "model": args.model,
              "flop_per_output_pixel": dec, "flop_per_lr_pixel": enc,
              "matmul_gflops_before_after": [round(r, 1) for r in reference],
              "load_avg_1_5_15_before": load_before, "load_avg_1_5_15_after": load_average(),
              "workloads": rows, "large_upscales": large}
    write(result, args.out)


if __name__ == "__main__":
    main()
