"""Model builders. Each method of the series lives in its own module; all are exported here."""
from sr_lib.models.vae_gan import build_encoder, build_decoder, build_generator, build_discriminator
from sr_lib.models.cppn import build_cppn
from sr_lib.models.local_cppn import LocalCPPN, build_local_cppn
from sr_lib.models.cppn_gan import CPPNGenerator, build_cppn_generator, rms_gradient
