"""`--strategy multiworker`: two worker processes on this machine (TF_CONFIG on free localhost
ports) train local_cppn with `sr-lib train` and the VAE-GAN with `recipes.train`. Both workers must
end with the same weights, equal to one process training on the same global batches.

The one-process references use a one-replica `MirroredStrategy`, not the default strategy: under
any `tf.distribute` strategy Keras 3's `fit` first draws a batch from a fresh iterator to build the
model; that advances the per-iteration reshuffle of `data.pairs`, so the default strategy's first
epoch sees the images in another order (it equals the one-replica run if the dataset is iterated
once before `fit`)."""

import json
import signal
import os
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

import sr_lib.models  # noqa: F401 (registers the layers of saved models)
from conftest import write_npz
from sr_lib import runtime
from sr_lib.cli import main
from sr_lib.data import load_mnist

TIMEOUT = 240  # seconds for a group of processes: a hang fails the test instead of blocking CI
# one thread each (2 workers share 2 cores), CPU only (a GPU would change the replica count)
ENV = {**os.environ, "TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
       "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
ENV.pop("TF_CONFIG", None)


def tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"localhost:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def run_together(commands, cluster=True, alone=()):
    """Run ``commands`` at once (with ``cluster``, as the workers of one TF_CONFIG cluster on free
    localhost ports) and ``alone`` beside them, outside the cluster; fail if one fails or all have
    not finished within TIMEOUT; the (stdout, stderr)s of ``commands``."""
    ports = free_ports(len(commands))
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**ENV, "TF_CONFIG": tf_config(ports, i)} if cluster else ENV)
             for i, cmd in enumerate(commands)]
    procs += [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=ENV) for cmd in alone]
    deadline, outs = time.time() + TIMEOUT, []
    try:
        for proc in procs:
            outs.append(proc.communicate(timeout=max(1, deadline - time.time())))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for proc, (_, err) in zip(procs, outs):
        assert proc.returncode == 0 and "Traceback" not in err, err[-3000:]
    return outs[:len(commands)]


def weights(*paths):
    return [w for path in paths for w in keras.saving.load_model(path).get_weights()]


def max_difference(a, b):
    assert [w.shape for w in a] == [w.shape for w in b]
    return max(float(np.abs(u - v).max()) for u, v in zip(a, b))


@pytest.fixture(scope="module")
def data_npz(tmp_path_factory):
    """80 training images (72 for training, 8 held back: batches of 24 split evenly over two
    workers) and 17 test images (which do not)."""
    (x, _), (xt, _) = load_mnist()
    return write_npz(tmp_path_factory.mktemp("data") / "mw.npz", x[:80], xt[:17])


def test_cli_two_workers_train_local_cppn_like_one_process(tmp_path, data_npz):
    def train(out, strategy):
        return [sys.executable, "-m", "sr_lib.cli", "train", "local_cppn", "--data", str(data_npz),
                "--epochs", "1", "--batch-size", "24", "--lr-size", "10:14", "--strategy", strategy,
                "--out", str(out)]

    shared, one = tmp_path / "shared", tmp_path / "one"  # the one process runs beside them
    for out, err in run_together([train(shared, "multiworker")] * 2,
                                 alone=[train(one, "mirrored")]):
        assert "bicubic" in out  # each worker evaluated its result
        assert "log messages before absl" not in err, err[-3000:]  # TensorFlow's start-up lines
    # the chief writes the run folder; worker 1 its own folder inside it; nothing in common
    for folder in (shared, shared / "worker_1"):
        assert {"model.keras", "history.csv", "run.json", "result.json", "evaluation.json",
                "samples", "tensorboard"} <= {p.name for p in folder.iterdir()}
        assert not (folder / "backup").exists()  # removed once the run completed
    assert {p.name for p in shared.iterdir()} == {p.name for p in one.iterdir()} | {"worker_1"}
    chief, worker, single = (weights(f / "model.keras") for f in (shared, shared / "worker_1", one))
    print(f"local_cppn: workers differ by {max_difference(chief, worker):.3g}, "
          f"from one process by {max_difference(chief, single):.3g}")
    assert max_difference(chief, worker) <= 1e-6
    # float32 rounding of all-reduced half-batch gradients against one process's whole batch:
    # 1.69e-5 measured with TF 2.21 after the run (weights ~0.1; a wrong share gives ~1e-3)
    assert max_difference(chief, single) <= 5e-5
    assert (shared / "history.csv").read_text() == (shared / "worker_1" / "history.csv").read_text()


