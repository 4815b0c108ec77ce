"""`sr-lib train` / `sr_lib.recipes.train`: run folders, resume after a crash, distribution,
reproducibility and bad input."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from sr_lib import recipes
from sr_lib.cli import main

from conftest import TINY, eagerly, write_npz

pytestmark = pytest.mark.usefixtures("eager")  # but the `compiled` tests (conftest.eager)


@pytest.fixture(scope="module")
def digits(mnist):
    (x, _), (xt, _) = mnist
    return x[:96], xt[:16]


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory, digits):
    return write_npz(tmp_path_factory.mktemp("data") / "small.npz", *digits)


def _epochs(run):
    return [int(r["epoch"]) for r in csv.DictReader(open(run / "history.csv"))]


def test_vae_gan_recipe_saves_the_generator(tmp_path, digits):
    x, xt = digits
    model, history, _ = recipes.train("vae_gan", tmp_path, x_train=x, x_val=xt, epochs=1,
                                      batch_size=32, verbose=0, latent_dim=8)
    assert model.name == "vae_gan_residual" and model.output_shape == (None, 28, 28, 1)
    assert set(history) >= {"g_loss", "d_loss", "val_recon", "val_psnr"}
    assert keras.saving.load_model(tmp_path / "model.keras").count_params() == model.count_params()
    with pytest.raises(ValueError, match="fixed LR size"):
        recipes.train("vae_gan", tmp_path / "b", x_train=x, x_val=xt, lr_sizes=range(7, 9))


def test_cppn_gan_recipe_saves_an_any_size_generator(tmp_path, digits):
    x, xt = digits
    model, history, _ = recipes.train("cppn_gan", tmp_path, x_train=x, x_val=xt, epochs=1,
                                      batch_size=32, verbose=0, latent_dim=8, hidden=8, depth=2)
    assert model.name == "cppn_gan_residual" and set(history) >= {"g_loss", "val_recon"}
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    lr = xt[:2, 1:27, 1:27, None] / 255.0
    assert loaded.upscale(lr, 40).shape == (2, 40, 40, 1)
    np.testing.assert_allclose(loaded.upscale(lr, 28), model.upscale(lr, 28), atol=1e-6)


@pytest.mark.parametrize("name, kw", [("vae_gan", dict(latent_dim=8)),
                                      ("cppn_gan", dict(latent_dim=8, hidden=8, depth=2))])
def test_gan_same_seed_same_weights(tmp_path, digits, name, kw):
    """Both networks of a GAN run, and the sampling noise, reproduce from the seed."""
    x, xt = digits
    kw = dict(x_train=x[:32], x_val=xt, epochs=1, batch_size=16, verbose=0, seed=5, **kw)
    a, _, _ = recipes.train(name, tmp_path / "a", **kw)
    b, _, _ = recipes.train(name, tmp_path / "b", **kw)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c, _, _ = recipes.train(name, tmp_path / "c", **{**kw, "seed": 6})
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()))


@pytest.mark.compiled
def test_srgan_step_draws_fresh_sampling_noise(digits):
    """train_step runs the generator statelessly; the Sampling seed state is written back, so
    every step draws new noise (and inference none)."""
    from sr_lib.models import build_discriminator, build_vae_gan_generator
    from sr_lib.training import SRGAN

    x, _ = digits
    gen = build_vae_gan_generator((26, 26, 1), (28, 28, 1), latent_dim=4, kl_weight=1e-3, seed=7)
    gan = SRGAN(gen, build_discriminator((28, 28, 1)))
    gan.compile()
    hr = x[:48, ..., None].astype("float32") / 255.0
    lr = hr[:, 1:27, 1:27]
    gan.fit(lr, hr, batch_size=16, epochs=1, verbose=0)
    state = [v for v in gen.variables if "seed_generator" in v.path]
    assert len(state) == 1 and np.asarray(state[0].value).tolist() == [7, 3]
    gan.evaluate(lr, hr, batch_size=16, verbose=0)
    assert np.asarray(state[0].value).tolist() == [7, 3]


@pytest.mark.compiled  # a resume of compiled steps: the optimizers' state as graph mode keeps it
def test_gan_resume_restores_both_networks_and_optimizers(tmp_path, digits, crash_in_epoch):
    """A crash mid-run, then the same call: epochs continue and the optimizers' step counters
    show their state came back (a fresh optimizer would count only the resumed steps)."""
    x, xt = digits
    kw = dict(x_train=x, x_val=xt, epochs=2, batch_size=32, verbose=0, latent_dim=8)
    crash_in_epoch(tmp_path, 1, kw, model="vae_gan")
    assert _epochs(tmp_path) == [0] and (tmp_path / "backup").exists()
    original = recipes.callbacks
    seen = {}

    class Spy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen[epoch] = (int(self.model.g_optimizer.iterations),
                           int(self.model.d_optimizer.iterations))

    recipes.callbacks = lambda *a, **k: original(*a, **k) + [Spy()]
    try:
        recipes.train("vae_gan", tmp_path, **kw)
    finally:
        recipes.callbacks = original
    assert list(seen) == [1] and seen[1] == (3, 3)  # 96 images / 32 = 3 steps of epoch 0
    assert _epochs(tmp_path) == [0, 1]


def test_killed_process_resumes_from_last_epoch(tmp_path, small_npz):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "sr_lib.cli", "train", "local_cppn", "--data", str(small_npz),
           "--epochs", "4", "--batch-size", "8", "--lr-size", "14", "--out", str(run)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (run / "history.csv").exists() and len(_epochs(run)) >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "training finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _epochs(run)
    assert 1 <= len(done) < 4
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert _epochs(run) == [0, 1, 2, 3]  # each epoch exactly once, none lost or repeated
    assert "bicubic" in out.stdout and (run / "model.keras").exists()
    assert not (run / "backup").exists()  # removed once the run completed


def test_rerun_of_a_finished_run_loads_it(tmp_path, digits):
    x, xt = digits
    kw = dict(x_train=x[:32], x_val=xt, epochs=1, batch_size=32, verbose=0, **TINY)
    recipes.train("local_cppn", tmp_path, **kw)
    start = time.perf_counter()
    model, history, _ = recipes.train("local_cppn", tmp_path, **kw)
    assert len(history["epoch"]) == 1 and time.perf_counter() - start < 30


@pytest.mark.compiled
@pytest.mark.parametrize("name, kw", [("local_cppn", TINY), ("vae_gan", dict(latent_dim=8))])
def test_eager_training_matches_compiled(tmp_path, digits, name, kw):
    """Why this module's other tests may train eagerly: op by op, a recipe ends with the weights
    its compiled steps reach (the GAN's own train_step and its sampling noise included)."""
    x, xt = digits
    kw = dict(x_train=x[:64], x_val=xt, epochs=1, batch_size=16, verbose=0, seed=3, **kw)
    compiled, _, _ = recipes.train(name, tmp_path / "compiled", **kw)
    with eagerly():
        eager, _, _ = recipes.train(name, tmp_path / "eager", **kw)
    pairs = list(zip(compiled.get_weights(), eager.get_weights()))
    # float32 rounding that Adam's normalised steps carry: 1.5e-8 (local_cppn) and 3.7e-9
    # (vae_gan) measured alone, 5.8e-6 after the suite's earlier tests; another seed: 1.1, 0.38
    assert pairs and max(float(np.abs(a - b).max()) for a, b in pairs) <= 1e-4


def test_same_seed_same_weights(tmp_path, digits):
    x, xt = digits
    kw = dict(x_train=x[:64], x_val=xt, epochs=1, batch_size=16, verbose=0, seed=3, **TINY)
    a, _, _ = recipes.train("local_cppn", tmp_path / "a", **kw)
    b, _, _ = recipes.train("local_cppn", tmp_path / "b", **kw)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c, _, _ = recipes.train("local_cppn", tmp_path / "c", **{**kw, "seed": 4})
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


TWO_DEVICES = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    MIRROR = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])  # one: fresh strategies in
    # one process would reuse the collective ops' instance keys

    def compare(build, lr, hr, record):
        # one epoch in batches of 8 on one device and mirrored over two; prints both records
        out = {}
        for name, strategy in (("single", tf.distribute.get_strategy()), ("mirrored", MIRROR)):
            keras.utils.set_random_seed(0)
            with strategy.scope():
                model = build()
            ds = tf.data.Dataset.from_tensor_slices((lr, hr)).batch(8)
            logs = model.fit(ds, epochs=1, verbose=0).history
            out[name] = {"replicas": strategy.num_replicas_in_sync, **record(model, logs)}
        print(json.dumps(out))

    def total(weights):
        return float(sum(np.abs(w).sum() for w in weights))
