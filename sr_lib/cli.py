"""The ``sr-lib`` command line: upscale, evaluate, train and render CPPN art (``sr-lib --help``).

Sizes are ``--size N`` or ``--size H W`` (height first) in every command."""

import argparse
import contextlib
import math
import sys
from pathlib import Path

from sr_lib import metrics, recipes  # light: import TensorFlow only when a run starts
from sr_lib.degradations import NAMED, named
from sr_lib.files import check_output
from sr_lib.pictures import DIGIT_MAX_SIDE, PROGRESS_PIXELS
from sr_lib.runtime import STRATEGIES, get_strategy, quiet_tensorflow, worker_dir  # light
from sr_lib.registry import DEFAULT, MODELS, bundled, model_path
from sr_lib.upscalers import INTERPOLATIONS, get_upscaler  # light: no TensorFlow until used

TEST_MAX_SIDE = 1280  # after `sr-lib train photo`, test pictures are shrunk to this side first
DIGIT_LR_SIZES = (26, 14, 7)  # `sr-lib evaluate`'s default LR sizes of the 28x28 digits
CPPN_SIZE, GIF_SIZE = 512, 256  # `sr-lib cppn`'s default output sides for a PNG and a GIF


def _note(line):
    print(line, file=sys.stderr)


def _add_data_args(p):
    p.add_argument("--data", help="an .npz (keras MNIST layout), IDX folder or image folder")
    p.add_argument("--hr-size", type=int, help="HR size to resize/crop an image folder to")


def _ints(text, sep, expected):
    """One or two positive ints joined by ``sep`` (ascending for ranges), else an argparse error."""
    values = []
    with contextlib.suppress(ValueError):
        values = [int(part) for part in text.lower().split(sep)]
    if len(values) not in (1, 2) or min(values) <= 0 or (sep == ":" and values[0] > values[-1]):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return values


def _positive(text):
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _quality(text):
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"must be an integer 1-100, got {text!r}")
    return int(text)


def _scale(text):
    with contextlib.suppress(ValueError):
        if math.isfinite(value := float(text)) and value > 0:
            return int(value) if value.is_integer() else value  # tables print x2, not x2.0
    raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")


def _lr_range(text):
    """``N`` -> N, ``LOW:HIGH`` -> range(LOW, HIGH + 1)."""
    low, *high = _ints(text, ":", "N or LOW:HIGH (positive, LOW <= HIGH)")
    return range(low, high[0] + 1) if high else low


def _size(text):
    """``N`` -> (N, N); ``HxW`` -> (H, W) (``--size H W`` arrives joined as ``HxW``)."""
    values = _ints(text, "x", "N or H W (positive ints)")
    return values[0], values[-1]


def _join_height_width(argv):
    """``--size H W`` -> ``--size HxW``, so that ``--size N IN OUT`` still parses."""
    argv = list(argv)
    for i, token in enumerate(argv[:-2]):
        if token == "--size" and argv[i + 1].isdigit() and argv[i + 2].isdigit():
            return argv[:i + 1] + [f"{argv[i + 1]}x{argv[i + 2]}"] + argv[i + 3:]
    return argv


