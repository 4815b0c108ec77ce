"""Recipes: one training path per model, defaults stored once, validation from the training
split, no global side effects."""

import csv
import random

import numpy as np
import pytest

from sr_lib import recipes, registry

from conftest import TINY

pytestmark = pytest.mark.usefixtures("eager")  # graph mode: conftest.eager says where


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist[0][0][:80]


def test_local_cppn_recipe_writes_a_run_folder(tmp_path, digits):
    kw = dict(x_train=digits, epochs=2, batch_size=32, verbose=0, lr_sizes=range(13, 15), **TINY)
    model, history, wall = recipes.train("local_cppn", tmp_path, **kw)
    assert len(history["loss"]) == 2 and np.isfinite(history["val_loss"]).all() and wall > 0
    for name in ("model.keras", "history.csv", "run.json", "samples/epoch_002.png"):
        assert (tmp_path / name).exists(), name
    with open(tmp_path / "history.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]
    assert model.upscale(np.zeros((1, 7, 7, 1), np.float32), (30, 30)).shape == (1, 30, 30, 1)
    # same folder, different configuration: refused before anything is touched
    with pytest.raises(ValueError, match="different configuration.*batch_size"):
        recipes.train("local_cppn", tmp_path, **{**kw, "batch_size": 16})
    # same shape, other data: refused too (the run folder records a fingerprint of its data)
    with pytest.raises(ValueError, match="different configuration.*data"):
        recipes.train("local_cppn", tmp_path, **{**kw, "x_train": 255 - digits})


def test_recipe_defaults_are_stored_once_and_validation_is_held_back(tmp_path, digits):
    """What the notebook (recipes.train) and `sr-lib train` record: the recipe's defaults, and
    validation on the last tenth of the training images, never on test images."""
    recipes.train("local_cppn", tmp_path, x_train=digits, epochs=1, verbose=0, **TINY)
    spec = recipes.read_spec(tmp_path)
    defaults = registry.MODELS["local_cppn"].recipe
    assert spec["val_lr_size"] == defaults["val_lr_size"] == 14
    assert spec["lr_sizes"] == [7, 26] and spec["batch_size"] == defaults["batch_size"]
    assert spec["n_train"] == 72  # 80 - 8 held back
    assert spec["validation"] == recipes._fingerprint(digits[-8:])
    assert spec["data"] == recipes._fingerprint(digits[:-8])


def test_training_leaves_the_callers_random_state_alone(tmp_path, digits):
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    recipes.train("local_cppn", tmp_path, x_train=digits[:40], epochs=1, verbose=0, seed=5, **TINY)
    assert (random.random(), np.random.random()) == expected


def test_variants_and_their_default_folders():
    assert str(recipes.default_run_dir("vae_gan")) == "runs/vae_gan"
    assert str(recipes.default_run_dir("cppn_gan", residual=False, adv_weight=0.0)) == \
        "runs/cppn_gan_latent_no_adv"
    with pytest.raises(ValueError, match="GANs only"):
        recipes.train("local_cppn", "unused", x_train=np.zeros((20, 28, 28), np.uint8),
                      residual=False)
    with pytest.raises(ValueError, match="val_size"):
        recipes.train("local_cppn", "unused", x_train=np.zeros((20, 28, 28), np.uint8),
                      val_size=20)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr_sizes=range(7, 27)), "one fixed LR size"),
    (dict(lr_sizes=(14, 14)), "an int or a non-empty range"),
    (dict(lr_sizes=14, val_lr_size=26), "validates at its LR size 14"),
])
def test_gan_lr_sizes_are_checked_before_the_run_folder_is_made(tmp_path, digits, kwargs, message):
    with pytest.raises(ValueError, match=message):
        recipes.train("vae_gan", tmp_path / "run", x_train=digits, **kwargs)
    assert not (tmp_path / "run").exists()


def test_a_gan_trained_at_another_lr_size_validates_there(tmp_path, digits):
    model, history, _ = recipes.train("vae_gan", tmp_path, x_train=digits, lr_sizes=14, epochs=1,
                                      batch_size=32, verbose=0, latent_dim=4)
    assert recipes.read_spec(tmp_path)["val_lr_size"] == 14 and model.input_shape[1:3] == (14, 14)


def test_stages_train_in_turn_each_from_the_last_and_resume(tmp_path, digits, monkeypatch):
    """A recipe with ``stages``: stage 1 in ``out/stages/1``, the last in ``out`` itself, started
    from stage 1's weights (a deeper encoder grown from them); overrides but ``epochs`` reach
    every stage; a rerun trains nothing again; an unstaged run folder is refused at once."""
    import dataclasses

    base = registry.MODELS["local_cppn"]
    recipe = dict(base.recipe, epochs=1, batch_size=32, architecture=TINY,
                  stages=(dict(lr_sizes=14), dict(learning_rate=1e-4,
                                                  architecture=dict(TINY, blocks=2))))
    monkeypatch.setitem(registry.MODELS, "staged", dataclasses.replace(base, recipe=recipe))
    run = tmp_path / "run"
    model, history, _ = recipes.train("staged", run, x_train=digits, verbose=0, batch_size=16)
    first = run / "stages" / "1"
    assert recipes.stage_folders("staged", run) == [first, run]
    spec1, spec = recipes.read_spec(first), recipes.read_spec(run)
    assert spec1["lr_sizes"] == [14, 14] and "init" not in spec1 and spec1["batch_size"] == 16
    assert spec["init"] == "stages/1/model.keras" and spec["learning_rate"] == 1e-4
    assert "stages" not in spec and model.blocks == 2 and len(history["epoch"]) == 1
    stamp = {p: p.stat().st_mtime_ns for p in (first / "model.keras", run / "model.keras")}
    recipes.train("staged", run, x_train=digits, verbose=0, batch_size=16)  # loaded, not retrained
    assert stamp == {p: p.stat().st_mtime_ns for p in stamp}
    single = tmp_path / "single"  # a run of the unstaged recipe in the same folder
    recipes.train("local_cppn", single, x_train=digits[:40], epochs=1, verbose=0, **TINY)
    with pytest.raises(ValueError, match="made without staged's 2 stages"):
        recipes.train("staged", single, x_train=digits, verbose=0)
    assert not (single / "stages").exists()
    # the notebooks' training record of a staged run: both stages, their epochs and time summed
    from sr_lib.notebook import train_or_load

    _, records, folders = train_or_load("staged", {"s": ("s", {"verbose": 0})}, train=True,
                                        x_train=digits, runs=tmp_path / "nb")
    record = records["s"]
    assert [r["epochs"] for r in record["stages"]] == [1, 1] and record["epochs"] == 2
    assert record["wall_s"] == pytest.approx(sum(r["wall_s"] for r in record["stages"]), abs=0.2)
    assert record["history"] == record["stages"][-1]["history"] and folders["s"] == tmp_path / "nb" / "s"
