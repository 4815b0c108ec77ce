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

    out_dir = Path(out_dir)
    result_path = out_dir / RESULT_FILE
    result = json.loads(result_path.read_text()) if result_path.exists() else {"wall_seconds": 0.0}
    if len(read_history(out_dir).get("epoch", [])) < epochs:
        start = time.perf_counter()
        with warnings.catch_warnings():  # a tf.data input makes fit's shuffle flag moot
            warnings.filterwarnings("ignore", message=".*shuffle=True.*")
            model.fit(epochs=epochs, **fit_kwargs)
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


def callbacks(out_dir, sample_inputs=None, sample_targets=None, monitor="val_loss"):
    """The standard callbacks of a run folder (see the module docstring)."""
    import keras

    from sr_lib.training import SampleGrid

    out_dir = Path(out_dir)
    cbs = [keras.callbacks.BackupAndRestore(str(out_dir / "backup")),
           keras.callbacks.TerminateOnNaN(),
           keras.callbacks.CSVLogger(str(out_dir / "history.csv"), append=True),
           keras.callbacks.ModelCheckpoint(str(out_dir / "model.keras"), monitor=monitor,
                                           save_best_only=True),
           keras.callbacks.TensorBoard(str(out_dir / "tensorboard"), write_graph=False)]
    if sample_inputs is not None:
        cbs.append(SampleGrid(sample_inputs, out_dir / "samples", targets=sample_targets))
    return cbs


def train_local_cppn(out_dir, *, x_train, x_val, epochs=8, batch_size=64, lr_sizes=range(7, 27),
                     val_lr_size=14, learning_rate=1e-3, seed=0, verbose=2, **model_kwargs):
    """Train :class:`sr_lib.models.local_cppn.LocalCPPN` with L1 loss over random LR sizes.

    ``x_train``/``x_val`` are HR images (uint8 or float); each batch is degraded to a size drawn
    from ``lr_sizes`` (a ``range``, or one int); validation uses ``val_lr_size``. Cosine-decayed Adam. Returns
    ``(best_model, history_dict, wall_seconds)`` (see :func:`_fit`: a finished run is loaded,
    an interrupted one resumed).
    """
    import keras

    from sr_lib.data import degrade, pairs, to_float
    from sr_lib.models.local_cppn import build_local_cppn

    hr_size = int(to_float(x_train[:1]).shape[1])
    lo, hi = (lr_sizes, lr_sizes) if isinstance(lr_sizes, int) else (min(lr_sizes), max(lr_sizes))
    spec = {"model": "local_cppn", "epochs": epochs, "batch_size": batch_size,
            "lr_sizes": [lo, hi], "val_lr_size": val_lr_size,
            "learning_rate": learning_rate, "seed": seed, "n_train": int(len(x_train)),
            "hr_size": hr_size, **model_kwargs}
    out_dir = _check_run_dir(out_dir, spec)
    keras.utils.set_random_seed(seed)
    train = pairs(x_train, lr_sizes, batch_size=batch_size, seed=seed)
    val = pairs(x_val, val_lr_size, batch_size=256, shuffle=False)
    steps = epochs * -(-len(x_train) // batch_size)
    model = build_local_cppn(out_size=hr_size, **model_kwargs)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule), loss="mae", metrics=["mse"])
    sample_hr = to_float(x_val[:8])
    cbs = callbacks(out_dir, degrade(sample_hr, val_lr_size), sample_hr)
    return _fit(model, out_dir, epochs, x=train, validation_data=val, callbacks=cbs,
                verbose=verbose)