GAN_WORKER = textwrap.dedent("""
    import json, sys
    import keras, numpy as np
    from sr_lib import recipes, runtime
    from sr_lib.data import load_mnist

    out, strategy, seed, variants = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    (x, _), _ = load_mnist(splits=("train",))
    replicas = []
    for variant in variants:  # "noise": as trained, on 95 images and 17 held back (neither
        # splits over two workers: the recipe drops the last, short batch and cuts validation to
        # a multiple of the replicas); "noiseless": no sampling noise, no dropout, 96 and 16
        if variant == "noiseless":
            keras.random.normal = lambda shape, *args, **kwargs: keras.ops.zeros(shape)
            keras.layers.Dropout.call = lambda self, inputs, training=False: inputs
        run = f"{out}/{variant}"
        odd = variant == "noise"
        recipes.train("vae_gan", run, x_train=x[:95 if odd else 96], x_val=x[-17 if odd else -16:],
                      epochs=1, batch_size=32, latent_dim=8, seed=seed, strategy=strategy,
                      verbose=0)
        replicas.append(runtime.get_strategy(strategy).num_replicas_in_sync)
    print(json.dumps(replicas))
""")


def test_two_workers_train_the_vae_gan_like_one_process(tmp_path):
    """Both workers end equal, with noise (and training and validation sets that do not split
    evenly over them) and without; without noise they also equal one process on the same global
    batches."""
    def train(out, strategy, *variants):
        return [sys.executable, "-c", GAN_WORKER, str(out), strategy, "0", *variants]

    shared, one = tmp_path / "shared", tmp_path / "one"
    outs = run_together([train(shared, "multiworker", "noise", "noiseless")] * 2,
                        alone=[train(one, "mirrored", "noiseless")])  # the one process, beside
    assert [json.loads(out.splitlines()[-1]) for out, _ in outs] == [[2, 2]] * 2  # distributed

    def gan(folder):  # generator and discriminator of the (only, so last) epoch
        return weights(folder / "model.keras", folder / "discriminator.keras")

    for variant in ("noise", "noiseless"):
        chief, worker = gan(shared / variant), gan(shared / variant / "worker_1")
        print(f"vae_gan ({variant}): workers differ by {max_difference(chief, worker):.3g}")
        assert max_difference(chief, worker) <= 1e-6
    # Each worker draws the same sampling noise and dropout masks for its half of the batch (the
    # seed generators are mirrored), one process draws them for the whole batch: only without
    # noise can the weights be compared.
    chief, single = gan(shared / "noiseless"), gan(one / "noiseless")
    print(f"vae_gan (noiseless): from one process by {max_difference(chief, single):.3g}")
    assert max_difference(chief, single) <= 1e-5


def test_cli_multiworker_needs_tf_config(tmp_path, capsys, monkeypatch, data_npz):
    argv = ["train", "local_cppn", "--data", str(data_npz), "--strategy", "multiworker",
            "--out", str(tmp_path / "run")]
    for value in (None, "{not json", '{"cluster": {"worker": ["localhost:1"]}}',
                  '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 1}}'):
        if value is None:
            monkeypatch.delenv("TF_CONFIG", raising=False)
        else:
            monkeypatch.setenv("TF_CONFIG", value)
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "needs $TF_CONFIG" in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "run").exists()


def test_worker_dir(monkeypatch):
    def folder(cluster, kind, index):
        task = {"type": kind, "index": index}
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
        return runtime.worker_dir("out", "multiworker").as_posix()

    workers = {"worker": ["a:1", "b:1"]}
    assert folder(workers, "worker", 0) == "out" and folder(workers, "worker", 1) == "out/worker_1"
    with_chief = {"chief": ["c:1"], **workers}
    assert folder(with_chief, "chief", 0) == "out"
    assert folder(with_chief, "worker", 0) == "out/worker_0"
    assert runtime.worker_dir("out").as_posix() == "out"  # other strategies: the folder itself


API_AFTER_TENSORFLOW = textwrap.dedent("""
    import sys
    import numpy as np, tensorflow as tf
    from sr_lib import recipes

    tf.constant(0.0)  # TensorFlow has started
    try:
        recipes.train("local_cppn", sys.argv[1], x_train=np.zeros((20, 28, 28), np.uint8),
                      strategy="multiworker")
    except ValueError as exc:
        print(exc)
""")


