"""Pictures of new sizes reuse the compiled steps: 20 photographs of different sizes upscaled x2.

    python scripts/bench_sizes.py [--photos photos/test_photographs] [--model photo]
                                  [--out readme_assets/bench_sizes.json]

In one process: the float32 matmul rate, then 20 crops of the held-out photographs, each of a
size not seen before, upscaled x2 by ``sr_lib.pictures.upscale_file`` (read, upscale, write; the
model loaded once), each 1 + ``--repeats`` times: the first call at that size, then repeats, whose
median is "repeat". Reported per size and in
total: seconds, output megapixels per second, achieved GFLOP/s and its fraction of the matmul,
and first / repeat (the target: at most 1.3). The fraction is of a float32 matmul: a
``mixed_bfloat16`` model (the bundled photo) can exceed 1. The very first picture of the process also builds
the steps every later size reuses; it is reported apart.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_common import load_average, machine, matmul_gflops, write  # same folder
from bench_local_cppn import decoder_flop, encoder_flop

from sr_lib import pictures
from sr_lib.images import image_files, load_image, save_image
from sr_lib.registry import load_pretrained

SIDES = [(240 + 23 * i, 560 - 17 * i) for i in range(20)]  # (height, width), all different


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", default="photos/test_photographs")
    parser.add_argument("--model", default="photo")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per size (their median)")
    parser.add_argument("--out", default="readme_assets/bench_sizes.json")
    args = parser.parse_args(argv)
    sources = [load_image(p, colour=True)[0] for p in image_files(args.photos)]
    net = load_pretrained(args.model)
    reference = matmul_gflops()
    upscalers, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (h, w) in enumerate(SIDES):
            src = sources[i % len(sources)]
            y, x = (i * 37) % (src.shape[0] - h), (i * 53) % (src.shape[1] - w)
            path = Path(tmp) / f"in{i}.png"
            save_image(src[y:y + h, x:x + w], path)
            walls = []
            for _ in range(1 + args.repeats):  # the first call at this size, then the repeats
                start = time.perf_counter()
                pictures.upscale_file(path, Path(tmp) / f"out{i}.png", scale=2, model=args.model,
                                      upscalers=upscalers)
                walls.append(time.perf_counter() - start)
            repeat = float(np.median(walls[1:]))  # one repeat alone varies by about 30% here
            out_mp = 4 * h * w / 1e6
            gflop = (4 * h * w * decoder_flop(net) + h * w * encoder_flop(net)) / 1e9
            rows.append({"lr": [h, w], "first_s": round(walls[0], 3),
                         "repeats_s": [round(t, 3) for t in walls[1:]],
                         "repeat_s": round(repeat, 3), "first_over_repeat": round(walls[0] / repeat, 3),
                         "output_mp_per_s": round(out_mp / repeat, 3),
                         "fraction_of_matmul": round(gflop / repeat / reference, 3)})
            print(rows[-1], flush=True)
    later = rows[1:]  # the first picture of the process compiles; every later size is new too
    total_first = sum(r["first_s"] for r in rows)
    out_mp = sum(4 * r["lr"][0] * r["lr"][1] for r in rows) / 1e6
    gflop = sum(4 * h * w * decoder_flop(net) + h * w * encoder_flop(net) for h, w in SIDES) / 1e9
    result = {
        "command": "python scripts/bench_sizes.py " + " ".join(argv or sys.argv[1:]),
        "machine": machine(), "load_average_before": load_average(),
        "matmul_gflops_before": round(reference, 1),
        "model": args.model, "dtype_policy": net.dtype_policy.name, "scale": 2,
        "pictures": len(rows),
        "process_first_picture_s": rows[0]["first_s"],
        "new_size_over_repeat": {"median": round(float(np.median(
            [r["first_over_repeat"] for r in later])), 3),
            "max": max(r["first_over_repeat"] for r in later)},
        "total_s_all_first_calls": round(total_first, 2),
        "output_mp_per_s_all_first_calls": round(out_mp / total_first, 3),
        "fraction_of_matmul_all_first_calls": round(gflop / total_first / reference, 3),
        "rows": rows,
    }
    result["matmul_gflops_after"] = round(matmul_gflops(), 1)
    result["load_average_after"] = load_average()
    write(result, args.out)


if __name__ == "__main__":
    main()
