"""The public surface: one upscaler contract for every kind of model, a discoverable top level,
no side effects on import, and the notebook helpers."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import sr_lib
from conftest import tiny_model
from sr_lib.upscalers import Upscaler, get_upscaler

NEEDED = ("upscale", "get_upscaler", "load_pretrained", "evaluate", "train", "render", "degrade",
          "load_mnist", "build_local_cppn", "build_cppn", "build_vae_gan_generator",
          "build_cppn_gan_generator", "Sampling")


def test_top_level_lists_and_resolves_what_a_notebook_needs():
    listed = dir(sr_lib)
    for name in NEEDED:
        assert name in listed and name in sr_lib.__all__
        assert getattr(sr_lib, name) is not None
    with pytest.raises(AttributeError):
        sr_lib.no_such_thing  # noqa: B018


def test_import_changes_nothing_in_the_process():
    code = ("import os, random, json; env = dict(os.environ); state = random.getstate(); "
            "import sr_lib; sr_lib.upscale; sr_lib.train; "
            "print(json.dumps([dict(os.environ) == env, random.getstate() == state]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, True]


def test_render_threads_follow_the_usable_cores_and_can_be_released(monkeypatch):
    import os

    from sr_lib import rendering

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 5})  # 3 of the machine's
    model = sr_lib.build_cppn(2, hidden=4, depth=2, seed=0)
    sr_lib.render(model, np.zeros(2, np.float32), (256, 256), chunk=8192)  # 8 chunks
    assert rendering._POOL["pool"]._max_workers == 3
    rendering.release_threads()
    assert "pool" not in rendering._POOL


@pytest.fixture(scope="module")
def tiny_models():
    return {"local": tiny_model("local_cppn"), "fixed": tiny_model("vae_gan")}


def test_every_kind_of_model_is_one_upscaler(tmp_path, tiny_models):
    tiny_models["local"].save(tmp_path / "model.keras")
    kinds = {"name": get_upscaler("bilinear"), "model": get_upscaler(tiny_models["local"]),
             "path": get_upscaler(tmp_path / "model.keras"),
             "callable": get_upscaler(lambda lr, size: np.zeros((len(lr), *size, 1)))}
    digit = (np.random.default_rng(0).random((6, 6)) * 255).astype(np.uint8)
    for kind, up in kinds.items():
        assert isinstance(up, Upscaler) and get_upscaler(up) is up
        one = up(digit, 12)
        assert one.shape == (12, 12) and one.dtype == np.float32, kind
        batch = up(digit[None, ..., None], (12, 18))
        assert batch.shape == (1, 12, 18, 1) and batch.dtype == np.float32, kind
        np.testing.assert_allclose(up(digit, scale=2), one, atol=1e-6)
        np.testing.assert_allclose(up(digit.astype(np.float32) / 255, 12), one, atol=1e-6)
    np.testing.assert_allclose(kinds["path"](digit, 12), kinds["model"](digit, 12), atol=1e-6)
    fixed = get_upscaler(tiny_models["fixed"])
    assert (fixed.lr_size, fixed.hr_size) == ((6, 6), (8, 8)) and fixed(digit).shape == (8, 8)


@pytest.mark.parametrize("call, message", [
    (lambda up, x: up(x, 12, scale=2), "not both"),
    (lambda up, x: up(x), "needs an output size or a scale"),
    (lambda up, x: up(x, scale=float("nan")), "positive finite"),
    (lambda up, x: up(x, scale=float("inf")), "positive finite"),
    (lambda up, x: up(x, scale=-1), "positive finite"),
    (lambda up, x: up(x, "12"), "positive int or"),
    (lambda up, x: up(x, (12, 0)), "positive int or"),
    (lambda up, x: up(x, 100_000), "pixels"),
    (lambda up, x: up(np.zeros((6, 6, 5)), 12), "5 channels"),
    (lambda up, x: up(x * 255.0, 12), "must lie in \\[0, 1\\]"),
    (lambda up, x: up(np.full((6, 6), np.nan), 12), "NaN"),
    (lambda up, x: up(x.astype(np.int32), 12), "uint8 or float"),
    (lambda up, x: up(np.zeros((1, 2, 6, 6, 1)), 12), "one image"),
])
def test_bad_input_is_one_clear_value_error(call, message):
    x = np.random.default_rng(0).random((6, 6)).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        call(get_upscaler("bicubic"), x)


def test_fixed_size_and_channel_rules(tiny_models):
    fixed = get_upscaler(tiny_models["fixed"])
    with pytest.raises(ValueError, match="takes 6x6 inputs"):
        fixed(np.zeros((7, 7)), 8)
    with pytest.raises(ValueError, match="only"):
        fixed(np.zeros((6, 6)), 9)
    with pytest.raises(ValueError, match="takes 1"):
        get_upscaler(tiny_models["local"])(np.zeros((6, 6, 3)), 12)
    with pytest.raises(ValueError, match="unknown model"):
        get_upscaler("nope")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(shape=st.sampled_from([(5, 7), (5, 7, 1), (5, 7, 3), (2, 5, 7, 1), (2, 5, 7, 3), (5, 7, 2),
                              (0, 5, 7, 1), (5,), (1, 1, 5, 7, 1)]),
       dtype=st.sampled_from([np.uint8, np.float32, np.float64, np.int64]),
       size=st.one_of(st.integers(-2, 20), st.tuples(st.integers(0, 20), st.integers(1, 20))),
       scale=st.one_of(st.none(), st.floats(-1, 4), st.sampled_from([float("nan"), float("inf")])))
def test_upscale_result_or_value_error(shape, dtype, size, scale):
    """Any input either comes back in the input's form at the asked size, or is refused."""
    x = (np.random.default_rng(1).random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype)
    try:
        out = sr_lib.upscale(x, None if scale is not None else size, scale=scale, model="bilinear")
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("ValueError")
        return
    event("upscaled")
    in_hw = shape[-3:-1] if len(shape) == 4 or (len(shape) == 3 and shape[-1] in (1, 3)) else shape
    expected = (tuple(max(1, round(s * scale)) for s in in_hw) if scale is not None
                else (size, size) if isinstance(size, int) else size)
    assert out.dtype == np.float32
    assert out.shape == {4: (shape[0], *expected, shape[-1]), 3: (*expected, shape[-1]),
                         2: tuple(expected)}[len(shape)]


