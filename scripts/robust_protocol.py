"""The photo protocol under other degradations than the training one: how much each method gains
over bicubic, on the same degraded input, picture by picture.

    python scripts/robust_protocol.py DIR/test_photographs [--methods photo photo_clean]
        [--degradations bicubic area bicubic_naive jpeg75] [--scales 2 4] [--out FILE]

For every picture, degradation (:func:`sr_lib.degradations.named`) and scale it runs
:func:`sr_lib.metrics.evaluate` (full size) and records each method's PSNR-Y minus
bicubic's; writes the per-picture gains, their means and their minima to
``readme_assets/05_robust.json`` (atomically) and prints the table of notebook 05 and the README.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from sr_lib import metrics
from sr_lib.degradations import named
from sr_lib.files import write_json
from sr_lib.images import image_files, opaque_pictures


def gain_table(pictures, methods, degradations, scales):
    """``{method: {degradation: {scale: {"mean", "min", "below"}}}}`` of per-picture gains
    ``pictures[name][method][degradation][scale]`` (``below``: pictures under bicubic)."""
    table = {}
    for m in methods:
        for d in degradations:
            for s in map(str, scales):
                values = [p[m][d][s] for p in pictures.values()]
                table.setdefault(m, {}).setdefault(d, {})[s] = {
                    "mean": round(float(np.mean(values)), 3), "min": round(min(values), 3),
                    "below": [n for n, p in pictures.items() if p[m][d][s] < 0]}
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="a folder of held-out photographs")
    parser.add_argument("--methods", nargs="+", default=["photo", "photo_clean"])
    parser.add_argument("--degradations", nargs="+",
                        default=["bicubic", "area", "bicubic_naive", "jpeg75"])
    parser.add_argument("--scales", nargs="+", type=float, default=[2, 4])
    parser.add_argument("--out", default="readme_assets/05_robust.json")
    args = parser.parse_args(argv)
    scales = [int(s) if float(s).is_integer() else s for s in args.scales]
    files = opaque_pictures(image_files(args.dir), report=print)[0]  # the photo protocol's
    if not files:
        raise SystemExit(f"{args.dir}: no opaque pictures")
    for name in args.degradations:  # before minutes of work
        named(name)
    for scale in scales:
        metrics.check_scale(scale)

    from sr_lib.runtime import quiet_tensorflow

    quiet_tensorflow()
    from sr_lib.upscalers import get_upscaler

    methods = {m: get_upscaler(m) for m in ["bicubic", *args.methods]}
    pictures = {}
    for i, path in enumerate(files, 1):
        start = time.perf_counter()
        rows = metrics.evaluate(methods, [path], scales=scales, luma=True,
                                  degradations=args.degradations)
        ref = {(r["degradation"], r["scale"]): r["psnr"] for r in rows
               if r["method"] == "bicubic"}
        gains = {}
        for r in rows:
            if r["method"] != "bicubic":
                gains.setdefault(r["method"], {}).setdefault(r["degradation"], {})[
                    str(r["scale"])] = round(r["psnr"] - ref[r["degradation"], r["scale"]], 3)
        pictures[path.stem] = gains
        print(f"[{i}/{len(files)}] {path.stem} ({time.perf_counter() - start:.0f} s): {gains}",
              flush=True)
    table = gain_table(pictures, args.methods, args.degradations, scales)
    for m in args.methods:
        print(f"\n{m}: mean gain over bicubic, PSNR-Y dB (min over pictures)")
        print(f"{'LR made by':<16}" + "".join(f"{'x' + str(s):>18}" for s in scales))
        for d in args.degradations:
            cells = [table[m][d][str(s)] for s in scales]
            print(f"{d:<16}" + "".join(f"{c['mean']:>+10.2f} ({c['min']:+.2f})" for c in cells))
    write_json(args.out, {"command": "python scripts/robust_protocol.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "scales": scales,
        "degradations": args.degradations, "n": len(pictures), "table": table,
        "pictures": pictures})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