def build_parser():
    parser = argparse.ArgumentParser(prog="sr-lib", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="PSNR/SSIM/speed table of upscalers on the test split")
    ev.add_argument("--methods", nargs="+", default=["nearest", "bilinear", "bicubic", "lanczos3"],
                    help="upscalers to measure: interpolations, bundled models or .keras files")
    ev.add_argument("--lr-sizes", nargs="+", type=_positive,
                    help=f"digits: LR sizes (default {' '.join(map(str, DIGIT_LR_SIZES))})")
    ev.add_argument("--limit", type=_positive, help="use only the first N test images")
    ev.add_argument("--batch-size", type=_positive, default=500)
    ev.add_argument("--out", default="runs/evaluate", help="folder for evaluation.json/.csv")
    ev.add_argument("--photos", metavar="DIR", help="the photo protocol on the pictures in DIR "
                    "(Y-channel PSNR/SSIM with the border shaved, RGB PSNR) instead of digits")
    ev.add_argument("--scales", nargs="+", type=_scale, default=list(metrics.PHOTO_SCALES),
                    help="--photos: downscaling factors (> 1)")
    ev.add_argument("--max-side", type=_positive, help="--photos: shrink larger pictures first")
    ev.add_argument("--degradations", nargs="+", default=["bicubic"], metavar="NAME",
                    help="--photos: how the small pictures are made, each reported apart: "
                         f"{', '.join(NAMED)} or jpegQ (bicubic, then JPEG at quality Q)")
    _add_data_args(ev)

    cp = sub.add_parser("cppn", help="render a random CPPN at any size (PNG, or a latent-walk GIF)")
    cp.add_argument("--size", type=_size, metavar="N | H W", help="output size: N (square) or "
                    f"H W (default {CPPN_SIZE}, {GIF_SIZE} with --gif)")
    cp.add_argument("--channels", type=int, choices=(1, 3), default=1, help="1 grey, 3 RGB")
    cp.add_argument("--seed", type=int, default=0, help="seeds the weights and the latents")
    for flag, default in (("--latent-dim", 8), ("--hidden", 32), ("--depth", 4)):
        cp.add_argument(flag, type=_positive, default=default)
    cp.add_argument("--activation", default="tanh", help="tanh, sin, gaussian, relu, ...")
    cp.add_argument("--scale", type=float, default=8.0, help="zoom: larger is finer")
    cp.add_argument("--gif", action="store_true", help="write a looping latent walk GIF")
    cp.add_argument("--frames", type=_positive, default=48, help="GIF frames")
    cp.add_argument("--keyframes", type=_positive, default=3, help="latents the GIF loops through")
    cp.add_argument("--fps", type=_positive, default=20, help="GIF frames per second")
    cp.add_argument("--out", help="output path (default cppn.png, or cppn.gif with --gif)")
    cp.add_argument("--quiet", action="store_true", help="no progress bar")

    tr = sub.add_parser("train", help="train a model of the series into a resumable run folder")
    tr.add_argument("model", choices=list(MODELS), help="which model to train")
    tr.add_argument("--lr-size", type=_lr_range, help="LR size N, or LOW:HIGH drawn per batch "
                                                      "(default: the recipe's)")
    tr.add_argument("--epochs", type=_positive, help="default: the recipe's (" + ", ".join(
        f"{k} " + "+".join(str(stage.get("epochs", v.recipe.get("epochs")))  # stages: 14+4
                           for stage in v.recipe.get("stages", [{}]))
        for k, v in MODELS.items()) + "; at most, with patience; of the last stage)")
    tr.add_argument("--batch-size", type=_positive, help="default: the recipe's")
    tr.add_argument("--latent-only", action="store_true",
                    help="GANs: decode from the latent alone (no bicubic skip)")
    tr.add_argument("--no-adv", action="store_true", help="GANs: no adversarial loss")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--limit", type=_positive, help="train on the first N training images")
    tr.add_argument("--strategy", choices=STRATEGIES, default="default",
                    help="tf.distribute strategy (multiworker reads TF_CONFIG)")
    tr.add_argument("--out", default=None, help="run folder (default runs/MODEL[_latent]"
                                                "[_no_adv]); rerunning the same command resumes")
    _add_data_args(tr)

    ph = sub.add_parser("photos", help="fetch Debian's wallpaper photographs into DIR/train, "
                        "DIR/val, DIR/test (held-out photographs also in DIR/test_photographs)")
    ph.add_argument("dir", help="folder for the pictures")

    models = "; ".join(f"{k}: {v.description}" for k, v in MODELS.items())
    up = sub.add_parser("upscale", help=f"upscale a picture or a folder of pictures (default "
                        f"model: {DEFAULT['photos']} for colour pictures and grey photos, "
                        f"{DEFAULT['digits']} for digits)")
    up.add_argument("input", help="a picture (8/16-bit, float; upright by its EXIF orientation; "
                                  "transparency kept) or a folder of them")
    up.add_argument("output", help="the output picture (format from the extension; profile, EXIF, "
                    "transparency and 16-bit/float depth kept where the format holds them; an "
                    "existing file is replaced atomically; the input never is), or a folder for "
                    "a folder's pictures (same names; existing ones skipped unless --overwrite)")
    up.add_argument("--model", help=f"a bundled model ({models}), an interpolation or a .keras "
                    f"file (what sr-lib train writes); default: {DEFAULT['photos']} for colour "
                    f"pictures and for grey ones larger than {DIGIT_MAX_SIDE} px on a side (grey "
                    f"photographs), {DEFAULT['digits']} for grey ones up to {DIGIT_MAX_SIDE} px "
                    "(digits)")
    how = up.add_mutually_exclusive_group()
    how.add_argument("--scale", type=_scale, help="output size = scale x input size (default 4; "
                                                 "fixed-size models: their own)")
    how.add_argument("--size", type=_size, metavar="N | H W", help="output size: N or H W")
    up.add_argument("--quality", type=_quality, help="JPEG and WebP quality 1-100 (default: JPEG "
                                                     "95 at 4:4:4, WebP lossless)")
    up.add_argument("--recursive", action="store_true", help="folders: include subfolders")
    up.add_argument("--overwrite", action="store_true", help="folders: replace existing outputs")
    for name, command in sub.choices.items():  # `sr-lib NAME` runs cmd_NAME
        command.set_defaults(func=globals()[f"cmd_{name}"])
    return parser


