"""Photographs: a set from Debian's wallpaper packages (:func:`fetch`) and random training
patches streamed from it (:func:`patches`)."""

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sr_lib.files import check_output, replacing, write_json
from sr_lib.images import SUFFIXES

PACKAGES = ("plasma-workspace-wallpapers", "ukui-wallpapers", "gnome-backgrounds",
            "lomiri-wallpapers", "lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04",
            "mate-backgrounds")
MIN_SIDE = 1000  # smaller pictures are thumbnails or screenshots
MIN_DETAIL = 0.015  # flatter crops (mean absolute neighbour difference) are dropped: 82% here
PER_IMAGE = 256  # crops cut per decoded picture: decoding, not cropping, is what costs
HOLD_OUT = 12  # by a hash of its name, two pictures in twelve are for testing, one validation
# The photographs of real scenes among the pictures of PACKAGES (labelled by eye)
PHOTOGRAPHS = frozenset("""
    Aqua Blinds Bridge_by_Sander_Klootwijk BytheWater ColdRipple ColorfulCups DarkestHour
    Dragonfly_by_Bolly Dune EveningGlow FallenLeaf FreshFlower Garden GreenMeadow Grey Kite
    Kleiber_by_Lukas_Baubkus LadyBird OneStandsOut Path Picture_0B_by_freespace
    Picture_1A_by_freespace RainDrops Storm TwoWings Volna Wine_by_Jakkub_Mede Wood YellowFlower
    aitzgorri_by_Aitzol_Berasategi free_by_Peter_Nerlich friends_by_Aitzol_Berasategi
    greentock_by_Peter_Nerlich life_by_Aitzol_Berasategi picosdeeuropa_by_Aitzol_Berasategi
    seeding_by_Clements_Engelhardt summer_1am sunset_by_Aitzol_Berasategi""".split())


def _group(path):
    """One name per picture: a Plasma wallpaper's folder, else the stem less size and variant."""
    parts = path.parts
    if "wallpapers" in parts and "contents" in parts:
        return parts[parts.index("contents") - 1]
    stem = re.sub(r"_\d+x\d+$", "", path.stem)
    return re.sub(r"-(l|d|Light|Dark|Cold|Warm|Radioactive)(?=$|-no-logo$)", "", stem)


def split_of(name):
    """``"test"``, ``"val"`` or ``"train"`` for a picture's name, by a SHA-1 of it."""
    return {0: "test", 6: "test", 1: "val"}.get(
        int(hashlib.sha1(name.encode()).hexdigest(), 16) % HOLD_OUT, "train")


