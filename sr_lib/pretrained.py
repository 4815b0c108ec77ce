"""Bundled weights under ``models/``, loadable by name."""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

# name -> file under models/; filled in as the notebooks' full runs land.
PRETRAINED: dict[str, str] = {}


def load_pretrained(name):
    """Load the bundled ``.keras`` model called ``name``."""
    import keras

    import sr_lib.layers  # noqa: F401  (registers custom objects)

    if name not in PRETRAINED:
        raise ValueError(f"no bundled model {name!r}; available: {sorted(PRETRAINED) or 'none yet'}")
    path = MODELS_DIR / PRETRAINED[name]
    if not path.exists():
        raise FileNotFoundError(f"{path}: bundled weights for {name!r} are missing from this install")
    return keras.saving.load_model(path)


def load_upscaler(name):
    """The bundled model ``name`` wrapped as an upscaler ``f(lr, size)``."""
    raise NotImplementedError(f"{name!r} has no upscaler wrapper yet")
