import csv

import numpy as np
import pytest

from sr_lib import recipes


@pytest.fixture(scope="module")
def digits():
    from sr_lib.data import load_mnist

    (x, _), (xt, _) = load_mnist()
    return x[:64], xt[:16]


def test_local_cppn_recipe_writes_a_run_folder(tmp_path, digits):
    x, xt = digits
    kw = dict(x_train=x, x_val=xt, epochs=2, batch_size=32, verbose=0, lr_sizes=range(13, 15),
              features=8, blocks=1,
              hidden=8, depth=2)
    model, history, wall = recipes.train_local_cppn(tmp_path, **kw)
    assert len(history["loss"]) == 2 and np.isfinite(history["val_loss"]).all() and wall > 0
    for name in ("model.keras", "history.csv", "run.json", "samples/epoch_002.png"):
        assert (tmp_path / name).exists(), name
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert model.upscale(np.zeros((1, 7, 7, 1), np.float32), (30, 30)).shape == (1, 30, 30, 1)
    # same folder, different configuration: refused before anything is touched
    with pytest.raises(ValueError, match="different configuration.*batch_size"):
        recipes.train_local_cppn(tmp_path, **{**kw, "batch_size": 16})
