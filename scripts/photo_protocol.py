"""The photo protocol on the held-out pictures of ``sr-lib photos DIR``: what notebook 05 and the
README show.

    python scripts/photo_protocol.py DIR [--methods bicubic lanczos3 photo] [--out FILE]
    python scripts/photo_protocol.py DIR --repool FILE   # no picture measured again

Runs :func:`sr_lib.metrics.evaluate` (full size, x2, x3, x4, x2.5) on each opaque held-out
picture (``DIR/test``; translucent ones are left out, as in photo training:
:func:`sr_lib.images.opaque_pictures`) and writes every picture's rows and their means over the
photographs (:data:`sr_lib.photos.PHOTOGRAPHS`), over the other pictures (renders, illustrations)
and over all to ``readme_assets/05_protocol.json`` (atomically). ``--repool FILE`` re-computes
the means of FILE's per-picture rows under that rule, without measuring any picture again.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from sr_lib import metrics
from sr_lib.files import write_json
from sr_lib.images import image_files, opaque_pictures
from sr_lib.photos import PHOTOGRAPHS

SCALES = metrics.PHOTO_SCALES  # (a name of its own: the tests shorten it)


def pooled(*sets):
    """Rows of several disjoint sets of pictures as rows over all of them: every score is a mean
    over pictures, so the pooled one is the mean weighted by each set's ``n``."""
    keyed = [{(r.degradation, r.method, r.scale): r for r in
              (x if isinstance(x, metrics.Row) else metrics.Row.from_dict(x) for x in s["rows"])}
             for s in sets]
    if any(k.keys() != keyed[0].keys() for k in keyed):
        raise ValueError("the sets were measured with different methods or scales")
    rows = []
    for key, first in keyed[0].items():
        parts = [k[key] for k in keyed]
        n = sum(r.n for r in parts)
        mean = {f: sum(getattr(r, f) * r.n for r in parts) / n for f in ("psnr", "ssim", "psnr_rgb")}
        rows.append(dataclasses.replace(first, n=n, **mean,
                                        identical=sum(r.identical for r in parts),
                                        images_per_s=n / sum(r.n / r.images_per_s for r in parts)))
    return rows


def gains(rows, base="bicubic"):
    """``{method: {scale: PSNR-Y minus the base method's}}``."""
    ref = {r["scale"]: r["psnr"] for r in rows if r["method"] == base}
    out = {}
    for r in rows:
        if r["method"] != base:
            out.setdefault(r["method"], {})[str(r["scale"])] = round(r["psnr"] - ref[r["scale"]], 3)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="what `sr-lib photos DIR` wrote")
    parser.add_argument("--methods", nargs="+", default=["bicubic", "lanczos3", "photo"])
    parser.add_argument("--out", default="readme_assets/05_protocol.json")
    parser.add_argument("--repool", type=Path, metavar="FILE",
                        help="re-pool FILE's per-picture rows (left out: translucent pictures)")
    args = parser.parse_args(argv)

    from PIL import Image

    from sr_lib.runtime import quiet_tensorflow

    held_out, translucent = opaque_pictures(image_files(args.dir / "test"), report=print)
    left_out = {f.stem: "translucent" for f in translucent}
    if "bicubic" not in args.methods:
        raise SystemExit("--methods must include bicubic: gains are measured against it")
    for name, keep in (("photographs", True), ("artworks", False)):  # before minutes of work
        if not any((f.stem in PHOTOGRAPHS) == keep for f in held_out):
            raise SystemExit(f"no held-out {name} in {args.dir / 'test'}")
    if args.repool:
        import json

        old = json.loads(args.repool.read_text())
        pictures = {f.stem: old["pictures"][f.stem] for f in held_out}
        command = f"{old['command']}; re-pooled by python scripts/photo_protocol.py " + " ".join(
            sys.argv[1:] if argv is None else argv)
        write_summary(args.out, command, pictures, left_out)
        return
    quiet_tensorflow()
    pictures = {}
    for i, path in enumerate(held_out, 1):  # one picture at a time: per-picture rows, pooled below
        start = time.perf_counter()
        rows = metrics.evaluate(args.methods, [path], scales=SCALES, luma=True)
        with Image.open(path) as image:
            size = "x".join(map(str, image.size))
        gain = gains(rows)
        pictures[path.stem] = {"photograph": path.stem in PHOTOGRAPHS, "size": size,
                               "gain_db": gain, "rows": rows}
        print(f"[{i}/{len(held_out)}] {path.stem} ({size}, {time.perf_counter() - start:.0f} s): "
              f"{gain}", flush=True)
    write_summary(args.out, "python scripts/photo_protocol.py " + " ".join(
        sys.argv[1:] if argv is None else argv), pictures, left_out)


def write_summary(out, command, pictures, left_out):
    """The means over photographs, artworks and all of ``pictures`` (name -> per-picture record),
    written with them (and the pictures ``left_out``, name -> why) to ``out``."""
    sets = {}
    for name, keep in (("photographs", True), ("artworks", False), ("all", None)):
        names = [n for n, p in pictures.items() if keep is None or p["photograph"] == keep]
        rows = pooled(*(pictures[n] for n in names))
        sets[name] = {"n": len(names), "names": names, "rows": rows, "gain_db": gains(rows)}
        print(f"\n{name}: {len(names)} pictures\n{metrics.format_table(rows)}")
    write_json(out, {"command": command, "scales": list(SCALES), "sets": sets,
                     "pictures": pictures, "left_out": left_out})
    print("gain over bicubic, PSNR-Y dB:", {k: v["gain_db"] for k, v in sets.items()})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
