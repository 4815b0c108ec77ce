"""Model files: the bundled weights (package data, :data:`sr_lib.paths.MODELS_DIR`) by name, or any ``.keras`` file by path
(:func:`sr_lib.get_upscaler` runs them; this module only finds and loads files)."""

from __future__ import annotations

from pathlib import Path

from sr_lib.paths import MODELS_DIR

# What each bundled model was trained on and what it takes (shown by `sr-lib upscale --help`).
DESCRIPTIONS = {
    "local_cppn": "notebook 04, MNIST digits: any grayscale input, any scale",
    "vae_gan": "notebook 01, MNIST digits: 26x26 grayscale -> 28x28",
    "cppn_gan": "notebook 03, MNIST digits: 26x26 grayscale -> any size",
    "photo": "notebook 05, photographs: any colour picture, any scale; trained on random "
             "kernels, blur, noise and JPEG",
    "photo_clean": "notebook 05, photographs trained on antialiased bicubic only: best on "
                   "clean, carefully shrunk pictures",
}


def bundled():
    """Names of the bundled models present in this install."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.keras"))


def is_bundled(name):
    """True if the weights of the bundled model ``name`` are present."""
    return name in bundled()


def model_path(name_or_path):
    """The file of a bundled model's name, or an existing ``.keras`` path, else ``ValueError``."""
    path = Path(name_or_path).expanduser()
    if str(name_or_path) in bundled():
        return MODELS_DIR / f"{name_or_path}.keras"
    if path.suffix == ".keras" and path.is_file():
        return path
    if path.suffix == ".keras":
        raise ValueError(f"{path}: no such model file")
    raise ValueError(f"unknown model {str(name_or_path)!r}: not a bundled model "
                     f"({', '.join(bundled()) or 'none installed'}) nor a .keras file")


def load_pretrained(name_or_path):
    """Load a bundled model by name (``"local_cppn"``, ...) or a ``.keras`` file by path."""
    import keras

    import sr_lib.models  # noqa: F401  (registers every custom layer and model)

    path = model_path(name_or_path)
    try:
        return keras.saving.load_model(path)
    except Exception as exc:  # zip, HDF5 and config errors all mean "not a usable model file"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path}: not a readable Keras model file ({message[:200]})") from None
