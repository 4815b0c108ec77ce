"""Notebook conveniences: the ``$SR_LIB_TRAIN``/``_EXPORT`` switches, training, result checks."""

import json
import os
from pathlib import Path

from sr_lib.paths import MODELS_DIR as MODELS, REPO as ROOT

ASSETS = ROOT / "readme_assets"


def switch(name, default=False):
    """A notebook switch: ``default`` unless ``$SR_LIB_<NAME>`` is 1/true or 0/false."""
    value = os.environ.get(f"SR_LIB_{name.upper()}")
    if not value:
        return default
    if value.lower() not in ("0", "1", "true", "false"):
        raise ValueError(f"$SR_LIB_{name.upper()} must be 1/true or 0/false, got {value!r}")
    return value.lower() in ("1", "true")


def check_results(rows, path, *, strict=True, psnr_tol=0.02, ssim_tol=0.001, key="rows"):
    """Check rows against the committed ``path``; a drift raises if ``strict``, else is printed."""
    from sr_lib.metrics import Row

    def ident(r):
        return r.method, r.degradation, str(r.lr_size if r.scale is None else r.scale)

    rows = [r if isinstance(r, Row) else Row.from_dict(r) for r in rows]
    committed = {ident(r): r for r in map(Row.from_dict, json.loads(Path(path).read_text())[key])}
    missing = Row("", "", 0, float("nan"), float("nan"), 0, 0.0)  # not committed: NaN, a drift
    drifts = []
    for r in rows:
        ref = committed.get(ident(r), missing)
        if not (abs(r.psnr - ref.psnr) <= psnr_tol and abs(r.ssim - ref.ssim) <= ssim_tol):
            drifts.append(f"{' '.join(ident(r))}: PSNR {r.psnr:.3f} vs {ref.psnr:.3f}, "
                          f"SSIM {r.ssim:.4f} vs {ref.ssim:.4f}")
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
    """``(models, training records, run folders)`` of ``variants`` (label -> (NAME, arguments)):
    trained in ``runs/NAME`` if ``train``, else bundled ``NAME.keras``, records from ``results``."""
    from sr_lib.registry import load_pretrained
    from sr_lib.recipes import stage_folders, train as train_recipe

    committed = json.loads(Path(results).read_text())["training"] if results and not train else {}
    models, records, folders = {}, {}, {}
    for label, (name, arguments) in variants.items():
        if train:
            folders[label] = Path(runs) / name
            models[label], _, _ = train_recipe(model_name, folders[label], x_train=x_train,
                                               **arguments)
            stages = [_record(folder) for folder in stage_folders(model_name, folders[label])]
            records[label] = dict(stages[-1], **({} if len(stages) == 1 else {
                "epochs": sum(r["epochs"] for r in stages), "stages": stages,
                "wall_s": round(sum(r["wall_s"] for r in stages), 1)}))
        else:
            models[label], records[label] = load_pretrained(name), committed[label]
    return models, records, folders


def _record(folder):
    """A run folder's training record: epochs, wall seconds, per-epoch history (last stage's)."""
    from sr_lib.recipes import RESULT_FILE, read_history

    history = read_history(folder)
    wall = json.loads((Path(folder) / RESULT_FILE).read_text())["wall_seconds"]
    return {"epochs": len(history["epoch"]), "wall_s": round(wall, 1),
            "history": {k: [round(v, 6) for v in vs] for k, vs in history.items() if k != "epoch"}}


def export(results, path, trained=None, discriminators=()):
    """Write ``results`` to ``path``; bundle ``trained`` runs' models (and ``discriminators``')."""
    import keras

    import sr_lib.models  # noqa: F401  (registers the model classes)
    from sr_lib.files import replacing, write_json

    written = [write_json(path, results)]
    for name, run in (trained or {}).items():
        for source, folder in ((run / "model.keras", MODELS),
                               (run / "discriminator.keras", MODELS / "discriminators")):
            if source.exists() and (source.name == "model.keras" or name in discriminators):
                with replacing(folder / f"{name}.keras") as tmp:  # uncompiled: no optimizer state
                    keras.saving.load_model(source, compile=False).save(tmp)
                written.append(folder / f"{name}.keras")
    print("exported", ", ".join(str(Path(p).resolve().relative_to(ROOT)) for p in written))
