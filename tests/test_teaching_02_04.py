"""Notebooks 02 and 04 teach by building (issue 22): a from-scratch implementation checked with
``assert_allclose``, the equations, a live training cell, exercises with checks and collapsed
solutions, a widget with a static figure beside it, links through the series, and markdown whose
numbers are arithmetic, configuration or the committed JSON. Reads the .ipynb JSON only."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import NOTEBOOKS
from conftest import nb_cells as cells, nb_code as code, nb_markdown as markdown
from conftest import nb_source as source

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "readme_assets"
NB02, NB04 = "02_cppn.ipynb", "04_local_cppn_sr.ipynb"


def solutions(name):
    """The python blocks inside the collapsed solution blocks."""
    blocks = re.findall(r"<details><summary>Solution</summary>(.*?)</details>", markdown(name), re.S)
    return [re.findall(r"```python\n(.*?)```", b, re.S) for b in blocks]


@pytest.mark.parametrize("name", [NB02, NB04])
def test_builds_the_core_idea_and_checks_it_against_sr_lib(name):
    scratch = [c for c in code(name) if re.search(r"^def \w+\(", c, re.M)
               and "np.testing.assert_allclose" in c]
    assert scratch, "no cell both defines the method and checks it with assert_allclose"
    body = max(scratch, key=len)
    lines = [line for line in body.splitlines() if line.strip()]
    assert 30 <= len(lines) <= 70, len(lines)
    assert "$$" in markdown(name)


def test_02_implements_grid_latent_broadcast_layers_and_squash():
    body = next(c for c in code(NB02) if "def cppn_forward" in c)
    for piece in ("def pixel_grid", "per_image", "tf.sigmoid", "coords.grid", "render(bw"):
        assert piece in body, piece
    assert r"W_z" in markdown(NB02) and r"\sigma" in markdown(NB02)


def test_04_implements_neighbours_and_area_blend_on_the_bundled_weights():
    body = next(c for c in code(NB04) if "def four_neighbours" in c)
    for piece in ("def decode", "area[::-1]", "ensemble_neighbours", "model.coord_proj",
                  "sr_lib.upscale(lr, size, model=model)"):
        assert piece in body, piece
    assert r"A_{\bar k}" in markdown(NB04)


@pytest.mark.parametrize("name,call", [(NB02, "fit.fit("), (NB04, "sr_lib.train(")])
def test_trains_live_in_the_default_run(name, call):
    cell = next(c for c in code(name) if call in c)
    assert "if TRAIN" not in cell
    if name == NB04:  # the run folder is temporary, never inside the repository
        assert "tempfile.mkdtemp" in cell


@pytest.mark.parametrize("name", [NB02, NB04])
def test_exercises_have_answer_cells_checks_and_collapsed_solutions(name):
    found = solutions(name)
    assert 2 <= len(found) <= 3 and all(found)
    answers = [c for c in code(name) if "YOUR ANSWER" in c]
    checks = [c for c in code(name) if "not answered yet" in c]
    assert len(answers) == len(checks) == len(found)
    for cell in cells(name):  # Run All with the placeholders says so, and raises nothing
        if cell["cell_type"] == "code" and "not answered yet" in source(cell):
            printed = "".join("".join(o.get("text", "")) for o in cell["outputs"])
            assert "not answered yet" in printed


@pytest.mark.parametrize("name", [NB02, NB04])
def test_widget_cell_has_a_static_figure_and_a_direct_call_beside_it(name):
    nb = cells(name)
    ignored = [i for i, c in enumerate(nb) if source(c).startswith("# NBVAL_IGNORE_OUTPUT")]
    assert len(ignored) == 1, "only the widget cell may skip nbval's comparison"
    i = ignored[0]
    assert "widgets.interact(" in source(nb[i])
    after = nb[i + 1]
    callback = re.search(r"widgets\.interact\((\w+)", source(nb[i])).group(1)
    defined = next(source(c) for c in nb if f"def {callback}(" in source(c))
    body = defined.split(f"def {callback}(", 1)[1].split("\ndef ", 1)[0]
    called = {callback} | set(re.findall(r"(\w+)\(", body))  # it or what it calls
    assert after["cell_type"] == "code" and any(f"{name}(" in source(after) for name in called
                                                if f"def {name}(" in defined)
    assert any("image/png" in o.get("data", {}) for o in after["outputs"])


@pytest.mark.parametrize("name,previous,following", [(NB02, "01_vae_gan_sr.ipynb", "03_cppn_gan_sr.ipynb"),
                                                     (NB04, "03_cppn_gan_sr.ipynb", "05_photos.ipynb")])
def test_opens_with_the_question_and_links_and_ends_with_the_answer(name, previous, following):
    first = source(cells(name)[0])
    assert "**The question.**" in first
    for target in (previous, following):
        assert f"]({target})" in first and (NOTEBOOKS / target).exists()
    assert "## The answer" in markdown(name)


@pytest.mark.parametrize("name", [NB02, NB04])
def test_sections_are_numbered_once_and_in_order(name):
    numbers = [int(n) for n in re.findall(r"^## (\d+)\.", markdown(name), re.M)]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("name", [NB02, NB04])
def test_no_stderr_or_errors_in_the_committed_outputs(name):
    for i, cell in enumerate(cells(name)):
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr" and output["output_type"] != "error", i


@pytest.mark.parametrize("name,stale", [
    (NB02, ["includes compiling)", "1.5 CPU-seconds", "well under 1 GB"]),
    (NB04, ["4–5 s", "hundreds of", "29.4 dB", "## 7. Conclusion", "52.3 min", "pilot", "first run"]),
])
def test_contradicted_or_historical_text_is_gone(name, stale):
    text = markdown(name)
    for phrase in stale:
        assert phrase not in text, phrase


def test_02_markdown_numbers_are_arithmetic_or_configuration():
    text = markdown(NB02)
    # the grey CPPN of the notebook: latent 8, width 32, depth 4, one channel
    k, h, depth, c = 8, 32, 4, 1
    params = (3 + k) * h + h + (depth - 1) * (h * h + h) + h * c + c
    assert f"{params:,}" in text
    namespace = {}
    exec(solutions(NB02)[0][0], namespace)  # exercise 1's solution is that formula
    assert namespace["n_params"](k, h, depth, c) == params
    assert "3.24 million" in text and round(1800**2 / 1e6, 2) == 3.24
    assert "3.23 million" in text and round((1800**2 - 100**2) / 1e6, 2) == 3.23
    rendering = (ROOT / "sr_lib" / "rendering.py").read_text()
    assert re.search(r"^DEFAULT_CHUNK = 2\*\*17", rendering, re.M) and "131,072" in text
    assert re.search(r"^BLOCK = 4096", rendering, re.M) and "4,096" in text
    bench = json.loads((ASSETS / "cppn_bench.json").read_text())
    sizes = {(r["size"], r["channels"], r["dtype"]) for r in bench["renders"]}
    assert {(1800, 1, "uint8"), (4096, 3, "uint8")} <= sizes  # what the answer cell reads


def test_04_markdown_numbers_are_arithmetic_configuration_or_the_json():
    text = markdown(NB04)
    results = json.loads((ASSETS / "04_results.json").read_text())
    assert "for 7 epochs" in text and results["training"]["local CPPN"]["epochs"] == 7
    assert "10,000 MNIST" in text and {r["n"] for r in results["rows"]} == {10000}
    assert "×1.08" in text and round(28 / 26, 2) == 1.08
    # exercise 1, recomputed: output pixel (row 9, col 20) of 28x28 from 7x7
    u = (-1 + 41 / 28 + 1) * 7 / 2 - 0.5
    v = (-1 + 19 / 28 + 1) * 7 / 2 - 0.5
    assert (u, v) == (4.625, 1.875) and "4.625" in text and "1.875" in text
    fx, fy = u - 4, v - 1
    areas = {"tl": fx * fy, "tr": (1 - fx) * fy, "bl": fx * (1 - fy), "br": (1 - fx) * (1 - fy)}
    weights = [areas["br"], areas["bl"], areas["tr"], areas["tl"]]  # each takes the opposite area
    namespace = {"np": np}
    exec(solutions(NB04)[0][0], namespace)
    assert namespace["cells_rc"] == [(1, 4), (1, 5), (2, 4), (2, 5)]
    np.testing.assert_allclose(namespace["weights"], weights)
    for value in weights + list(areas.values()):
        assert f"{value:g}" in text
    # the answer cell reads notebook 03's consistency and the speed benchmark from the JSON
    nb03 = json.loads((ASSETS / "03_results.json").read_text())
    assert "residual" in nb03["lr_consistency_psnr_100"]
    bench = json.loads((ASSETS / "local_cppn_bench.json").read_text())
    workloads = {w["workload"] for w in bench["workloads"]}
    assert "render 1800x1800 from 26x26" in workloads
    assert all(f"10k digits {lr} -> 28{tail}" in workloads for lr in (26, 14, 7) for tail in ("", ", bicubic"))