""")

MIRRORED = TWO_DEVICES + textwrap.dedent("""
    from keras import layers
    from sr_lib.layers import Resize
    from sr_lib.models import build_local_cppn
    from sr_lib.training import SRGAN

    class BatchMeanLoss(layers.Layer):  # a layer loss averaged over the batch, like the KL
        def __init__(self, weight):
            super().__init__()
            self.weight = weight

        def call(self, x):
            self.add_loss(self.weight * keras.ops.mean(keras.ops.sum(x ** 2, axis=(1, 2, 3))))
            return x

    def gan(kl_weight):
        # deterministic stand-ins (no sampling noise, no dropout) with a layer loss like the KL,
        # so any difference comes from how train_step scales losses across replicas
        g = keras.Sequential([keras.Input((26, 26, 1)), Resize((28, 28)),
                              layers.Conv2D(4, 3, padding="same", activation="relu"),
                              BatchMeanLoss(kl_weight), layers.Conv2D(1, 3, padding="same")])
        d = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, strides=2),
                              layers.Flatten(), layers.Dense(1)])
        model = SRGAN(g, d)
        model.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5), adv_weight=0.1)
        return model

    hr = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    for kl_weight in map(float, sys.argv[1:]):  # one line each
        compare(lambda: gan(kl_weight), tf.image.resize(hr, (26, 26)).numpy(), hr,
                lambda model, logs: {**{k: float(v[0]) for k, v in logs.items()},
                                     "g_weights": total(model.generator.get_weights()),
                                     "d_weights": total(model.discriminator.get_weights())})

    def local_cppn():
        model = build_local_cppn(features=8, blocks=1, hidden=8, depth=2)
        model.compile(keras.optimizers.SGD(0.5), loss="mae")
        return model

    hr = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    compare(local_cppn, tf.image.resize(hr, (14, 14)).numpy(), hr,
            lambda model, logs: {"loss": float(logs["loss"][0]),
                                 "weights": total(model.get_weights())})
