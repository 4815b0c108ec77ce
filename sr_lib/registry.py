"""The model registry (one :class:`Entry` per trainable model) and ``.keras`` file lookup."""

import dataclasses
from pathlib import Path

from sr_lib.degradations import REBALANCED, ROBUST
from sr_lib.paths import MODELS_DIR


def _local_cppn(spec, **kwargs):
    from sr_lib.models import build_local_cppn

    return build_local_cppn(channels=spec["channels"], out_size=spec["hr_size"], **kwargs)


def _vae_gan(spec, **kwargs):
    from sr_lib.models import build_vae_gan_generator as build

    lr, hr, c = spec["lr_sizes"][0], spec["hr_size"], spec["channels"]
    return build((lr, lr, c), (hr, hr, c), residual=spec["residual"], seed=spec["seed"], **kwargs)


def _cppn_gan(spec, **kwargs):
    from sr_lib.models import build_cppn_gan_generator as build

    lr, hr, c = spec["lr_sizes"][0], spec["hr_size"], spec["channels"]
    return build((lr, lr, c), out_size=hr, residual=spec["residual"], seed=spec["seed"], **kwargs)


@dataclasses.dataclass(frozen=True)
class Entry:
    """``build(spec, **kwargs)``: a run spec's network; ``trainer``: ``"fit"`` (L1, any LR size) or
    ``"srgan"`` (one); ``data``: ``"digits"`` or ``"photos"``; ``recipe``: ``sr-lib train``'s
    defaults; ``tiny``: small builder arguments; the rest describes ``MODELS_DIR/NAME.keras``."""
    build: object
    trainer: str
    data: str
    recipe: dict
    description: str
    tiny: dict
    trained_on: str
    params: int
    headline: str


TINY_LOCAL = dict(features=8, blocks=1, hidden=8, depth=2)
GAN_RECIPE = dict(lr_sizes=26, val_lr_size=26, epochs=30, batch_size=128, learning_rate=1e-3,
                  patience=3, residual=True, adv_weight=1e-3)  # vae_gan's (cppn_gan: smaller)
PHOTO_RECIPE = dict(lr_sizes=range(12, 25), val_lr_size=16, epochs=16, batch_size=32,
                    learning_rate=1e-3, patience=None, patch=48, steps_per_epoch=1000,
                    architecture=dict(features=64, blocks=4))
# `patience`: stop after that many epochs without a better validation loss (`epochs`: at most)
MODELS = {
    "local_cppn": Entry(_local_cppn, "fit", "digits", dict(
        lr_sizes=range(7, 27), val_lr_size=14, epochs=7, batch_size=64, learning_rate=1e-3,
        patience=None), "notebook 04, MNIST digits: any grayscale input, any scale", TINY_LOCAL,
        "MNIST, LR 7..26 -> 28", 150961, "37.43 / 30.73 / 22.81 dB from LR 26 / 14 / 7"),
    "vae_gan": Entry(_vae_gan, "srgan", "digits", GAN_RECIPE,
        "notebook 01, MNIST digits: 26x26 grayscale -> 28x28", dict(latent_dim=3),
        "MNIST, 26 -> 28", 697793, "33.99 dB at 26 -> 28"),
    "cppn_gan": Entry(_cppn_gan, "srgan", "digits", dict(GAN_RECIPE, epochs=20, batch_size=32),
        "notebook 03, MNIST digits: 26x26 grayscale -> any size", dict(latent_dim=3, hidden=8),
        "MNIST, 26 -> 28", 502497, "30.59 dB at 26 -> 28"),
    "photo_clean": Entry(_local_cppn, "fit", "photos", PHOTO_RECIPE,
        "notebook 05, photographs trained on antialiased bicubic only: best on clean, "
        "carefully shrunk pictures", TINY_LOCAL,
        "48x48 patches of 66 photographs and artworks, x2..x4, antialiased bicubic", 330003,
        "+2.45 / +1.65 / +1.01 dB over bicubic at x2 / x3 / x4 (held-out photographs)"),
    "photo": Entry(_local_cppn, "fit", "photos",  # two stages, each from the one before
        dict(PHOTO_RECIPE, learning_rate=5e-4, init="photo_clean", precision="mixed_bfloat16",
             stages=(dict(epochs=14, degradations=ROBUST),
                     dict(epochs=4, degradations=REBALANCED))),
        "notebook 05, photographs: any colour picture, any scale; trained on random kernels, "
        "blur, noise and JPEG", TINY_LOCAL,
        "photo_clean's weights, then random kernels, blur, noise and JPEG (14 epochs), then more "
        "naive resizes (4)", 330003,
        "+1.28 / +0.66 dB over bicubic at x2 / x4 (held-out photographs)"),
}
DEFAULT = {"digits": "local_cppn", "photos": "photo"}  # sr-lib upscale's model for each kind


def entry(name):
    """The :class:`Entry` of ``name``, else a one-line ``ValueError`` listing the models."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]


def bundled():
    """Names of the bundled models present in this install."""
    return sorted(p.stem for p in MODELS_DIR.glob("*.keras"))


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
