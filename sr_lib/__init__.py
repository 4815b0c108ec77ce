"""sr_lib: super-resolution with VAE-GANs and CPPNs, in Keras 3.

``import sr_lib`` is light; the names below load their modules (and TensorFlow) on first use.
TensorFlow's C++ logs are silenced unless ``TF_CPP_MIN_LOG_LEVEL`` is already set.
"""

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "load_pretrained": "sr_lib.pretrained",
    "degrade": "sr_lib.data",
    "load_mnist": "sr_lib.data",
    "evaluate": "sr_lib.metrics",
    "render": "sr_lib.rendering",
}
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sr_lib' has no attribute {name!r}")
