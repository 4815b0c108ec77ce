"""The model registry: every entry builds, round-trips and trains as the recipes say; the bundled
weights' recorded parameter counts and headline results are true; nothing outside the registry
branches on a model's name."""

import ast
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import tiny_model
from sr_lib import registry
from sr_lib.paths import REPO

ROOT = Path(registry.__file__).parent


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_every_entry_builds_a_tiny_model_that_round_trips(name, tmp_path):
    model = tiny_model(name)
    x = np.random.default_rng(0).random((2, 6, 6, 1), np.float32)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_entries_are_complete_and_consistent():
    for name, e in registry.MODELS.items():
        assert e.trainer in ("fit", "srgan") and e.data in ("digits", "photos"), name
        assert e.description and e.trained_on and e.headline, name
        assert (e.trainer == "srgan") == ("adv_weight" in e.recipe), name
        assert (e.data == "photos") == ("patch" in e.recipe), name
    assert set(registry.DEFAULT) == {"digits", "photos"}
    assert set(registry.DEFAULT.values()) <= set(registry.MODELS)
    with pytest.raises(ValueError, match="unknown model 'magic'; choose from local_cppn"):
        registry.entry("magic")


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_bundled_weights_have_the_recorded_parameter_count(name):
    if name not in registry.bundled():
        pytest.skip(f"{name}.keras is not installed")
    assert registry.load_pretrained(name).count_params() == registry.MODELS[name].params


def _headline_numbers(name):
    """The numbers each headline quotes, measured from the committed results."""
    assets = REPO / "readme_assets"
    if registry.MODELS[name].data == "digits":
        notebook = {"local_cppn": "04", "vae_gan": "03", "cppn_gan": "03"}[name]
        rows = json.loads((assets / f"{notebook}_results.json").read_text())["rows"]
        method = {"cppn_gan": "cppn_gan residual"}.get(name, name)
        return [r["psnr"] for r in rows if r["method"] == method]
    if name == "photo_clean":
        gains = json.loads((assets / "05_protocol.json").read_text())["sets"]["photographs"]
        return list(gains["gain_db"][name].values())
    table = json.loads((assets / "05_robust.json").read_text())["table"][name]["bicubic"]
    return [v["mean"] for v in table.values()]


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_headlines_quote_the_committed_results(name):
    quoted = [float(v) for v in re.findall(r"[+-]?\d+\.\d+", registry.MODELS[name].headline)]
    measured = [round(v, 2) for v in _headline_numbers(name)]
    assert quoted and all(q in measured for q in quoted), (name, quoted, measured)


def _name_comparisons(source, names):
    """``(line, name)`` of every comparison of a string literal in ``names`` (``==``, ``!=``,
    ``in``/``not in`` a literal collection) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for part in [node.left, *node.comparators]:
                literals = part.elts if isinstance(part, (ast.Tuple, ast.List, ast.Set)) else [part]
                for lit in literals:
                    if isinstance(lit, ast.Constant) and lit.value in names:
                        found.append((node.lineno, lit.value))
    return found


def test_no_code_outside_the_registry_branches_on_a_model_name():
    names = set(registry.MODELS)
    hits = {str(p.relative_to(ROOT)): _name_comparisons(p.read_text(), names)
            for p in ROOT.rglob("*.py") if p.name != "registry.py"}
    assert {f: h for f, h in hits.items() if h} == {}
    assert _name_comparisons('if spec["model"] == "vae_gan": pass', names) == [(1, "vae_gan")]
    assert _name_comparisons('ok = m in ("photo", "x")', names) == [(1, "photo")]


def test_the_readme_recipe_for_adding_a_model_registers_one(monkeypatch):
    """README "Adding a model": its entry, as written, is all the CLI needs to offer the model."""
    from sr_lib.cli import build_parser

    section = (REPO / "README.md").read_text().split("## Adding a model", 1)[1]
    snippet = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    monkeypatch.setattr(registry, "MODELS", dict(registry.MODELS))
    exec(snippet, vars(registry).copy() | {"MODELS": registry.MODELS})
    assert registry.entry("my_net").trainer == "fit"
    monkeypatch.setattr("sr_lib.cli.MODELS", registry.MODELS)
    assert build_parser().parse_args(["train", "my_net"]).model == "my_net"
