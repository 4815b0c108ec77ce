"""Fixtures shared by the test modules."""

import pytest

from sr_lib import recipes


@pytest.fixture
def crash_in_epoch():
    """``crash(out_dir, epoch, kw, model="local_cppn")``: ``recipes.train`` killed at the start of
    ``epoch`` (a callback raises), as an interrupted run leaves its folder."""
    import keras

    def crash(out_dir, epoch, kw, model="local_cppn"):
        class Crash(keras.callbacks.Callback):
            def on_epoch_begin(self, e, logs=None):
                if e == epoch:
                    raise RuntimeError("simulated kill")

        original = recipes.callbacks
        recipes.callbacks = lambda *a, **k: original(*a, **k) + [Crash()]
        try:
            with pytest.raises(RuntimeError, match="simulated kill"):
                recipes.train(model, out_dir, **kw)
        finally:
            recipes.callbacks = original

    return crash