def test_api_refuses_multiworker_after_tensorflow_started(tmp_path):
    env = {**ENV, "TF_CONFIG": tf_config([1], 0)}
    proc = subprocess.run([sys.executable, "-c", API_AFTER_TENSORFLOW, str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "before TensorFlow runs anything" in lines[0], proc.stdout
    assert "fresh process" in lines[0] and not (tmp_path / "run").exists()


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.parametrize("config, message", [
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": true}}',
     "needs $TF_CONFIG (malformed)"),
    ('{"cluster": {"worker": "localhost:1"}, "task": {"type": "worker", "index": 0}}',
     "needs $TF_CONFIG (malformed)"),
    ('{"cluster": {"worker": ["localhost:notaport"]}, "task": {"type": "worker", "index": 0}}',
     "worker addresses must be \"host:port\", got 'localhost:notaport'"),
    ('{"cluster": {"worker": ["localhost:70000"]}, "task": {"type": "worker", "index": 0}}',
     "worker addresses must be"),
    ('[1, 2]', "needs $TF_CONFIG (malformed)"),
])
def test_malformed_tf_config_is_one_line(tmp_path, capsys, monkeypatch, data_npz, config,
                                         message):
    monkeypatch.setenv("TF_CONFIG", config)
    assert main(["train", "local_cppn", "--data", str(data_npz), "--strategy", "multiworker",
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def _sigint_as_at_a_terminal():
    """A job started in the background by a non-interactive shell (CI, nohup) inherits SIGINT
    ignored; give the worker the default, as Ctrl-C at a terminal would find it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _lone_worker(tmp_path, data_npz, ports, timeout):
    """One worker of a two-worker TF_CONFIG whose peer never starts; its stderr goes to a file."""
    log = open(tmp_path / "err.txt", "w")
    env = {**ENV, "TF_CONFIG": tf_config(ports, 0), "SR_LIB_PEER_TIMEOUT": str(timeout)}
    proc = subprocess.Popen([sys.executable, "-m", "sr_lib.cli", "train", "local_cppn", "--data",
                             str(data_npz), "--epochs", "1", "--strategy", "multiworker",
                             "--out", str(tmp_path / "run")], env=env, stdout=subprocess.DEVNULL,
                            stderr=log, preexec_fn=_sigint_as_at_a_terminal)
    return proc, tmp_path / "err.txt"


def test_a_missing_peer_ends_the_wait_with_one_line_naming_it(tmp_path, data_npz):
    ports = free_ports(2)
    proc, err = _lone_worker(tmp_path, data_npz, ports, timeout=4)
    try:
        assert proc.wait(timeout=TIMEOUT) == 2
    finally:
        proc.kill()
    last = err.read_text().strip().splitlines()[-1]
    assert f"worker 1 (localhost:{ports[1]}) did not join within 4 s" in last, last
    assert f"localhost:{ports[0]}" not in last  # the waiting worker itself is up


def test_sigterm_and_sigint_stop_a_waiting_worker(tmp_path, data_npz):
    """Two lone workers wait for their peers at once; one gets SIGTERM, the other SIGINT."""
    signals = {signal.SIGTERM: -signal.SIGTERM, signal.SIGINT: 130}  # and the exit status
    folders = {sig: tmp_path / sig.name for sig in signals}
    for folder in folders.values():
        folder.mkdir()
    ports = free_ports(4)  # two clusters of two that share no port
    procs = {sig: _lone_worker(folders[sig], data_npz, ports[2 * i:2 * i + 2], timeout=600)
             for i, sig in enumerate(signals)}
    try:
        deadline = time.time() + TIMEOUT
        for sig, (proc, err) in procs.items():
            while ("waiting up to 600 s for 1 other" not in err.read_text()
                   and time.time() < deadline):
                assert proc.poll() is None, err.read_text()[-2000:]
                time.sleep(0.5)
        time.sleep(2)  # inside the wait for its peer
        for sig, (proc, _) in procs.items():
            proc.send_signal(sig)
        for sig, (proc, err) in procs.items():
            assert proc.wait(timeout=30) == signals[sig], err.read_text()[-2000:]
    finally:
        for proc, _ in procs.values():
            proc.kill()
    assert procs[signal.SIGINT][1].read_text().strip().splitlines()[-1] == (
        "sr-lib train: interrupted")


def test_a_port_in_use_is_one_line(tmp_path, data_npz):
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**ENV, "TF_CONFIG": tf_config([port], 0)}
        proc = subprocess.run([sys.executable, "-m", "sr_lib.cli", "train", "local_cppn", "--data",
                               str(data_npz), "--strategy", "multiworker", "--out",
                               str(tmp_path / "run")], env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"address localhost:{port} cannot be used" in proc.stderr.strip().splitlines()[-1]
