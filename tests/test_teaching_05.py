"""Notebook 05 and the series index teach by building (issue 22): the luma-PSNR protocol written
from scratch and checked with ``assert_allclose``, its equations, a live training cell, exercises
with checks and collapsed solutions, a widget with a static figure beside it, links through the
series, and markdown whose numbers are configuration or the committed JSON. Reads the .ipynb JSON
only (nbval executes the notebooks)."""

import json
import re
from pathlib import Path

import pytest

from conftest import nb_cells as cells, nb_code as code, nb_markdown as markdown
from conftest import nb_source as source

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "readme_assets"
NB05, INDEX = "05_photos.ipynb", "00_index.ipynb"


def test_05_writes_the_luma_psnr_protocol_and_checks_it_against_sr_lib():
    body = next(c for c in code(NB05) if "def psnr_luma" in c)
    for piece in ("def luma", "def shave", "65.481", "128.553", "24.966", "16.0", "math.ceil(scale)",
                  "np.testing.assert_allclose", "metrics.psnr(", "luma=True", "psnr_y(",
                  "metrics.photo_pairs"):
        assert piece in body, piece
    lines = [line for line in body.splitlines() if line.strip()]
    assert 30 <= len(lines) <= 60, len(lines)
    text = markdown(NB05)
    assert text.count("$$") >= 4  # the luma and the shaved MSE / PSNR, displayed
    assert r"\lceil" in text and r"\log_{10}" in text
    # the harness's table is also checked against the from-scratch metric
    assert any("np.testing.assert_allclose(row[\"psnr\"]" in c for c in code(NB05))


def test_05_luma_constants_match_sr_lib():
    import numpy as np

    from sr_lib.images import luma

    np.testing.assert_allclose(luma(np.zeros(3)) * 255, 16.0)
    np.testing.assert_allclose(luma(np.ones(3)) * 255, 235.0)


def test_05_trains_live_seeded_and_compares_with_the_bundled_models():
    body = next(c for c in code(NB05) if ".fit(" in c)
    for piece in ("keras.utils.set_random_seed(0)", "sr_lib.build_local_cppn(channels=3",
                  "sr_lib.pairs(", "epochs=2", "verbose=0", "photo_clean", "[192:]", "[:192]"):
        assert piece in body, piece
    assert "tempfile" not in body or "mkdtemp" in body  # nothing written into the repository


def test_05_has_a_widget_beside_a_static_figure_and_a_try_your_own_image_cell():
    sources = code(NB05)
    widget = [i for i, c in enumerate(sources) if "ipywidgets" in c]
    assert len(widget) == 1
    w = widget[0]
    assert sources[w].startswith("# NBVAL_IGNORE_OUTPUT\n")
    assert "compare(" in sources[w - 1] and "plots.show(fig)" in sources[w - 1]  # the static twin
    assert "def compare" in sources[w - 1]
    ignored = [c for c in sources if c.startswith("# NBVAL_IGNORE_OUTPUT")]
    assert ignored == [sources[w]]
    assert any(re.search(r"^MY_IMAGE = CROPS\[\d\]", c, re.M) for c in sources)


def test_05_exercises_have_answer_cells_checks_and_collapsed_solutions():
    text = markdown(NB05)
    assert len(re.findall(r"\*\*Exercise \d", text)) == 3
    assert text.count("<details><summary>Solution</summary>") == 3
    sources = code(NB05)
    for answer in ("beats_bicubic", "black_white", "cb_gain"):
        assert any(re.search(rf"^{answer} = None", c, re.M) for c in sources), answer
        check = next(c for c in sources if f"if {answer} is None" in c)
        assert "not answered yet" in check and "right" in check
    assert "random_degrade" in "\n".join(sources) and "blur_sigma=[1.5, 1.5]" in "\n".join(sources)


def test_05_answers_the_unanswered_checks_with_placeholders_in_the_outputs():
    outputs = "\n".join("".join(o.get("text", "")) for c in cells(NB05) if c["cell_type"] == "code"
                        for o in c["outputs"])
    assert outputs.count("not answered yet") == 3


def test_05_no_stderr_and_no_project_history():
    for c in cells(NB05) + cells(INDEX):
        if c["cell_type"] == "code":
            assert all(o.get("name") != "stderr" for o in c["outputs"]), source(c)[:80]
    text = markdown(NB05)
    for phrase in ("first reported", "700-step", "60% dropped", "82%", "lower the cap"):
        assert phrase not in text, phrase


