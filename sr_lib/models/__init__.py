"""Model builders, one module per component; importing this registers every custom class."""
# ruff: noqa: F401
from sr_lib.models.encoder import build_encoder
from sr_lib.models.discriminator import build_discriminator
from sr_lib.models.vae_gan import build_decoder, build_vae_gan_generator
from sr_lib.models.cppn import build_cppn
from sr_lib.models.cppn_gan import CPPNGenerator, build_cppn_gan_generator
from sr_lib.models.local_cppn import LocalCPPN, build_local_cppn
