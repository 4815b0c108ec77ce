"""Training recipes: the full-run configuration of a model (data, schedule, callbacks) in one
function, shared by the notebooks and ``sr-lib train``.

A run writes everything into one folder: ``model.keras`` (the best weights so far),
``history.csv`` (per-epoch metrics), ``samples/`` (a grid per epoch), ``tensorboard/`` and
``backup/`` (``keras.callbacks.BackupAndRestore``: rerunning the same recipe into the same folder
resumes from the last completed epoch).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

SPEC_FILE = "run.json"
RESULT_FILE = "result.json"


def read_history(out_dir):
    """``history.csv`` of a run folder as ``{metric: [value per epoch]}`` (empty if none)."""
    import csv

    path = Path(out_dir) / "history.csv"
    if not path.exists():
        return {}
    rows = list(csv.DictReader(open(path)))
    return {key: [float(r[key]) for r in rows] for key in (rows[0] if rows else {})}


def _fit(model, out_dir, epochs, **fit_kwargs):
    """``model.fit`` unless ``out_dir`` already holds ``epochs`` finished epochs; returns the
    best saved model, the full history and the training wall time summed over all sessions."""
    import keras

    from sr_lib.training import TrainingDiverged

    out_dir = Path(out_dir)
    result_path = out_dir / RESULT_FILE
    result = json.loads(result_path.read_text()) if result_path.exists() else {"wall_seconds": 0.0}
    if len(read_history(out_dir).get("epoch", [])) < epochs:
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
        result_path.write_text(json.dumps(result, indent=2) + "\n")
    best = keras.saving.load_model(out_dir / "model.keras")
    return best, read_history(out_dir), result["wall_seconds"]


def _check_run_dir(out_dir, spec):
    """Create ``out_dir`` and record ``spec``; refuse a folder that holds a different run."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SPEC_FILE
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != spec:
            changed = sorted(k for k in set(previous) | set(spec) if previous.get(k) != spec.get(k))
            raise ValueError(f"{out_dir} holds a run with a different configuration ({', '.join(changed)}"
                             f" differ); use another --out or delete the folder to start over")
    else:
        path.write_text(json.dumps(spec, indent=2) + "\n")
    return out_dir


def read_spec(out_dir):
    """The configuration recorded in a run folder."""
    return json.loads((Path(out_dir) / SPEC_FILE).read_text())


def callbacks(out_dir, sample_inputs=None, sample_targets=None, monitor="val_loss"):
    """The standard callbacks of a run folder (see the module docstring).

    ``model.keras`` is the upscaling network: the model itself, or a GAN trainer's
    ``generator``, saved whenever ``monitor`` improves.
    """
    import keras

    from sr_lib.training import BestUpscaler, SampleGrid, TerminateOnNaN

    out_dir = Path(out_dir)
    best = min(read_history(out_dir).get(monitor, [float("inf")]))  # a resumed run's best so far
    cbs = [keras.callbacks.BackupAndRestore(str(out_dir / "backup")),
           TerminateOnNaN(),
           keras.callbacks.CSVLogger(str(out_dir / "history.csv"), append=True),
           BestUpscaler(out_dir / "model.keras", monitor=monitor, best=best),
           keras.callbacks.TensorBoard(str(out_dir / "tensorboard"), write_graph=False)]
    if sample_inputs is not None:
        cbs.append(SampleGrid(sample_inputs, out_dir / "samples", targets=sample_targets))
    return cbs


STRATEGIES = ("default", "mirrored", "multiworker")


def get_strategy(name="default"):
    """A ``tf.distribute`` strategy by name (``multiworker`` reads ``TF_CONFIG``)."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}; choose from {STRATEGIES}")


def _build_local_cppn(spec, steps, **model_kwargs):
    import keras

    from sr_lib.models.local_cppn import build_local_cppn

    model = build_local_cppn(channels=spec["channels"], out_size=spec["hr_size"], **model_kwargs)
    schedule = keras.optimizers.schedules.CosineDecay(spec["learning_rate"], steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule), loss="mae", metrics=["mse"])
    return model, "val_loss"


def _fixed_lr_size(spec):
    low, high = spec["lr_sizes"]
    if low != high:
        raise ValueError(f"{spec['model']} upscales one fixed LR size; give --lr-size N, "
                         "not a range")
    return low


def _srgan(generator, spec):
    """An :class:`~sr_lib.training.SRGAN` with notebook 01/03's discriminator, Adam optimizers
    (discriminator at a tenth of the rate) and loss weights (KL 1e-6: larger collapses ``z``)."""
    import keras

    from sr_lib.models.vae_gan import build_discriminator
    from sr_lib.training import SRGAN

    hr, c = spec["hr_size"], spec["channels"]
    gan = SRGAN(generator, build_discriminator((hr, hr, c)), name=f"srgan_{spec['model']}")
    gan.compile(keras.optimizers.Adam(spec["learning_rate"], beta_1=0.5),
                keras.optimizers.Adam(spec["learning_rate"] / 10, beta_1=0.5),
                recon_weight=1.0, adv_weight=1e-3, kl_weight=1e-6)
    return gan, "val_recon"


def _build_vae_gan(spec, steps, **model_kwargs):
    """Notebook 01's residual VAE-GAN."""
    from sr_lib.models.vae_gan import build_generator

    low, c, hr = _fixed_lr_size(spec), spec["channels"], spec["hr_size"]
    generator = build_generator((low, low, c), (hr, hr, c), residual=True, kl_weight=1.0,
                                seed=spec["seed"], **model_kwargs)
    return _srgan(generator, spec)