def test_05_markdown_configuration_numbers_match_sr_lib():
    from sr_lib import registry
    from sr_lib.degradations import REBALANCED, ROBUST
    from sr_lib.photos import MIN_DETAIL, PER_IMAGE

    text = markdown(NB05)
    recipe = registry.MODELS["photo_clean"].recipe
    assert f"random {recipe['patch']}×{recipe['patch']} crops" in text
    assert f"cropped {PER_IMAGE} times" in text and f"below {MIN_DETAIL}" in text
    assert f"each batch of {recipe['batch_size']}" in text
    lr = recipe["lr_sizes"]
    assert f"from {lr.start} to {lr.stop - 1}" in text
    arch = recipe["architecture"]
    assert f"({arch['features']}\nfeatures, {arch['blocks']} residual blocks)" in text
    assert f"validation LR size {recipe['val_lr_size']}" in text
    lo, hi = ROBUST["jpeg_quality"]
    assert f"quality from {lo} to {hi}" in text
    first, second = registry.MODELS["photo"].recipe["stages"]
    assert first["degradations"] is ROBUST and second["degradations"] is REBALANCED
    assert f"{first['epochs']} epochs of\n`ROBUST` (JPEG for {ROBUST['jpeg']:.0%} of the images)" in text
    assert f"then {second['epochs']} of `REBALANCED`" in text
    assert f"JPEG ({REBALANCED['jpeg']:.0%}) less" in text

    def naive(mix):  # the share of batches resized without antialiasing
        return sum(w for k, w in mix["kernels"].items() if k.endswith("_naive")) / sum(
            mix["kernels"].values())
    assert naive(REBALANCED) == 0.5 and f"for half the batches instead of {naive(ROBUST):.0%}" in text
    n, m = ROBUST["noise_sigma"]
    assert f"σ = {n:.0f}–{m:.0f} levels" in text


def test_05_opens_with_its_question_and_links_and_ends_with_its_answer():
    nb = cells(NB05)
    first, last = source(nb[0]), source(nb[-1])
    assert "**The question.**" in first
    assert "(04_local_cppn_sr.ipynb)" in first and "(00_index.ipynb)" in first
    assert last.startswith("## Answer") and "(00_index.ipynb)" in last
    # the answer's numbers are printed by the cell before it, from the committed JSON
    assert "05_protocol.json" in source(nb[-2]) and "robust[" in source(nb[-2])
    assert not re.search(r"\d\.\d+ dB", last)


def test_05_figures_are_legible_and_have_a_bicubic_column():
    sources = "\n".join(code(NB05))
    assert "fontsize=8" not in sources  # captions: sr_lib.plots draws them at plots.CAPTION
    for c in code(NB05):
        if "plots.show_table(" in c:
            assert "bicubic" in c, c[:80]
    assert '"bicubic x3": ' in sources  # the patch grid's bicubic row


def test_index_links_every_notebook_and_reads_every_number_from_the_json():
    sources = "\n".join(code(INDEX))
    for name in ("01_vae_gan_sr", "02_cppn", "03_cppn_gan_sr", "04_local_cppn_sr", "05_photos"):
        assert f"({name}.ipynb)" in sources + markdown(INDEX), name
    for asset in ("0{n}_results.json", "05_protocol.json", "05_robust.json"):
        assert asset in sources, asset
    assert not re.search(r"\d\.\d+ dB", markdown(INDEX))
    figures = [o for c in cells(INDEX) if c["cell_type"] == "code" for o in c["outputs"]
               if "image/png" in o.get("data", {})]
    assert len(figures) == 1
    assert "fontsize=1" in sources  # 10 pt or more


@pytest.mark.parametrize("scale", ["2", "3", "4", "2.5"])
def test_index_photo_gains_come_from_the_protocol(scale):
    protocol = json.loads((ASSETS / "05_protocol.json").read_text())["sets"]["photographs"]
    gain = protocol["gain_db"]["photo_clean"][scale]
    table = next("".join(o["data"]["text/markdown"]) for c in cells(INDEX) if c["cell_type"] == "code"
                 for o in c["outputs"] if "text/markdown" in o.get("data", {}))
    assert f"{gain:+.2f} dB at ×{float(scale):g}" in table


def test_05_robust_prose_counts_match_the_json():
    robust = json.loads((ASSETS / "05_robust.json").read_text())
    words = {6: "six"}
    assert f"On the {words[robust['n']]} held-out photographs" in markdown(NB05)
    assert robust["scales"] == [2, 4]
