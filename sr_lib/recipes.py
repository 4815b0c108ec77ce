"""Training for the notebooks and ``sr-lib train``: :func:`train` runs a registry recipe into a
resumable run folder: ``model.keras`` (the best network), ``history.csv``, ``run.json``, etc."""

import contextlib
import csv
import hashlib
import json
import os
import random
import time
import warnings
from pathlib import Path

from sr_lib.coords import check_int
from sr_lib.files import write_json
from sr_lib.registry import entry, load_pretrained
from sr_lib.runtime import get_strategy, precision, worker_dir

SPEC_FILE = "run.json"
RESULT_FILE = "result.json"
VAL_SIZE = 1000
VAL_BATCH_MIXED = 32  # validation batch under random degradations: a kernel per batch
TRIES_PER_PICTURE = 8  # photo data: random crops tried per picture to find some with detail


def default_run_dir(model_name, residual=True, adv_weight=None, root="runs"):
    """``runs/MODEL[_latent][_no_adv]`` (the variant's bundled name): ``sr-lib train``'s default."""
    suffix = ("" if residual else "_latent") + ("_no_adv" if adv_weight == 0 else "")
    return Path(root) / f"{model_name}{suffix}"


def read_history(out_dir):
    """``history.csv`` of a run folder as ``{metric: [value per epoch]}`` (empty if none)."""
    path = Path(out_dir) / "history.csv"
    if not path.exists():
        return {}
    with open(path) as f:  # an epoch redone after a checkpoint fallback counts once, as redone
        rows = list({r["epoch"]: r for r in csv.DictReader(f)}.values())
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


def stage_folders(model_name, out_dir):
    """The run folders of ``model_name``'s recipe in ``out_dir``, in training order: ``out_dir``
    alone, or ``out_dir/stages/1 .. K-1`` then ``out_dir`` for a recipe of K ``stages``."""
    return _stage_folders(out_dir, len(entry(model_name).recipe.get("stages") or [None]))


def _stage_folders(out_dir, count):
    return [Path(out_dir) / "stages" / str(k) for k in range(1, count)] + [Path(out_dir)]


def _finished(out_dir, epochs):
    """Whether the run folder holds ``epochs`` epochs, or a run that stopped early."""
    result = Path(out_dir) / RESULT_FILE
    return (len(read_history(out_dir).get("epoch", [])) >= epochs
            or (result.exists() and json.loads(result.read_text()).get("stopped_early", False)))


def read_spec(out_dir):
    """The configuration recorded in a run folder."""
    return json.loads((Path(out_dir) / SPEC_FILE).read_text())