def _build_cppn_gan(spec, steps, **model_kwargs):
    """Notebook 03's residual CPPN-GAN (grayscale; renders any size once trained)."""
    from sr_lib.models.cppn_gan import build_cppn_generator

    low = _fixed_lr_size(spec)
    generator = build_cppn_generator((low, low, spec["channels"]), out_size=spec["hr_size"], residual=True,
                                     kl_weight=1.0, seed=spec["seed"], **model_kwargs)
    return _srgan(generator, spec)


_BUILDERS = {"local_cppn": _build_local_cppn, "vae_gan": _build_vae_gan,
             "cppn_gan": _build_cppn_gan}
MODELS = tuple(_BUILDERS)
DEFAULT_LR_SIZES = {"local_cppn": range(7, 27), "vae_gan": 26, "cppn_gan": 26}


def train(model_name, out_dir, *, x_train, x_val, epochs=8, batch_size=64, lr_sizes=None,
          val_lr_size=None, learning_rate=1e-3, seed=0, strategy="default", verbose=2,
          **model_kwargs):
    """Train ``model_name`` (one of :data:`MODELS`) into the run folder ``out_dir``.

    ``x_train``/``x_val`` are HR images (uint8 or float); each batch is degraded with
    :func:`sr_lib.data.degrade` to ``lr_sizes`` (an int, or a ``range`` drawn from per batch),
    validation to ``val_lr_size`` (default: the middle of ``lr_sizes``). Builds and trains inside
    the ``tf.distribute`` ``strategy``. Returns ``(upscaling_model, history, wall_seconds)``;
    a finished run is loaded, an interrupted one resumed (see :func:`_fit`).
    """
    import keras
    import numpy as np

    from sr_lib.data import degrade, pairs, to_float

    if model_name not in _BUILDERS:
        raise ValueError(f"unknown model {model_name!r}; choose from {MODELS}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    lr_sizes = DEFAULT_LR_SIZES[model_name] if lr_sizes is None else lr_sizes
    low, high = (lr_sizes, lr_sizes) if isinstance(lr_sizes, int) else (min(lr_sizes), max(lr_sizes))
    if len(x_train) == 0 or len(x_val) == 0:
        raise ValueError("training needs at least one training and one validation image")
    for name, x in (("x_train", x_train), ("x_val", x_val)):
        if np.asarray(x).dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    hr, val = to_float(x_train[:1]), to_float(x_val[:1])
    if val.shape[1:] != hr.shape[1:]:
        raise ValueError(f"training images are {tuple(hr.shape[1:])} but validation images are "
                         f"{tuple(val.shape[1:])}")
    hr_size, channels = int(hr.shape[1]), int(hr.shape[3])
    if hr.shape[1] != hr.shape[2]:
        raise ValueError(f"HR images must be square, got {hr.shape[1]}x{hr.shape[2]}")
    if high >= hr_size:
        raise ValueError(f"LR size {high} is not smaller than the HR size {hr_size}")
    val_lr_size = val_lr_size or (low + high) // 2
    spec = {"model": model_name, "epochs": epochs, "batch_size": batch_size,
            "lr_sizes": [low, high], "val_lr_size": val_lr_size, "learning_rate": learning_rate,
            "seed": seed, "n_train": int(len(x_train)), "hr_size": hr_size,
            "channels": channels, **model_kwargs}
    out_dir = _check_run_dir(out_dir, spec)
    keras.utils.set_random_seed(seed)
    train_ds = pairs(x_train, lr_sizes, batch_size=batch_size, seed=seed)
    val_ds = pairs(x_val, val_lr_size, batch_size=256, shuffle=False)
    steps = epochs * -(-len(x_train) // batch_size)
    with get_strategy(strategy).scope():
        model, monitor = _BUILDERS[model_name](spec, steps, **model_kwargs)
    sample_hr = to_float(x_val[:8])
    cbs = callbacks(out_dir, degrade(sample_hr, val_lr_size), sample_hr, monitor=monitor)
    return _fit(model, out_dir, epochs, x=train_ds, validation_data=val_ds, callbacks=cbs,
                verbose=verbose)


def train_local_cppn(out_dir, **kwargs):
    """:func:`train` for :class:`sr_lib.models.local_cppn.LocalCPPN` with its recipe defaults:
    L1 loss over random LR sizes 7-26, validation at LR 14, cosine-decayed Adam (notebook 04 and
    ``sr-lib train local_cppn``)."""
    return train("local_cppn", out_dir, **{"lr_sizes": range(7, 27), "val_lr_size": 14, **kwargs})