def cmd_evaluate(args):
    from sr_lib.data import load_mnist

    if Path(args.out).is_file():
        raise ValueError(f"--out {args.out}: is a file; give a folder for evaluation.json/.csv")
    for name in args.methods:  # names and paths, before TensorFlow starts
        _ = name in INTERPOLATIONS or model_path(name)
    if args.photos:
        from sr_lib.images import image_files, opaque_pictures

        ignored = [f"--{k.replace('_', '-')}" for k in ("lr_sizes", "limit", "data", "hr_size")
                   if getattr(args, k) is not None]
        if ignored:
            raise ValueError(f"{', '.join(ignored)} apply to digits, not to --photos "
                             "(use --scales and --max-side)")

        images = opaque_pictures(image_files(args.photos), report=_note)[0]
        if not images:
            raise ValueError(f"{args.photos}: every picture is translucent; the photo protocol "
                             "scores opaque pictures only")
        for check, values in ((metrics.check_scale, args.scales), (named, args.degradations)):
            list(map(check, values))  # before TensorFlow starts
        protocol = dict(scales=args.scales, luma=True, max_side=args.max_side,
                        degradations=args.degradations)
    else:
        _, (x_test, _) = load_mnist(args.data, hr_size=args.hr_size, splits=("test",))
        if args.data and Path(args.data).is_dir():
            print(f"note: {args.data}: evaluating its seeded test split, {len(x_test)} images",
                  file=sys.stderr)
        images = x_test[:args.limit] if args.limit else x_test
        protocol = dict(lr_sizes=args.lr_sizes or DIGIT_LR_SIZES, batch_size=args.batch_size)
    quiet_tensorflow()
    rows = metrics.evaluate({name: get_upscaler(name) for name in args.methods}, images, **protocol)
    print(metrics.format_table(rows))
    json_path, csv_path = metrics.save_table(rows, args.out,
                                             stem="photos" if args.photos else "evaluation")
    print(f"wrote {json_path} and {csv_path}")


def cmd_photos(args):
    from sr_lib.photos import fetch

    fetch(args.dir)