def fetch(folder, packages=PACKAGES, log=print):
    """Download ``packages`` and copy the largest version of each picture of ``MIN_SIDE`` or more
    into ``folder/{train,val,test}`` (:func:`split_of`; held-out :data:`PHOTOGRAPHS` also in
    ``test_photographs``), removing stale copies. Returns ``{split: [files]}``."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise OSError(f"{tool} not found: fetching photographs needs a Debian-like system")
    from PIL import Image

    folder = check_output(Path(folder) / "fetched.json").parent  # writable, before downloading
    best = {}  # name -> (pixels, path, package)
    with tempfile.TemporaryDirectory() as tmp:
        log(f"downloading {', '.join(packages)} ...")
        _run(["apt-get", "download", *packages], tmp)
        for package in packages:  # in order: a clash of names is the later package's to resolve
            unpacked = Path(tmp) / "x" / package
            unpacked.mkdir(parents=True)
            for deb in sorted(Path(tmp).glob(f"{package}_*.deb")):
                _run(["dpkg-deb", "-x", str(deb), str(unpacked)], tmp)
            for path in sorted(unpacked.rglob("*")):
                if path.suffix.lower() not in SUFFIXES or "screenshot" in path.name:
                    continue
                with Image.open(path) as image:
                    width, height = image.size
                key = _group(path)
                if best.get(key, (0, None, package))[2] != package:
                    key = f"{key}-{package}"
                if min(width, height) >= MIN_SIDE and width * height > best.get(key, (0,))[0]:
                    best[key] = (width * height, path, package)
        seen = set()
        for key in sorted(best):  # lomiri-default-background is warty-final-ubuntu, for one
            digest = hashlib.sha1(best[key][1].read_bytes()).digest()
            if digest in seen:
                del best[key]
            seen.add(digest)
        missing = sorted(PHOTOGRAPHS - set(best)) if packages == PACKAGES else []
        if missing:
            log(f"note: labelled photographs not found: {', '.join(missing)}")
        split = {"train": [], "val": [], "test": [], "test_photographs": []}
        for key, (_, path, _) in sorted(best.items()):
            names = [split_of(key)] + (["test_photographs"] if split_of(key) == "test"
                                       and key in PHOTOGRAPHS else [])
            for name in names:
                dst = folder / name / f"{key}{path.suffix.lower()}"
                with replacing(dst) as part:  # an interrupted fetch leaves no truncated picture
                    shutil.copyfile(path, part)
                split[name].append(dst)
    manifest = folder / "fetched.json"
    copied = sorted(str(f.relative_to(folder)) for files in split.values() for f in files)
    stale = set(json.loads(manifest.read_text())["files"]) if manifest.exists() else set()
    for name in split:  # and, in any folder, one of these pictures in a split it is not in now
        stale |= {str(f.relative_to(folder)) for f in (folder / name).glob("*")
                  if f.stem in best and f.suffix.lower() in SUFFIXES}
    for path in stale - set(copied):
        (folder / path).unlink(missing_ok=True)
    write_json(manifest, {"packages": list(packages), "files": copied})
    log(", ".join(f"{len(v)} {k}" for k, v in split.items()) + f" pictures in {folder}")
    return split


def _run(command, cwd):
    """Run ``command``; a failure is an ``OSError`` with the tool's own message."""
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or ["no message"]
        raise OSError(f"{command[0]} failed ({done.returncode}): {lines[-1]}")


def patches(files, patch=48, *, per_image=PER_IMAGE, min_scale=0.5, min_detail=MIN_DETAIL, seed=0,
            pictures=None):
    """A ``tf.data.Dataset`` of float32 ``(patch, patch, 3)`` HR patches: ``per_image`` random
    crops of random pictures of ``files``, crops flatter than ``min_detail`` dropped."""
    import tensorflow as tf

    if not len(files):
        raise ValueError("patches needs at least one picture")
    paths = tf.constant([str(f) for f in files])

    def crops(index, rng):
        image = tf.io.decode_image(tf.io.read_file(paths[index]), channels=3,
                                   expand_animations=False)
        image = tf.image.convert_image_dtype(image, tf.float32)
        shape = tf.cast(tf.shape(image)[:2], tf.float32)
        scale = tf.random.stateless_uniform((), rng, min_scale, 1.0)
        size = tf.maximum(tf.cast(shape * scale, tf.int32), patch)
        image = tf.image.resize(image, size, method="area", antialias=True)
        seeds = tf.random.experimental.stateless_split(rng, per_image + 1)
        out = tf.map_fn(lambda s: _augment(tf.image.stateless_random_crop(
            image, (patch, patch, 3), s), s), seeds[1:], fn_output_signature=tf.float32)
        return tf.data.Dataset.from_tensor_slices(tf.clip_by_value(out, 0.0, 1.0)).filter(
            lambda x: tf.reduce_mean(tf.abs(x[1:] - x[:-1])) + tf.reduce_mean(
                tf.abs(x[:, 1:] - x[:, :-1])) >= min_detail)

    draws = tf.data.Dataset.random(seed=seed)
    draws = (draws if pictures is None else draws.take(pictures)).map(
        lambda r: (tf.cast(r % len(files), tf.int32), tf.stack([r // 7, r % 7 + seed])))
    return draws.interleave(crops, cycle_length=4, num_parallel_calls=2, deterministic=True) \
        .shuffle(8 * per_image, seed=seed)


def _augment(x, seed):
    """A random one of the eight flips/rotations of a square patch (seeded)."""
    import tensorflow as tf

    k = tf.random.stateless_uniform((), seed, 0, 8, dtype=tf.int32)
    x = tf.cond(k % 2 == 1, lambda: tf.image.flip_left_right(x), lambda: x)
    return tf.image.rot90(x, k // 2)
