"""Controlled runs for the robust photo model: train the bundled ``photo`` further under one
changed degradation mix, to tell a mix problem from a capacity one.

    python scripts/mix_probe.py NAME DIR [--epochs 3] [--blocks N] [--precision P] [--out RUN]

NAME picks a mix of :data:`MIXES` (``naive``: antialias-free bicubic only, the degradation the
robust model gains least on; ``rebalanced``: the robust mix with naive kernels weighted up and
less JPEG and noise). DIR is what ``sr-lib photos DIR`` wrote. The run starts from ``photo``'s
weights with its recipe otherwise unchanged and resumes from its run folder; score the result with
``python scripts/robust_protocol.py DIR/test_photographs --methods photo RUN/model.keras``.
``--blocks N`` (more than ``photo``'s 4) is the capacity probe: the added residual blocks start as
the identity (:meth:`LocalCPPN.grow_from`), so the run starts from ``photo``'s function and differs
from the same mix's run only in capacity. ``--precision float32`` on CPUs without native bfloat16.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from sr_lib import recipes, registry
from sr_lib.degradations import REBALANCED

MIXES = {"naive": dict(kernels=dict(bicubic_naive=1)), "rebalanced": REBALANCED}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=MIXES)
    parser.add_argument("dir", type=Path, help="what `sr-lib photos DIR` wrote")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--blocks", type=int, help="encoder blocks (photo has 4)")
    parser.add_argument("--precision", choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    photo = registry.MODELS["photo"]
    probe = f"probe_{args.name}" + (f"_{args.blocks}blocks" if args.blocks else "")
    recipe = dict(photo.recipe, degradations=MIXES[args.name], init="photo", epochs=args.epochs,
                  stages=None)  # one stage, from the bundled photo (both of its stages)
    if args.blocks:
        recipe["architecture"] = dict(recipe["architecture"], blocks=args.blocks)
    if args.precision:
        recipe["precision"] = args.precision
    registry.MODELS[probe] = dataclasses.replace(photo, recipe=recipe)
    from sr_lib.runtime import quiet_tensorflow

    quiet_tensorflow()
    _, history, wall = recipes.train(probe, args.out or Path("runs") / probe,
                                     x_train=args.dir / "train", x_val=args.dir / "val",
                                     verbose=2)
    print(f"{probe}: {len(history['epoch'])} epochs in {wall:.0f} s, val_loss "
          f"{[round(v, 5) for v in history['val_loss']]}")


if __name__ == "__main__":
    main()
