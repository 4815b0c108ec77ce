"""Training recipes, one per model, shared by the notebooks and ``sr-lib train``: the defaults in
:data:`RECIPES` (stored once) and :func:`train`, which fits into a run folder ``model.keras`` (the
best upscaling network so far), ``history.csv``, ``samples/``, ``tensorboard/``, ``backup/``
(rerunning the same call resumes) and ``run.json`` (configuration and data fingerprint; a folder
holding another run is refused). Validation comes from the training split, never the test set."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
import warnings
from pathlib import Path

from sr_lib.degradations import ROBUST
from sr_lib.coords import check_int
from sr_lib.files import write_json
from sr_lib.runtime import get_strategy, precision, worker_dir

SPEC_FILE = "run.json"
RESULT_FILE = "result.json"
VAL_SIZE = 1000
VAL_BATCH_MIXED = 32  # validation batch under random degradations: a kernel per batch

# Each model's recipe: the bundled model's configuration (notebooks 01, 03, 04). GANs train on
# (LR, HR) pairs with the SRGAN trainer; `residual`/`adv_weight` choose the notebooks' variants.
# `patience`: stop once the validation loss has not improved for that many epochs (`epochs` is
# then the most it may run); model.keras keeps the best epoch either way.
RECIPES = {
    "local_cppn": dict(lr_sizes=range(7, 27), val_lr_size=14, epochs=7, batch_size=64,
                       learning_rate=1e-3, patience=None),
    "vae_gan": dict(lr_sizes=26, val_lr_size=26, epochs=30, batch_size=128, learning_rate=1e-3,
                    patience=3, residual=True, adv_weight=1e-3),
    "cppn_gan": dict(lr_sizes=26, val_lr_size=26, epochs=20, batch_size=32, learning_rate=1e-3,
                     patience=3, residual=True, adv_weight=1e-3),
    # notebook 05: the local CPPN in colour, on random 48x48 patches of photographs (x2 to x4),
    # degraded by antialiased bicubic only (`degrade`)
    "photo_clean": dict(lr_sizes=range(12, 25), val_lr_size=16, epochs=16, batch_size=32,
                        learning_rate=1e-3, patience=None, patch=48, steps_per_epoch=1000,
                        architecture=dict(features=64, blocks=4)),
    # the default photo model: photo_clean's weights trained on, in mixed bfloat16, with random
    # kernels, blur, noise and JPEG (`degradations`: their probabilities)
    "photo": dict(lr_sizes=range(12, 25), val_lr_size=16, epochs=14, batch_size=32,
                  learning_rate=5e-4, patience=None, patch=48, steps_per_epoch=1000,
                  architecture=dict(features=64, blocks=4), degradations=ROBUST,
                  init="photo_clean", precision="mixed_bfloat16"),
}
PHOTO_MODELS = tuple(m for m, r in RECIPES.items() if "patch" in r)  # train on picture folders
MODELS = tuple(RECIPES)
GANS = tuple(m for m, r in RECIPES.items() if "adv_weight" in r)  # SRGAN-trained, fixed LR size


def default_run_dir(model_name, residual=True, adv_weight=None, root="runs"):
    """``runs/MODEL[_latent][_no_adv]`` (the variant's bundled name): ``sr-lib train``'s default."""
    suffix = ("" if residual else "_latent") + ("_no_adv" if adv_weight == 0 else "")
    return Path(root) / f"{model_name}{suffix}"


def read_history(out_dir):
    """``history.csv`` of a run folder as ``{metric: [value per epoch]}`` (empty if none)."""
    import csv

    path = Path(out_dir) / "history.csv"
    if not path.exists():
        return {}
    with open(path) as f:  # an epoch redone after a checkpoint fallback counts once, as redone
        rows = list({r["epoch"]: r for r in csv.DictReader(f)}.values())
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


def read_spec(out_dir):
    """The configuration recorded in a run folder."""
    return json.loads((Path(out_dir) / SPEC_FILE).read_text())


def _check_run_dir(out_dir, spec):
    """Create ``out_dir`` and record ``spec``; refuse a folder that holds a different run."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SPEC_FILE
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != spec:
            changed = sorted(k for k in set(previous) | set(spec) if previous.get(k) != spec.get(k))
            raise ValueError(f"{out_dir} holds a run with a different configuration "
                             f"({', '.join(changed)} differ); use another --out or delete the "
                             "folder to start over")
    else:
        write_json(path, spec)
    return out_dir


def callbacks(out_dir, sample_inputs=None, sample_targets=None, monitor="val_loss",
              patience=None):
    """The callbacks of a run folder (see the module docstring): ``model.keras`` is the upscaling
    network (a GAN's generator) of the best ``monitor`` so far; early stopping after ``patience``
    epochs without improvement, if given."""
    import keras

    from sr_lib.training import BestUpscaler, Checkpoint, SampleGrid, TerminateOnNaN

    out_dir = Path(out_dir)
    best = min(read_history(out_dir).get(monitor, [float("inf")]))  # a resumed run's best so far
    cbs = [Checkpoint(out_dir / "backup"),
           TerminateOnNaN(),
           keras.callbacks.CSVLogger(str(out_dir / "history.csv"), append=True),
           BestUpscaler(out_dir / "model.keras", monitor=monitor, best=best),
           keras.callbacks.TensorBoard(str(out_dir / "tensorboard"), write_graph=False)]
    if sample_inputs is not None:
        cbs.append(SampleGrid(sample_inputs, out_dir / "samples", targets=sample_targets))
    if patience:
        cbs.append(keras.callbacks.EarlyStopping(monitor, patience=patience, mode="min"))
    return cbs


@contextlib.contextmanager
def seeded(seed):
    """Seed the Python RNG Keras draws default initializer seeds from, then restore it: what is
    built and trained inside is reproducible and the caller's global random state untouched."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _build_local_cppn(spec, steps, **model_kwargs):
    import keras

    from sr_lib.models.local_cppn import build_local_cppn

    model = build_local_cppn(channels=spec["channels"], out_size=spec["hr_size"], **model_kwargs)
    schedule = keras.optimizers.schedules.CosineDecay(spec["learning_rate"], steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule), loss="mae", metrics=["mse"])
    return model, "val_loss"


def _build_gan(spec, steps, **model_kwargs):
    """Notebook 01's VAE-GAN or notebook 03's CPPN-GAN generator in an :class:`SRGAN` with the
    shared discriminator and Adam optimizers (the discriminator at a tenth of the rate)."""
    import keras

    from sr_lib.models import build_cppn_gan_generator, build_discriminator, build_vae_gan_generator
    from sr_lib.training import SRGAN

    low = spec["lr_sizes"][0]
    lr_shape, hr = (low, low, spec["channels"]), spec["hr_size"]
    if spec["model"] == "vae_gan":
        generator = build_vae_gan_generator(lr_shape, (hr, hr, spec["channels"]),
                                            residual=spec["residual"], seed=spec["seed"],
                                            **model_kwargs)
    else:
        generator = build_cppn_gan_generator(lr_shape, out_size=hr, residual=spec["residual"],
                                             seed=spec["seed"], **model_kwargs)
    gan = SRGAN(generator, build_discriminator((hr, hr, spec["channels"])),
                name=f"srgan_{generator.name}")
    gan.compile(keras.optimizers.Adam(spec["learning_rate"], beta_1=0.5),
                keras.optimizers.Adam(spec["learning_rate"] / 10, beta_1=0.5),
                recon_weight=1.0, adv_weight=spec["adv_weight"])
    return gan, "val_recon"


def _fingerprint(x):
    import numpy as np

    x = np.ascontiguousarray(x)
    return f"{x.shape}:{x.dtype}:{hashlib.sha1(x.tobytes()).hexdigest()[:16]}"


def train(model_name, out_dir, *, x_train, x_val=None, val_size=None, epochs=None,
          batch_size=None, lr_sizes=None, val_lr_size=None, learning_rate=None, patience=None,
          residual=None, adv_weight=None, seed=0, strategy="default", verbose=2,
          **model_kwargs):
    """Train ``model_name`` (one of :data:`MODELS`) into the run folder ``out_dir``; returns
    ``(upscaling_model, history, wall_seconds)`` (a finished run is loaded, an interrupted one
    resumed). ``x_train``: square HR images, uint8 or float (for ``photo``: a folder of pictures,
    and ``x_val`` another); unless ``x_val`` is given its last
    ``val_size`` (1,000, or a tenth of fewer) are held back. Batches are degraded to ``lr_sizes``
    (an int, or a ``range`` drawn from per batch), validation to ``val_lr_size``. Arguments left
    ``None`` take the recipe's (:data:`RECIPES`); ``model_kwargs`` go to the builder."""
    from sr_lib.data import degrade, pairs, to_float
    if model_name not in RECIPES:
        raise ValueError(f"unknown model {model_name!r}; choose from {MODELS}")
    given = dict(epochs=epochs, batch_size=batch_size, lr_sizes=lr_sizes, val_lr_size=val_lr_size,
                 learning_rate=learning_rate, patience=patience, residual=residual,
                 adv_weight=adv_weight)
    recipe = {**RECIPES[model_name], **{k: v for k, v in given.items() if v is not None}}
    sizes = recipe["lr_sizes"]
    if not (isinstance(sizes, range) and len(sizes)) and not isinstance(sizes, int):
        raise ValueError(f"lr_sizes must be an int or a non-empty range, got {sizes!r}")
    if model_name in GANS:  # the GANs' encoders take one fixed LR size
        if not isinstance(sizes, int):
            raise ValueError(f"{model_name} upscales one fixed LR size; give --lr-size N, not "
                             "a range")
        recipe["val_lr_size"] = sizes if val_lr_size is None else val_lr_size
        if recipe["val_lr_size"] != sizes:
            raise ValueError(f"{model_name} validates at its LR size {sizes}, not {val_lr_size}")
    unknown = [k for k in ("residual", "adv_weight") if k in recipe
               and k not in RECIPES[model_name]]
    if unknown:
        raise ValueError(f"{model_name} has no {' or '.join(unknown)} (GANs only)")
    for name in ("epochs", "batch_size"):
        recipe[name] = check_int(recipe[name], name)
    distribution = get_strategy(strategy)  # before any TensorFlow op (multiworker needs it)
    if model_name in PHOTO_MODELS:  # folders of pictures: random patches streamed from them
        x_train, x_val, data = _photo_data(x_train, x_val, recipe["patch"], seed)
        n_train = recipe["steps_per_epoch"] * recipe["batch_size"]
    else:
        x_train, x_val, data = _array_data(x_train, x_val, val_size)
        n_train = len(x_train)
    val = to_float(x_val[:1])
    hr_size, channels = int(val.shape[1]), int(val.shape[3])
    low, high = (sizes, sizes) if isinstance(sizes, int) else (min(sizes), max(sizes))
    if max(high, recipe["val_lr_size"]) >= hr_size:
        raise ValueError(f"LR size {max(high, recipe['val_lr_size'])} is not smaller than the "
                         f"HR size {hr_size}")
    spec = {"model": model_name, **recipe, "lr_sizes": [low, high], "seed": seed,
            "n_train": int(n_train), "hr_size": hr_size, "channels": channels, **data,
            **model_kwargs}
    out_dir = _check_run_dir(worker_dir(out_dir, strategy), spec)
    mix = recipe.get("degradations")  # random degradations, else `degrade`'s bicubic
    train_ds = pairs(x_train, sizes, batch_size=recipe["batch_size"], seed=seed, mix=mix)
    val_ds = pairs(x_val, recipe["val_lr_size"], batch_size=VAL_BATCH_MIXED if mix else 256,
                   shuffle=False, mix=mix)  # a fixed draw of the mix: the same every epoch
    steps_per_epoch = -(-n_train // recipe["batch_size"])  # photo: n_train is steps x batch
    build = _build_gan if model_name in GANS else _build_local_cppn
    with seeded(seed):
        with distribution.scope(), precision(recipe.get("precision", "float32")):
            model, monitor = build(spec, recipe["epochs"] * steps_per_epoch,
                                   **{**recipe.get("architecture", {}), **model_kwargs})
            if recipe.get("init"):  # start from a bundled model's weights (same architecture)
                from sr_lib.pretrained import load_pretrained

                model.set_weights(load_pretrained(recipe["init"]).get_weights())
        sample_hr = to_float(x_val[:8])
        cbs = callbacks(out_dir, degrade(sample_hr, recipe["val_lr_size"]), sample_hr, monitor,
                        recipe["patience"])
        return _fit(model, out_dir, recipe["epochs"], x=train_ds, validation_data=val_ds,
                    callbacks=cbs, verbose=verbose,
                    steps_per_epoch=steps_per_epoch if "steps_per_epoch" in recipe else None)


def _photo_data(train_dir, val_dir, patch, seed, val_patches=512):
    """A stream of random HR patches from the pictures in ``train_dir``, an array of at most
    ``val_patches`` fixed ones from those in ``val_dir``, and the spec's record of both folders'
    files."""
    import numpy as np

    from sr_lib.images import image_files
    from sr_lib.photos import patches

    if val_dir is None:
        raise ValueError("photo training needs a folder of validation pictures (x_val)")
    files = {name: image_files(folder) for name, folder in (("data", train_dir),
                                                             ("validation", val_dir))}

    def look(name, n, seed):  # bounded draws: the endless stream of a flat set would hang;
        # 64 crops per picture (not 256): the fixed validation patches come from more pictures
        found = files[name]
        return list(patches(found, patch, seed=seed, pictures=8 * len(found), per_image=64)
                    .take(n).as_numpy_iterator())

    x_val = look("validation", val_patches, seed + 1)
    for name, found in (("data", look("data", 1, seed)), ("validation", x_val)):
        if not found:
            raise ValueError(f"{name} pictures: no crop of {patch}x{patch} with detail in "
                             f"{8 * len(files[name])} tries; the pictures are flat or too small")
    x_val = np.stack(x_val)
    record = {name: [f"{f.name}:{f.stat().st_size}" for f in found]
              for name, found in files.items()}
    return patches(files["data"], patch, seed=seed), x_val, record


def _array_data(x_train, x_val, val_size):
    """``x_train`` and ``x_val`` (its last ``val_size`` images unless given), checked, and the
    spec's fingerprints of both."""
    import numpy as np

    from sr_lib.data import to_float

    if x_val is None:
        val_size = min(VAL_SIZE, max(1, len(x_train) // 10)) if val_size is None else val_size
        val_size = check_int(val_size, "val_size (at most len(x_train) - 1)", 1, len(x_train) - 1)
        x_train, x_val = x_train[:-val_size], x_train[-val_size:]
    if len(x_train) == 0 or len(x_val) == 0:
        raise ValueError("training needs at least one training and one validation image")
    for name, x in (("x_train", x_train), ("x_val", x_val)):
        if np.asarray(x).dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    hr, val = to_float(x_train[:1]), to_float(x_val[:1])
    if val.shape[1:] != hr.shape[1:]:
        raise ValueError(f"training images are {tuple(hr.shape[1:])} but validation images are "
                         f"{tuple(val.shape[1:])}")
    if hr.shape[1] != hr.shape[2]:
        raise ValueError(f"HR images must be square, got {hr.shape[1]}x{hr.shape[2]}")
    return x_train, x_val, {"data": _fingerprint(x_train), "validation": _fingerprint(x_val)}


def _fit(model, out_dir, epochs, **fit_kwargs):
    """``model.fit`` unless ``out_dir`` already holds ``epochs`` finished epochs; returns the
    best saved model, the full history and the training wall time summed over all sessions."""
    import keras

    from sr_lib.training import TrainingDiverged

    out_dir = Path(out_dir)
    result_path = out_dir / RESULT_FILE
    result = json.loads(result_path.read_text()) if result_path.exists() else {"wall_seconds": 0.0}
    if len(read_history(out_dir).get("epoch", [])) < epochs and not result.get("stopped_early"):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():  # a tf.data input makes fit's shuffle flag moot
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(epochs=epochs, **fit_kwargs)
        except TrainingDiverged as exc:
            done = len(read_history(out_dir).get("epoch", []))
            raise TrainingDiverged(
                f"training diverged: {exc}. The {done} completed epoch(s) before it are kept in "
                f"{out_dir}; lower the learning rate or check the data, in a new run folder"
            ) from None
        result["wall_seconds"] += time.perf_counter() - start
        result["stopped_early"] = len(read_history(out_dir).get("epoch", [])) < epochs
        write_json(result_path, result)
    best = keras.saving.load_model(out_dir / "model.keras")
    return best, read_history(out_dir), result["wall_seconds"]
