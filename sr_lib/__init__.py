"""sr_lib: super-resolution with VAE-GANs and CPPNs, in Keras 3.

    import sr_lib
    sr = sr_lib.upscale(lr_images, 28)                      # the bundled local CPPN
    rows = sr_lib.evaluate(["bicubic", "local_cppn"], hr_images, lr_sizes=[14, 7])
    model, history, seconds = sr_lib.train("local_cppn", "runs/mine", x_train=hr_images)

``import sr_lib`` is light and changes nothing in your process (no environment variables, no
seeds); the names below load their modules, and TensorFlow, on first use.
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "upscale": "sr_lib.upscalers", "get_upscaler": "sr_lib.upscalers",
    "Upscaler": "sr_lib.upscalers", "INTERPOLATIONS": "sr_lib.upscalers",
    "load_pretrained": "sr_lib.pretrained",
    "load_mnist": "sr_lib.data", "degrade": "sr_lib.data", "pairs": "sr_lib.data",
    "evaluate": "sr_lib.metrics", "format_table": "sr_lib.metrics", "psnr": "sr_lib.metrics",
    "ssim": "sr_lib.metrics",
    "build_cppn": "sr_lib.models", "build_local_cppn": "sr_lib.models",
    "build_vae_gan_generator": "sr_lib.models", "build_cppn_gan_generator": "sr_lib.models",
    "build_encoder": "sr_lib.models", "build_decoder": "sr_lib.models",
    "build_discriminator": "sr_lib.models", "Sampling": "sr_lib.layers",
    "train": "sr_lib.recipes", "SRGAN": "sr_lib.training", "render": "sr_lib.rendering",
}
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sr_lib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
