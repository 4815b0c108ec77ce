"""The ``sr-lib`` command line: ``sr-lib evaluate ...`` (see ``sr-lib --help``)."""

from __future__ import annotations

import argparse
import sys


def _add_data_args(p):
    p.add_argument("--data", help="an .npz (keras MNIST layout), IDX directory or image folder "
                                  "(default: the bundled MNIST)")
    p.add_argument("--hr-size", type=int, help="HR size to resize/crop an image folder to")


def _positive(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="sr-lib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="PSNR/SSIM/speed table of upscalers on the test split")
    ev.add_argument("--methods", nargs="+", default=["nearest", "bilinear", "bicubic", "lanczos3"],
                    help="upscalers to measure (interpolations or bundled models)")
    ev.add_argument("--lr-sizes", nargs="+", type=_positive, default=[26, 14, 7])
    ev.add_argument("--limit", type=_positive, help="use only the first N test images")
    ev.add_argument("--batch-size", type=_positive, default=1000)
    ev.add_argument("--out", default="runs/evaluate", help="folder for evaluation.json/.csv")
    _add_data_args(ev)
    ev.set_defaults(func=cmd_evaluate)

    up = sub.add_parser("upscale", help="upscale one image with a bundled model")
    up.add_argument("--model", default="vae_gan", help="bundled model name (default vae_gan)")
    up.add_argument("input", help="input image (for vae_gan: 26x26 grayscale)")
    up.add_argument("output", help="output PNG")
    up.set_defaults(func=cmd_upscale)
    return parser


def cmd_evaluate(args):
    from sr_lib import metrics, upscalers
    from sr_lib.data import load_mnist

    methods = {name: upscalers.get(name) for name in args.methods}
    _, (x_test, _) = load_mnist(args.data, hr_size=args.hr_size)
    if args.limit:
        x_test = x_test[:args.limit]
    rows = metrics.evaluate(methods, x_test, args.lr_sizes, batch_size=args.batch_size)
    print(metrics.format_table(rows))
    json_path, csv_path = metrics.save_table(rows, args.out)
    print(f"wrote {json_path} and {csv_path}")


def cmd_upscale(args):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from sr_lib.pretrained import load_upscaler

    try:
        with Image.open(args.input) as im:
            im.load()
            image = im.copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{args.input}: not a readable image ({exc})") from exc
    upscale = load_upscaler(args.model)
    (height, width, channels), hr_shape = upscale.lr_shape, upscale.hr_shape
    if image.mode not in ("L", "1", "I", "I;16", "F") or channels != 1:
        raise ValueError(f"{args.input}: mode {image.mode} image; the {args.model} model "
                         f"upscales {width}x{height} grayscale images")
    if image.size != (width, height):
        raise ValueError(f"{args.input}: image is {image.width}x{image.height}; the {args.model} "
                         f"model upscales {width}x{height} grayscale images")
    lr = np.asarray(image.convert("L"), np.float32)[None, ..., None] / 255.0
    sr = np.asarray(upscale(lr, hr_shape[:2]))[0, ..., 0]
    Image.fromarray(np.round(sr * 255).astype(np.uint8), mode="L").save(args.output)
    print(f"wrote {args.output} ({hr_shape[1]}x{hr_shape[0]})")


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"sr-lib {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sr-lib {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
