"""sr_lib: super-resolution with VAE-GANs and CPPNs in Keras 3. ``import sr_lib`` is light and
changes nothing (environment, seeds); TensorFlow loads when a name below is first used.

    sr = sr_lib.upscale(lr_images, 28)                      # the bundled local CPPN
    rows = sr_lib.evaluate(["bicubic", "local_cppn"], hr_images, lr_sizes=[14, 7])
    model, history, seconds = sr_lib.train("local_cppn", "runs/mine", x_train=hr_images)"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {  # public name -> module that defines it
    **dict.fromkeys(["upscale", "get_upscaler", "Upscaler", "INTERPOLATIONS"], "sr_lib.upscalers"),
    **dict.fromkeys(["load_mnist", "degrade", "pairs"], "sr_lib.data"),
    **dict.fromkeys(["evaluate", "format_table", "psnr", "ssim"], "sr_lib.metrics"),
    **dict.fromkeys(["build_cppn", "build_local_cppn", "build_vae_gan_generator",
                     "build_cppn_gan_generator", "build_encoder", "build_decoder",
                     "build_discriminator"], "sr_lib.models"),
    **dict.fromkeys(["upscale_file", "upscale_files"], "sr_lib.pictures"),
    "load_pretrained": "sr_lib.registry", "Sampling": "sr_lib.layers", "train": "sr_lib.recipes",
    "SRGAN": "sr_lib.training", "render": "sr_lib.rendering",
}
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sr_lib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