def test_notebook_switches_and_result_checks(tmp_path, monkeypatch, capsys):
    from sr_lib.notebook import check_results, switch

    monkeypatch.setenv("SR_LIB_TRAIN", "1")
    assert switch("TRAIN") is True and switch("EXPORT") is False
    monkeypatch.setenv("SR_LIB_TRAIN", "maybe")
    with pytest.raises(ValueError, match="SR_LIB_TRAIN"):
        switch("TRAIN")
    committed = tmp_path / "r.json"
    row = {"method": "m", "lr_size": 26, "n": 1, "psnr": 30.0, "ssim": 0.9, "images_per_s": 1.0}
    committed.write_text(json.dumps({"rows": [row]}))
    check_results([{**row, "psnr": 30.015}], committed)
    assert "all 1 rows match" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="PSNR 30.030 vs 30.000"):
        check_results([{**row, "psnr": 30.03}], committed)
    with pytest.raises(AssertionError, match="SSIM"):
        check_results([{**row, "ssim": 0.902}], committed)
    check_results([{**row, "psnr": 31.0}], committed, strict=False)
    assert "1 of 1 rows differ" in capsys.readouterr().out


@pytest.mark.usefixtures("eager")
def test_notebook_train_switch_trains_with_the_recipe_and_exports(tmp_path, monkeypatch):
    """What a notebook does with TRAIN = True and EXPORT = True, on a tiny model: the recipe
    call into runs/notebooks/NAME, then results and weights copied out only on export."""
    from sr_lib import notebook, recipes, registry

    monkeypatch.setattr(notebook, "MODELS", tmp_path / "models")
    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setattr(notebook, "ROOT", tmp_path)
    x = sr_lib.load_mnist()[0][0][:40]
    variants = {"tiny": ("tiny_cppn", dict(epochs=1, features=4, blocks=1, hidden=4, depth=2))}
    models, records, runs = notebook.train_or_load("local_cppn", variants, train=True, x_train=x,
                                                   runs=tmp_path / "runs")
    assert runs["tiny"] == tmp_path / "runs" / "tiny_cppn"
    assert recipes.read_spec(runs["tiny"])["val_lr_size"] == registry.MODELS["local_cppn"].recipe["val_lr_size"]
    assert records["tiny"]["epochs"] == 1 and "val_loss" in records["tiny"]["history"]
    assert not (tmp_path / "models").exists()  # nothing leaves the run folder without EXPORT
    notebook.export({"rows": [], "training": records}, tmp_path / "r.json",
                    trained={"tiny_cppn": runs["tiny"]}, discriminators=("tiny_cppn",))
    import io
    import zipfile

    import h5py

    def groups(path):
        with zipfile.ZipFile(path) as z:
            return set(h5py.File(io.BytesIO(z.read("model.weights.h5"))))

    assert "optimizer" in groups(runs["tiny"] / "model.keras")  # the run keeps it, to resume
    assert "optimizer" not in groups(tmp_path / "models" / "tiny_cppn.keras")
    loaded, again, _ = notebook.train_or_load("local_cppn", variants, train=False,
                                              results=tmp_path / "r.json")
    assert again == json.loads(json.dumps(records))


def test_bundled_files_hold_inference_weights_only():
    import io
    import zipfile

    import h5py

    from sr_lib.paths import MODELS_DIR

    for path in MODELS_DIR.rglob("*.keras"):
        with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5"))) as h:
            assert "optimizer" not in h, path.name
