"""The photo protocol on the held-out pictures of ``sr-lib photos DIR``: what notebook 05 and the
README show.

    python scripts/photo_protocol.py DIR [--methods bicubic lanczos3 photo] [--out FILE]

Runs :func:`sr_lib.metrics.evaluate_photos` (full size, x2, x3, x4, x2.5) on the held-out
photographs (``DIR/test_photographs``) and on the other held-out pictures (renders and
illustrations), and writes both, plus their pooled means over all held-out pictures, to
``readme_assets/05_protocol.json`` (atomically).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sr_lib import metrics
from sr_lib.files import write_json
from sr_lib.photos import PHOTOGRAPHS, image_files

SCALES = (2, 3, 4, 2.5)


def pooled(*sets):
    """Rows of several disjoint sets of pictures as rows over all of them: every value is a mean
    over pictures, so the pooled one is the mean weighted by each set's ``n``."""
    rows = []
    for parts in zip(*(s["rows"] for s in sets)):
        n = sum(r["n"] for r in parts)
        rows.append({k: (parts[0][k] if k in ("method", "scale") else
                         n if k == "n" else sum(r[k] * r["n"] for r in parts) / n)
                     for k in parts[0]})
    return rows


def gains(rows, base="bicubic"):
    """``{method: {scale: PSNR-Y minus the base method's}}``."""
    ref = {r["scale"]: r["psnr_y"] for r in rows if r["method"] == base}
    out = {}
    for r in rows:
        if r["method"] != base:
            out.setdefault(r["method"], {})[str(r["scale"])] = round(r["psnr_y"] - ref[r["scale"]], 3)
    return out


def describe(files):
    from PIL import Image

    sizes = []
    for f in files:
        with Image.open(f) as image:
            sizes.append(image.size)
    return {"n": len(files), "names": [f.stem for f in files],
            "sizes": f"{min(sizes)[0]}x{min(sizes)[1]} to {max(sizes)[0]}x{max(sizes)[1]}"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="what `sr-lib photos DIR` wrote")
    parser.add_argument("--methods", nargs="+", default=["bicubic", "lanczos3", "photo"])
    parser.add_argument("--out", default="readme_assets/05_protocol.json")
    args = parser.parse_args(argv)

    from sr_lib.notebook import quiet_tensorflow

    quiet_tensorflow()
    held_out = image_files(args.dir / "test")
    files = {"photographs": [f for f in held_out if f.stem in PHOTOGRAPHS],
             "artworks": [f for f in held_out if f.stem not in PHOTOGRAPHS]}
    sets = {}
    for name, found in files.items():
        if not found:
            raise SystemExit(f"no held-out {name} in {args.dir / 'test'}")
        start = time.perf_counter()
        print(f"{name}: {len(found)} pictures ...", flush=True)
        rows = metrics.evaluate_photos(args.methods, found, SCALES)
        sets[name] = {**describe(found), "rows": rows, "gain_db": gains(rows)}
        print(metrics.format_table(rows), f"\n({time.perf_counter() - start:.0f} s)", flush=True)
    rows = pooled(*sets.values())
    sets["all"] = {"n": len(held_out), "rows": rows, "gain_db": gains(rows)}
    write_json(args.out, {"command": "python scripts/photo_protocol.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "scales": list(SCALES), "sets": sets})
    print("gain over bicubic, PSNR-Y dB:", {k: v["gain_db"] for k, v in sets.items()})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
