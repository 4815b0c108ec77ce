"""Where things are: the package data that ships in every install (bundled weights, MNIST, the
photo crops of notebook 05, found with ``importlib.resources``, the same way from an editable
and a regular install) and, for a clone only, the repository's own folders."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

ASSETS = Path(str(resources.files("sr_lib") / "assets"))  # a folder in every pip install
MODELS_DIR = ASSETS / "models"  # bundled inference weights, NAME.keras
MNIST = ASSETS / "mnist.npz"
PHOTO_CROPS = ASSETS / "photos"  # three held-out 384x384 photograph crops
REPO = Path(__file__).resolve().parent.parent  # the clone (notebooks, readme_assets, runs)
