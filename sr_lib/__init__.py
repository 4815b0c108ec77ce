"""sr_lib: super-resolution with VAE-GANs and CPPNs, in Keras 3."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TF info logs; errors still show

from sr_lib.pretrained import load_pretrained  # noqa: E402

__version__ = "0.1.0"
__all__ = ["load_pretrained", "__version__"]