def cmd_cppn(args):
    from sr_lib import walk
    from sr_lib.coords import check_pixels
    from sr_lib.images import image_format, save_gif, save_image

    height, width = args.size or ((GIF_SIZE,) * 2 if args.gif else (CPPN_SIZE,) * 2)
    check_pixels((height, width), args.frames if args.gif else 1)  # before anything is built
    if args.gif and args.keyframes < 2:
        raise ValueError("--keyframes must be >= 2 for a walk")
    out = check_output(args.out or ("cppn.gif" if args.gif else "cppn.png"))
    image_format(out)
    quiet_tensorflow()
    from sr_lib import rendering
    from sr_lib.models import build_cppn

    model = build_cppn(args.latent_dim, channels=args.channels, hidden=args.hidden,
                       depth=args.depth, activation=args.activation, scale=args.scale,
                       seed=args.seed)
    progress = not args.quiet and (args.gif or width * height >= PROGRESS_PIXELS)
    zs = walk.random_latents(args.keyframes if args.gif else 1, args.latent_dim, seed=args.seed)
    if args.gif:  # a closed walk, sampled evenly: no jump where the loop closes
        zs = walk.loop(zs, math.ceil(args.frames / args.keyframes))
        zs = zs[[len(zs) * i // args.frames for i in range(args.frames)]]
    images = rendering.render(model, zs, (height, width), dtype="uint8", progress=progress)
    save_gif(images, out, fps=args.fps) if args.gif else save_image(images[0], out)
    print(f"wrote {out} ({height}x{width}, {args.channels} channel(s))")


def cmd_train(args):
    from sr_lib.data import load_mnist

    variant = {key: value for key, value, given in (("residual", False, args.latent_only),
                                                    ("adv_weight", 0.0, args.no_adv)) if given}
    if variant and MODELS[args.model].trainer != "srgan":
        raise ValueError("--latent-only and --no-adv choose GAN variants (vae_gan, cppn_gan)")
    out = args.out or recipes.default_run_dir(args.model, **variant)
    own = worker_dir(out, args.strategy)  # multiworker: checks TF_CONFIG before any work
    photo = MODELS[args.model].data == "photos"
    if photo:  # DIR/train, DIR/val and DIR/test, as `sr-lib photos DIR` writes
        if not args.data or args.limit or args.hr_size:
            raise ValueError("photo trains on patches of pictures at native resolution: --data "
                             "DIR (from `sr-lib photos DIR`), not --limit or --hr-size")
        from sr_lib.images import image_files, opaque_pictures

        x_train, x_val, x_test = (Path(args.data) / k for k in ("train", "val", "test"))
        x_test = opaque_pictures(  # the photo protocol's pictures, checked before training
            image_files(x_test), report=_note,
            min_side=2 * math.ceil(max(metrics.PHOTO_SCALES)) + 1)[0]
        if not x_test:
            raise ValueError(f"{Path(args.data) / 'test'}: no opaque picture to score the run on")
    else:
        (x_train, _), (x_test, _) = load_mnist(args.data, hr_size=args.hr_size)
        if len(x_test) == 0:
            raise ValueError(f"{args.data}: the test split is empty, so the run could not be "
                             "evaluated; give more images")
        x_train, x_val = x_train[:args.limit] if args.limit else x_train, None
    quiet_tensorflow(first=(lambda: get_strategy("multiworker"))  # made before TensorFlow starts
                     if args.strategy == "multiworker" else None)
    model, history, wall = recipes.train(
        args.model, out, x_train=x_train, x_val=x_val, epochs=args.epochs, lr_sizes=args.lr_size,
        batch_size=args.batch_size, seed=args.seed, strategy=args.strategy, verbose=1, **variant)
    print(f"{args.model}: {len(history['epoch'])} epochs, {wall:.0f} s; best at {own}/model.keras")
    protocol = (dict(scales=metrics.PHOTO_SCALES, luma=True, max_side=TEST_MAX_SIDE) if photo
                else dict(lr_sizes=sorted(set(recipes.read_spec(own)["lr_sizes"]))))  # [low, high]
    rows = metrics.evaluate({args.model: model, "bicubic": "bicubic"}, x_test, **protocol)
    print(metrics.format_table(rows))
    metrics.save_table(rows, own, stem="photos" if photo else "evaluation")


def cmd_upscale(args):
    from sr_lib import pictures

    size = args.size
    if Path(args.input).is_dir():
        result = pictures.upscale_files(args.input, args.output, size, scale=args.scale,
                                        model=args.model, quality=args.quality,
                                        recursive=args.recursive, overwrite=args.overwrite,
                                        log=_note)
        return 1 if result["failed"] else 0
    pictures.check_pair(args.input, args.output, size, args.scale)  # before any work
    quiet_tensorflow()
    name, (height, width), notes = pictures.upscale_file(
        args.input, args.output, size, scale=args.scale, model=args.model, quality=args.quality,
        progress=True)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {args.output} ({height}x{width}, model {name})")


def main(argv=None):
    args = build_parser().parse_args(_join_height_width(sys.argv[1:] if argv is None else argv))
    try:
        code = args.func(args)
    except (ValueError, OSError, RuntimeError) as exc:  # bad input or paths (2), divergence (1)
        if isinstance(exc, RuntimeError):
            from sr_lib.training import TrainingDiverged

            if not isinstance(exc, TrainingDiverged):
                raise
        print(f"sr-lib {args.command}: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, RuntimeError) else 2
    except KeyboardInterrupt:
        print(f"sr-lib {args.command}: interrupted", file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
