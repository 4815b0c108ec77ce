"""Bundled weights under ``models/``, loadable by name."""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

# name -> file under models/; filled in as the notebooks' full runs land.
PRETRAINED: dict[str, str] = {"vae_gan": "vae_gan.keras", "local_cppn": "local_cppn.keras",
                              "cppn_gan": "cppn_gan.keras"}

# name -> factory(model) -> upscaler f(lr, size); see register_upscaler.
UPSCALER_WRAPPERS: dict = {}


def load_pretrained(name):
    """Load the bundled ``.keras`` model called ``name``."""
    import keras

    import sr_lib.models  # noqa: F401  (registers every custom layer and model)

    if name not in PRETRAINED:
        raise ValueError(f"no bundled model {name!r}; available: {sorted(PRETRAINED) or 'none yet'}")
    path = MODELS_DIR / PRETRAINED[name]
    if not path.exists():
        raise FileNotFoundError(f"{path}: bundled weights for {name!r} are missing from this install")
    return keras.saving.load_model(path)


def is_bundled(name):
    """True if the weights of the bundled model ``name`` are present."""
    return name in PRETRAINED and (MODELS_DIR / PRETRAINED[name]).exists()


def register_upscaler(name, factory):
    """Register ``factory(model) -> f(lr, size)``, the wrapper :func:`load_upscaler` uses for the
    bundled model ``name`` (models without one get :func:`fixed_size_upscaler`)."""
    UPSCALER_WRAPPERS[name] = factory


def load_upscaler(name):
    """The bundled model ``name`` as an upscaler ``f(lr, size)``: its registered wrapper, its own
    ``upscale(lr, size)`` method if it has one (any-size models), else :func:`fixed_size_upscaler`."""
    model = load_pretrained(name)
    if name in UPSCALER_WRAPPERS:
        return UPSCALER_WRAPPERS[name](model)
    return as_upscaler(model)


def as_upscaler(model):
    """Any model as ``f(lr, size)``: its own ``upscale`` method (any-size models), else
    :func:`fixed_size_upscaler`."""
    if callable(getattr(model, "upscale", None)):
        return model.upscale
    return fixed_size_upscaler(model)


def fixed_size_upscaler(model, batch_size=1000):
    """Wrap a Keras model with fixed input and output image shapes as ``f(lr, size)``.

    Raises ``ValueError`` when ``lr`` or ``size`` does not match what the model was built for.
    """
    from sr_lib.data import image_batch
    from sr_lib.rendering import size_pair

    lr_shape = tuple(model.input_shape[1:])
    hr_shape = tuple(model.output_shape[1:])

    def upscale(lr, size):
        lr = image_batch(lr, f"{model.name} upscales uint8 or float LR images of shape "
                             f"{lr_shape} (batched)", shape=lr_shape)
        if size_pair(size) != hr_shape[:2]:
            raise ValueError(f"{model.name} upscales {lr_shape[:2]} to {hr_shape[:2]} only, "
                             f"got size {size}")
        return model.predict(lr, batch_size=batch_size, verbose=0)

    upscale.__name__ = model.name
    upscale.lr_shape, upscale.hr_shape = lr_shape, hr_shape
    return upscale
