"""GAN training (:class:`SRGAN`) and callbacks. Losses are scaled for the global batch, layer
losses collected per call (``stateless_call``): parallel replicas overwrite ``generator.losses``."""

import math
from pathlib import Path

import keras
import tensorflow as tf

from sr_lib.files import replacing
from sr_lib.metrics import psnr
from sr_lib.runtime import precision

TRACKED = ("g_loss", "d_loss", "recon", "adv", "kl", "psnr")


@keras.saving.register_keras_serializable(package="sr_lib")
class SRGAN(keras.Model):
    """Adversarial trainer on ``(x, hr)``: G minimises ``recon_weight * MSE(G(x), hr) + adv_weight
    * BCE(D(G(x)), real) + G's layer losses``, D ``BCE(D(hr), real) + BCE(D(G(x)), fake)``."""

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.trackers = {name: keras.metrics.Mean(name=name) for name in TRACKED}
        self.built = generator.built and discriminator.built  # weights can be saved before fit

    def compile(self, g_optimizer=None, d_optimizer=None, recon_weight=1.0, adv_weight=1e-3,
                **kwargs):
        for name, value in (("recon_weight", recon_weight), ("adv_weight", adv_weight)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(1e-3, beta_1=0.5)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5)
        # model.optimizer is G's (step counts for callbacks); built now, so checkpoints restore it
        super().compile(optimizer=self.g_optimizer, **kwargs)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.recon_weight, self.adv_weight = float(recon_weight), float(adv_weight)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    @staticmethod
    def _bce(logits, real):
        labels = tf.ones_like(logits) if real else tf.zeros_like(logits)
        per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        return tf.reduce_mean(tf.reshape(per_example, [tf.shape(logits)[0], -1]), axis=1)

    def _generate(self, x, training, dtype):
        """``(G(x) as dtype, sum of G's layer losses)``; state updates are written back."""
        g = self.generator
        sr, state, losses = g.stateless_call(
            [v.value for v in g.trainable_variables], [v.value for v in g.non_trainable_variables],
            x, training=training, return_losses=True)
        for variable, value in zip(g.non_trainable_variables, state):
            variable.assign(value)
        losses = [tf.cast(loss, tf.float32) for loss in losses]
        return tf.cast(sr, dtype), (tf.add_n(losses) if losses else tf.constant(0.0))

    def _generator_loss(self, sr, hr, adv_logits, kl):
        """Per-replica-scaled generator loss and per-batch means for the trackers."""
        recon = tf.reduce_mean(tf.reshape(tf.square(sr - hr), [tf.shape(hr)[0], -1]), axis=1)
        adv = self._bce(adv_logits, real=True)
        g_loss = (self.recon_weight * tf.nn.compute_average_loss(recon)
                  + self.adv_weight * tf.nn.compute_average_loss(adv)
                  + tf.nn.scale_regularization_loss(kl))
        means = {"recon": tf.reduce_mean(recon), "adv": tf.reduce_mean(adv), "kl": kl,
                 "psnr": tf.reduce_mean(psnr(sr, hr))}
        means["g_loss"] = self.recon_weight * means["recon"] + self.adv_weight * means["adv"] + kl
        return g_loss, means

    def _d_loss(self, hr, sr, training):
        per_example = (self._bce(self.discriminator(hr, training=training), real=True)
                       + self._bce(self.discriminator(sr, training=training), real=False))
        return tf.nn.compute_average_loss(per_example), tf.reduce_mean(per_example)

    def train_step(self, data):
        x, hr = data
        hr = tf.convert_to_tensor(hr)
        with tf.GradientTape() as g_tape:
            sr, kl = self._generate(x, training=True, dtype=hr.dtype)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:  # Discriminator step: HR real, SR fake.
                    d_loss, d_mean = self._d_loss(hr, tf.stop_gradient(sr), training=True)
                d_vars = self.discriminator.trainable_variables
                self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
            # Generator step: reconstruction + fooling the updated discriminator + KL.
            g_loss, means = self._generator_loss(sr, hr, self.discriminator(sr, training=False), kl)
        g_vars = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        return self._update(means, d_mean)

    def test_step(self, data):
        x, hr = data
        hr = tf.convert_to_tensor(hr)
        sr, kl = self._generate(x, training=False, dtype=hr.dtype)
        _, means = self._generator_loss(sr, hr, self.discriminator(sr, training=False), kl)
        _, d_mean = self._d_loss(hr, sr, training=False)
        return self._update(means, d_mean)

    def _update(self, means, d_mean):
        means["d_loss"] = d_mean
        for name, tracker in self.trackers.items():
            tracker.update_state(means[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def get_config(self):
        return {**super().get_config(),
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class TrainingDiverged(RuntimeError):
    """A training loss became NaN or infinite."""


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    """Raise :class:`TrainingDiverged` as soon as any logged ``*loss`` is NaN or infinite."""

    epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        for key, value in (logs or {}).items():
            if key.endswith("loss") and not math.isfinite(float(value)):
                raise TrainingDiverged(f"{key} became {float(value)} at batch {batch + 1} of "
                                       f"epoch {self.epoch + 1}")


class Checkpoint(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` with ``double_checkpoint``; unreadable checkpoints: a ``ValueError``."""

    def __init__(self, backup_dir):
        super().__init__(str(backup_dir), double_checkpoint=True)

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.backup_dir}: the run's checkpoint is damaged ({str(exc)[:120]}"
                             "); delete the run folder (or pick another) to start over") from None


class SampleGrid(keras.callbacks.Callback):
    """Save ``out_dir/epoch_001.png``, ...: outputs on ``inputs`` each epoch, above ``targets``."""

    def __init__(self, inputs, out_dir, targets=None, scale=4):
        super().__init__()
        self.inputs, self.targets, self.out_dir, self.scale = inputs, targets, Path(out_dir), scale

    def on_epoch_end(self, epoch, logs=None):
        from sr_lib.images import save_grid

        generator = getattr(self.model, "generator", self.model)
        rows = [generator(self.inputs, training=False)] + (
            [] if self.targets is None else [self.targets])
        self.out_dir.mkdir(parents=True, exist_ok=True)
        save_grid(rows, self.out_dir / f"epoch_{epoch + 1:03d}.png", scale=self.scale)


def float32_copy(network):
    """``network`` if it computes in float32, else a float32 copy with its weights."""
    if network.dtype_policy.name == "float32":
        return network
    with precision("float32"):
        copy = type(network).from_config({**network.get_config(), "dtype": "float32"})
    copy.build_from_config(network.get_build_config())
    copy.set_weights(network.get_weights())
    return copy


class BestUpscaler(keras.callbacks.Callback):
    """Save the upscaling network (and a GAN's discriminator) atomically at new ``monitor`` lows."""

    def __init__(self, path, monitor="val_loss", best=float("inf")):
        super().__init__()
        self.path, self.monitor, self.best = Path(path), monitor, float(best)

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise ValueError(f"BestUpscaler monitors {self.monitor!r}, which is not among the "
                             f"logged metrics {sorted(logs or {})}")
        if value < self.best:
            self.best = float(value)
            saves = [(float32_copy(getattr(self.model, "generator", self.model)), self.path)]
            if hasattr(self.model, "discriminator"):
                saves.append((self.model.discriminator, self.path.with_name("discriminator.keras")))
            for network, path in saves:
                with replacing(path) as tmp:  # a crash never leaves a half-written model
                    network.save(tmp)
