"""Where things are: package data (via ``importlib.resources``) and, in a clone, the repository."""

from importlib import resources
from pathlib import Path

ASSETS = Path(str(resources.files("sr_lib") / "assets"))  # a folder in every pip install
MODELS_DIR = ASSETS / "models"  # bundled inference weights, NAME.keras
MNIST = ASSETS / "mnist.npz"
PHOTO_CROPS = ASSETS / "photos"  # three held-out 384x384 photograph crops
REPO = Path(__file__).resolve().parent.parent  # the clone (notebooks, readme_assets, runs)
