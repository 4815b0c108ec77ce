"""Notebook conveniences. ``TRAIN = switch("TRAIN")`` (``$SR_LIB_TRAIN=1``): off, models come
from the bundled weights; on, the notebook trains them with the recipe call of ``sr-lib train``.
``EXPORT = switch("EXPORT")`` is the only way a notebook writes into the repository. Also: the
check that a notebook reproduces its committed results (TensorFlow start-up: ``sr_lib.runtime``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sr_lib.paths import MODELS_DIR as MODELS, REPO as ROOT

ASSETS = ROOT / "readme_assets"


def switch(name, default=False):
    """A notebook switch: ``default`` unless ``$SR_LIB_<NAME>`` is ``1``/``true`` or ``0``/``false``."""
    value = os.environ.get(f"SR_LIB_{name.upper()}")
    if value is None or value == "":
        return default
    if value.lower() not in ("0", "1", "true", "false"):
        raise ValueError(f"$SR_LIB_{name.upper()} must be 1/true or 0/false, got {value!r}")
    return value.lower() in ("1", "true")


def check_results(rows, path, *, strict=True, psnr_tol=0.02, ssim_tol=0.001, key="rows"):
    """Compare :func:`sr_lib.evaluate` (or ``evaluate_photos``) rows with the committed ``path``
    (``{key: [...]}``): with ``strict`` (bundled weights) a drift beyond ``psnr_tol`` dB or
    ``ssim_tol`` raises ``AssertionError`` (CI turns red); a freshly trained model's differences
    are only printed."""
    def ident(r):
        return r["method"], str(r.get("lr_size", r.get("scale"))), r.get("degradation", "bicubic")

    def scores(r):
        return r.get("psnr", r.get("psnr_y")), r.get("ssim", r.get("ssim_y"))

    committed = {ident(r): scores(r) for r in json.loads(Path(path).read_text())[key]}
    drifts = []
    for r in rows:
        (p, s), (ref_p, ref_s) = scores(r), committed.get(ident(r), (float("nan"), 0))
        if not (abs(p - ref_p) <= psnr_tol and abs(s - ref_s) <= ssim_tol):
            drifts.append(f"{' '.join(ident(r))}: PSNR {p:.3f} vs {ref_p:.3f}, "
                          f"SSIM {s:.4f} vs {ref_s:.4f}")
    if not drifts:
        print(f"all {len(rows)} rows match {Path(path).name} "
              f"(|dPSNR| <= {psnr_tol} dB, |dSSIM| <= {ssim_tol})")
    elif strict:
        raise AssertionError("results differ from the committed ones:\n" + "\n".join(drifts))
    else:
        print(f"{len(drifts)} of {len(rows)} rows differ from {Path(path).name} (expected after "
              "training anew):\n" + "\n".join(drifts))


def train_or_load(model_name, variants, *, train, x_train=None, results=None,
                  runs=ROOT / "runs" / "notebooks"):
    """``(models, training records, run folders)`` for ``variants`` (label -> (bundled name,
    recipe arguments)): with ``train``, ``sr_lib.train(model_name, runs/NAME, x_train=x_train,
    **arguments)`` (the call of ``sr-lib train``); else the bundled ``NAME.keras`` and the record
    (epochs, wall time, history) committed in the ``results`` JSON."""
    from sr_lib.pretrained import load_pretrained
    from sr_lib.recipes import train as train_recipe

    committed = json.loads(Path(results).read_text())["training"] if results and not train else {}
    models, records, folders = {}, {}, {}
    for label, (name, arguments) in variants.items():
        if train:
            folders[label] = Path(runs) / name
            model, history, seconds = train_recipe(model_name, folders[label], x_train=x_train,
                                                   **arguments)
            records[label] = {"epochs": len(history["epoch"]), "wall_s": round(seconds, 1),
                              "history": {k: [round(v, 6) for v in vs]
                                          for k, vs in history.items() if k != "epoch"}}
        else:
            model, records[label] = load_pretrained(name), committed[label]
        models[label] = model
    return models, records, folders


def export(results, path, trained=None, discriminators=()):
    """Write ``results`` to ``path`` and, for a trained notebook, each run's ``model.keras`` to
    the bundled ``NAME.keras`` (``trained``: name -> run folder; inference weights only, no optimizer
    state), and for the names in ``discriminators`` the run's discriminator beside it."""
    import keras

    import sr_lib.models  # noqa: F401  (registers the model classes)
    from sr_lib.files import replacing, write_json

    written = [write_json(path, results)]
    for name, run in (trained or {}).items():
        for source, target in ((run / "model.keras", MODELS / f"{name}.keras"),
                               (run / "discriminator.keras", MODELS / "discriminators" / f"{name}.keras")):
            if source.exists() and (source.name == "model.keras" or name in discriminators):
                with replacing(target) as tmp:  # reloaded uncompiled: no optimizer state
                    keras.saving.load_model(source, compile=False).save(tmp)
                written.append(target)
    print("exported", ", ".join(str(Path(p).resolve().relative_to(ROOT)) for p in written))