""")


def test_mirrored_two_devices_match_single_device():
    """The GAN's train_step without and with a layer loss, and the local CPPN's fit, each one
    epoch on one device and mirrored over two logical CPUs (one process for all three)."""
    kl_weights = [0.0, 1e-2]
    proc = subprocess.run([sys.executable, "-c", MIRRORED, *map(str, kl_weights)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    *gans, local = (json.loads(line) for line in proc.stdout.strip().splitlines()[-3:])
    for kl_weight, out in zip(kl_weights, gans):
        assert out["single"]["replicas"] == 1 and out["mirrored"]["replicas"] == 2
        assert (out["single"]["kl"] > 0) == (kl_weight > 0)  # the layer loss, weighted in the layer
        keys = ("g_loss", "d_loss", "recon", "adv", "g_weights", "d_weights")
        for key in keys + (("kl",) if kl_weight else ()):
            assert out["mirrored"][key] == pytest.approx(out["single"][key], rel=1e-4,
                                                         abs=1e-5), (kl_weight, key)
    assert local["mirrored"]["replicas"] == 2
    for key in ("loss", "weights"):
        assert local["mirrored"][key] == pytest.approx(local["single"][key], rel=1e-4), key


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "must be a positive integer"),
    (["--batch-size", "-3"], "must be a positive integer"),
    (["--lr-size", "9:3"], "LOW <= HIGH"),
    (["--lr-size", "30"], "not smaller than the HR size 28"),
    (["--data", "nowhere.npz"], "nowhere.npz: no such file"),
])
def test_cli_train_bad_input(tmp_path, capsys, monkeypatch, small_npz, argv, message):
    monkeypatch.chdir(tmp_path)
    args = ["train", "local_cppn", "--data", str(small_npz), "--out", "run", *argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse rejects malformed values itself
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "history.csv").exists()


def test_cli_train_refuses_other_runs_folder_and_bad_folders(tmp_path, capsys, small_npz):
    (tmp_path / "empty").mkdir()
    assert main(["train", "local_cppn", "--data", str(tmp_path / "empty")]) == 2
    assert "no pictures" in capsys.readouterr().err
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text(json.dumps({"model": "vae_gan"}))
    assert main(["train", "local_cppn", "--data", str(small_npz), "--out",
                 str(tmp_path / "run")]) == 2
    assert "different configuration" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["train", "local_cppn", "--data", str(small_npz), "--out",
                 str(blocker / "run")]) == 2
    assert "sr-lib train: error" in capsys.readouterr().err


def _bad_npz(path):
    np.savez(path, x_train=np.zeros((10, 28), np.uint8), y_train=np.zeros(10, np.uint8),
             x_test=np.zeros((2, 28), np.uint8), y_test=np.zeros(2, np.uint8))


def _non_images(path):
    path.mkdir()
    (path / "a.png").write_bytes(b"not a png")
    (path / "b.jpg").write_text("nor a jpeg")


@pytest.mark.parametrize("make, name, message", [
    (_bad_npz, "wrong.npz", "wrong.npz"),
    (_non_images, "junk", "not a readable image"),
])
def test_cli_train_bad_data(tmp_path, capsys, make, name, message):
    make(tmp_path / name)
    code = main(["train", "cppn_gan", "--data", str(tmp_path / name), "--out",
                 str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "sr-lib train: error" in err and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing a rerun would trip over


def test_cli_train_cppn_gan(tmp_path, capsys, small_npz):
    run = tmp_path / "run"
    assert main(["train", "cppn_gan", "--data", str(small_npz), "--epochs", "1",
                 "--batch-size", "32", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "bicubic" in out and "cppn_gan" in out
    assert _epochs(run) == [0] and (run / "model.keras").exists()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_001.png"]


def test_non_finite_data_is_refused(tmp_path, digits):
    x, xt = digits
    bad = x[:32].astype("float32") / 255.0
    bad[3, 5, 5] = np.nan
    with pytest.raises(ValueError, match="x_train contains NaN"):
        recipes.train("local_cppn", tmp_path, x_train=bad, x_val=xt, epochs=1, **TINY)
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("name, kw", [("local_cppn", TINY), ("vae_gan", dict(latent_dim=8))])
def test_divergence_stops_at_once_and_keeps_the_good_epochs(tmp_path, digits, name, kw):
    """A NaN loss stops training at that batch with a clear error; the checkpoint and the best
    model still hold the last completed epoch, never the broken weights."""
    from sr_lib.training import TrainingDiverged

    x, xt = digits
    run = dict(x_train=x[:64], x_val=xt, epochs=3, batch_size=16, verbose=0, **kw)

    class Poison(keras.callbacks.Callback):  # the loss of epoch 2's second batch is NaN
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 1:
                logs["g_loss" if "g_loss" in logs else "loss"] = float("nan")

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    original = recipes.callbacks
    recipes.callbacks = lambda *a, **k: [Poison()] + original(*a, **k)
    try:
        with pytest.raises(TrainingDiverged, match="became nan at batch 2 of epoch 2.*1 completed"):
            recipes.train(name, tmp_path, **run)
    finally:
        recipes.callbacks = original
    assert _epochs(tmp_path) == [0] and (tmp_path / "model.keras").exists()


def test_cli_reports_divergence(tmp_path, capsys, monkeypatch, small_npz):
    class Poison(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            logs["loss"] = float("inf")

    original = recipes.callbacks
    monkeypatch.setattr(recipes, "callbacks", lambda *a, **k: [Poison()] + original(*a, **k))
    code = main(["train", "local_cppn", "--data", str(small_npz), "--limit", "16",
                 "--batch-size", "8", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and "sr-lib train: error: training diverged: loss became inf at batch 1" in err
    assert "Traceback" not in err


def test_checkpoint_truncated_by_a_kill_falls_back_to_the_previous_one(tmp_path, digits, crash_in_epoch):
    """A kill during the checkpoint's save leaves it truncated: the run resumes from the
    checkpoint before it (two are kept) and still ends with every epoch once."""
    x, xt = digits
    kw = dict(x_train=x[:32], x_val=xt, epochs=3, batch_size=16, verbose=0, **TINY)
    crash_in_epoch(tmp_path, 2, kw)
    latest = tmp_path / "backup" / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:100])  # what a kill mid-save leaves behind
    model, history, _ = recipes.train("local_cppn", tmp_path, **kw)
    assert history["epoch"] == [0.0, 1.0, 2.0] and (tmp_path / "model.keras").exists()


def test_both_checkpoints_damaged_is_one_clear_error(tmp_path, digits, crash_in_epoch):
    x, xt = digits
    kw = dict(x_train=x[:32], x_val=xt, epochs=3, batch_size=16, verbose=0, **TINY)
    crash_in_epoch(tmp_path, 2, kw)
    for path in (tmp_path / "backup").glob("*.h5*"):
        path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="backup: the run's checkpoint is damaged.*delete the run folder"):
        recipes.train("local_cppn", tmp_path, **kw)