def _check_run_dir(out_dir, spec):
    """Create ``out_dir`` and record ``spec``; refuse a folder that holds a different run."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SPEC_FILE
    if not path.exists():
        write_json(path, spec)
    elif (previous := json.loads(path.read_text())) != spec:
        changed = sorted(k for k in set(previous) | set(spec) if previous.get(k) != spec.get(k))
        raise ValueError(f"{out_dir} holds a run with a different configuration "
                         f"({', '.join(changed)} differ); use another --out or delete the "
                         "folder to start over")
    return out_dir


def callbacks(out_dir, sample_inputs=None, sample_targets=None, monitor="val_loss", patience=None):
    """A run folder's callbacks (``model.keras``: the best ``monitor``; early stopping)."""
    import keras

    from sr_lib.training import BestUpscaler, Checkpoint, SampleGrid, TerminateOnNaN

    out_dir = Path(out_dir)
    best = min(read_history(out_dir).get(monitor, [float("inf")]))  # a resumed run's best so far
    cbs = [Checkpoint(out_dir / "backup"), TerminateOnNaN(),
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
    """Seed the Python RNG Keras draws initializer seeds from, restoring the caller's afterwards."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _compile_fit(network, spec, steps):
    """The L1 regression trainer: Adam on a cosine schedule."""
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(spec["learning_rate"], steps, alpha=0.05)
    network.compile(keras.optimizers.Adam(schedule), loss="mae", metrics=["mse"])
    return network, "val_loss"


def _compile_srgan(generator, spec, steps):
    """The generator in an :class:`SRGAN` (Adam; the discriminator at a tenth of the rate)."""
    import keras

    from sr_lib.models import build_discriminator
    from sr_lib.training import SRGAN

    hr = spec["hr_size"]
    gan = SRGAN(generator, build_discriminator((hr, hr, spec["channels"])),
                name=f"srgan_{generator.name}")
    gan.compile(keras.optimizers.Adam(spec["learning_rate"], beta_1=0.5),
                keras.optimizers.Adam(spec["learning_rate"] / 10, beta_1=0.5),
                recon_weight=1.0, adv_weight=spec["adv_weight"])
    return gan, "val_recon"


TRAINERS = {"fit": _compile_fit, "srgan": _compile_srgan}


def _fingerprint(x):
    x = __import__("numpy").ascontiguousarray(x)
    return f"{x.shape}:{x.dtype}:{hashlib.sha1(x.tobytes()).hexdigest()[:16]}"


def train(model_name, out_dir, *, x_train, x_val=None, val_size=None, epochs=None,
          batch_size=None, lr_sizes=None, val_lr_size=None, learning_rate=None, patience=None,
          residual=None, adv_weight=None, seed=0, strategy="default", verbose=2, _recipe=None,
          **model_kwargs):
    """Train ``model_name`` into ``out_dir`` (resumed, or loaded if finished): ``(upscaling_model,
    history, wall_seconds)``. ``x_train``: square HR images (photo: a folder, ``x_val`` another),
    its last ``val_size`` held back without ``x_val``; ``lr_sizes``: an int or a ``range`` drawn
    per batch; ``None`` arguments take the recipe's; ``model_kwargs`` go to the builder.

    A recipe with ``stages`` (each a dict of recipe keys) trains them in turn, each from the one
    before (the first from ``init``): ``out_dir/stages/K`` for all but the last, which is
    ``out_dir`` itself; the arguments given here override every stage (``epochs``: the last
    only). Each stage resumes from its folder, so an interrupted chain picks up where it stopped,
    and a finished stage is not built again."""
    from sr_lib.data import degrade, pairs, to_float
    reg = entry(model_name)
    given = {k: v for k, v in dict(
        epochs=epochs, batch_size=batch_size, lr_sizes=lr_sizes, val_lr_size=val_lr_size,
        learning_rate=learning_rate, patience=patience, residual=residual,
        adv_weight=adv_weight).items() if v is not None}
    recipe, init_in_run = dict(reg.recipe if _recipe is None else _recipe), None
    if stages := recipe.pop("stages", None):
        folders = _stage_folders(out_dir, len(stages))
        if (Path(out_dir) / SPEC_FILE).exists() and not folders[0].exists():
            raise ValueError(f"{out_dir} holds a run made without {model_name}'s {len(stages)} "
                             "stages; use another --out or delete the folder to start over")
        for stage, folder in zip(stages[:-1], folders):  # every override but epochs, each stage
            stage = {**recipe, **stage, **{k: v for k, v in given.items() if k != "epochs"}}
            if not _finished(worker_dir(folder, strategy), stage["epochs"]):
                train(model_name, folder, x_train=x_train, x_val=x_val, val_size=val_size,
                      seed=seed, strategy=strategy, verbose=verbose, _recipe=stage,
                      **model_kwargs)
            recipe["init"] = str(worker_dir(folder, strategy) / "model.keras")
            init_in_run = os.path.relpath(recipe["init"], worker_dir(out_dir, strategy))
        recipe.update(stages[-1])
    recipe.update(given)
    sizes = recipe["lr_sizes"]
    if not (isinstance(sizes, range) and len(sizes)) and not isinstance(sizes, int):
        raise ValueError(f"lr_sizes must be an int or a non-empty range, got {sizes!r}")
    if reg.trainer == "srgan":  # the GANs' encoders take one fixed LR size
        if not isinstance(sizes, int):
            raise ValueError(f"{model_name} upscales one fixed LR size; give --lr-size N, not "
                             "a range")
        recipe["val_lr_size"] = sizes if val_lr_size is None else val_lr_size
        if recipe["val_lr_size"] != sizes:
            raise ValueError(f"{model_name} validates at its LR size {sizes}, not {val_lr_size}")
    unknown = [k for k in ("residual", "adv_weight") if k in recipe and k not in reg.recipe]
    if unknown:
        raise ValueError(f"{model_name} has no {' or '.join(unknown)} (GANs only)")
    recipe.update({name: check_int(recipe[name], name) for name in ("epochs", "batch_size")})
    distribution = get_strategy(strategy)  # before any TensorFlow op (multiworker needs it)
    photos = reg.data == "photos"  # folders of pictures: random patches streamed from them
    x_train, x_val, data = (_photo_data(x_train, x_val, recipe["patch"], seed) if photos
                            else _array_data(x_train, x_val, val_size))
    n_train = recipe["steps_per_epoch"] * recipe["batch_size"] if photos else len(x_train)
    replicas = distribution.num_replicas_in_sync  # each takes an equal share of every batch:
    x_val = x_val[:len(x_val) - len(x_val) % replicas]  # uneven shares break the collectives
    if recipe["batch_size"] % replicas or not len(x_val) or (
            replicas > 1 and n_train < recipe["batch_size"]):
        raise ValueError(f"batch_size {recipe['batch_size']} must be a multiple of the "
                         f"{replicas} replica(s), at most the {n_train} training images, and "
                         f"each replica needs a validation image")
    _, hr_size, _, channels = map(int, to_float(x_val[:1]).shape)
    low, high = (sizes, sizes) if isinstance(sizes, int) else (min(sizes), max(sizes))
    if (largest := max(high, recipe["val_lr_size"])) >= hr_size:
        raise ValueError(f"LR size {largest} is not smaller than the HR size {hr_size}")
    spec = {"model": model_name, **recipe, "lr_sizes": [low, high], "seed": seed,
            "n_train": int(n_train), "hr_size": hr_size, "channels": channels, **data,
            **model_kwargs}
    if init_in_run:  # the previous stage's model, recorded relative to the run folder
        spec["init"] = init_in_run
    out_dir = _check_run_dir(worker_dir(out_dir, strategy), spec)
    mix = recipe.get("degradations")  # random degradations, else `degrade`'s bicubic
    train_ds = pairs(x_train, sizes, batch_size=recipe["batch_size"], seed=seed, mix=mix,
                     drop_remainder=replicas > 1)
    val_ds = pairs(x_val, recipe["val_lr_size"], shuffle=False, mix=mix,  # the same every epoch
                   batch_size=(VAL_BATCH_MIXED if mix else 256) // replicas * replicas)
    steps_per_epoch = (n_train // recipe["batch_size"] if replicas > 1  # photo: steps x batch
                       else -(-n_train // recipe["batch_size"]))
    with seeded(seed):
        with distribution.scope(), precision(recipe.get("precision", "float32")):
            network = reg.build(spec, **{**recipe.get("architecture", {}), **model_kwargs})
            if recipe.get("init"):  # start from a bundled model's weights: the same
                source = load_pretrained(recipe["init"])  # architecture, or one it grows from
                if hasattr(network, "grow_from"):
                    network.grow_from(source)
                else:
                    network.set_weights(source.get_weights())
            model, monitor = TRAINERS[reg.trainer](network, spec,
                                                   recipe["epochs"] * steps_per_epoch)
        sample_hr = to_float(x_val[:8])
        cbs = callbacks(out_dir, degrade(sample_hr, recipe["val_lr_size"]), sample_hr, monitor,
                        recipe["patience"])
        return _fit(model, out_dir, recipe["epochs"], x=train_ds, validation_data=val_ds,
                    callbacks=cbs, verbose=verbose,
                    steps_per_epoch=steps_per_epoch if "steps_per_epoch" in recipe else None)


def _photo_data(train_dir, val_dir, patch, seed, val_patches=512):
    """Random HR patches of ``train_dir`` (a stream) and ``val_dir`` (fixed), and their files."""
    import numpy as np

    from sr_lib.images import image_files, opaque_pictures
    from sr_lib.photos import patches

    if val_dir is None:
        raise ValueError("photo training needs a folder of validation pictures (x_val)")
    files = {}  # all decode and fit a patch, before work; translucent ones out, as in evaluation
    for k, d in (("data", train_dir), ("validation", val_dir)):
        files[k] = opaque_pictures(image_files(d), report=print, min_side=patch)[0]
        if not files[k]:
            raise ValueError(f"{d}: no opaque picture to train on (translucent ones are left out)")

    def look(name, n, seed):  # bounded: flat pictures would hang; 64 crops each: more pictures
        tries = TRIES_PER_PICTURE * len(files[name])
        return list(patches(files[name], patch, seed=seed, pictures=tries, per_image=64)
                    .take(n).as_numpy_iterator())

    x_val = look("validation", val_patches, seed + 1)
    for name, found in (("data", look("data", 1, seed)), ("validation", x_val)):
        if not found:
            raise ValueError(f"{name} pictures: no crop of {patch}x{patch} with detail in "
                             f"{TRIES_PER_PICTURE * len(files[name])} tries; the pictures are "
                             "flat or too small")
    x_val = np.stack(x_val)
    record = {name: [f"{f.name}:{f.stat().st_size}" for f in fs] for name, fs in files.items()}
    return patches(files["data"], patch, seed=seed), x_val, record


def _array_data(x_train, x_val, val_size):
    """``x_train`` and ``x_val`` (else its last ``val_size`` images), checked, and fingerprints."""
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
    """Fit unless ``out_dir`` holds ``epochs`` epochs; the best model, history, total wall time."""
    import keras

    from sr_lib.training import TrainingDiverged

    out_dir = Path(out_dir)
    result_path = out_dir / RESULT_FILE
    result = json.loads(result_path.read_text()) if result_path.exists() else {"wall_seconds": 0.0}
    if not _finished(out_dir, epochs):  # the one test of a finished run (stages use it too)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():  # a tf.data input makes fit's shuffle flag moot
                warnings.filterwarnings("ignore", message=".*shuffle=True.*")
                model.fit(epochs=epochs, **fit_kwargs)
        except TrainingDiverged as exc:
            done = len(read_history(out_dir).get("epoch", []))
            raise TrainingDiverged(f"training diverged: {exc}. The {done} completed epoch(s) "
                                   f"before it are kept in {out_dir}; lower the learning rate "
                                   "or check the data, in a new run folder") from None
        result["wall_seconds"] += time.perf_counter() - start
        result["stopped_early"] = len(read_history(out_dir).get("epoch", [])) < epochs
        write_json(result_path, result)
    best = keras.saving.load_model(out_dir / "model.keras")
    return best, read_history(out_dir), result["wall_seconds"]
