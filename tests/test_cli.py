import json
import subprocess
import sys

import numpy as np
import pytest

import sr_lib.images as img
from conftest import tiny_model
from sr_lib.cli import main


def test_evaluate_prints_and_writes_table(tmp_path, capsys):
    assert main(["evaluate", "--methods", "bicubic", "nearest", "--lr-sizes", "14",
                 "--limit", "50", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bicubic" in out and "nearest" in out and "PSNR" in out
    rows = json.loads((tmp_path / "evaluation.json").read_text())
    assert [r["method"] for r in rows] == ["bicubic", "nearest"] and rows[0]["n"] == 50
    assert (tmp_path / "evaluation.csv").exists()


def test_evaluate_unknown_method_is_a_clear_error(capsys):
    assert main(["evaluate", "--methods", "magic", "--limit", "5"]) == 2
    err = capsys.readouterr().err
    assert "sr-lib evaluate: error: unknown model 'magic'" in err and "Traceback" not in err


def test_evaluate_bad_data_path(tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "missing.npz")]) == 2
    assert "missing.npz: no such file" in capsys.readouterr().err


def test_console_script_rejects_bad_lr_size():
    proc = subprocess.run([sys.executable, "-m", "sr_lib.cli", "evaluate", "--lr-sizes", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "must be a positive integer" in proc.stderr


@pytest.fixture
def tiny_local_cppn(tmp_path, monkeypatch):
    """A small untrained local CPPN installed as the bundled ``local_cppn``."""
    from sr_lib import registry
    models = tmp_path / "models"
    models.mkdir()
    tiny_model("local_cppn", hr=28).save(models / "local_cppn.keras")
    monkeypatch.setattr(registry, "MODELS_DIR", models)
    return models


def test_upscale_defaults_to_local_cppn_any_size(tmp_path, capsys, tiny_local_cppn):
    from PIL import Image

    Image.new("L", (10, 7), 200).save(tmp_path / "in.png")
    assert main(["upscale", str(tmp_path / "in.png"), str(tmp_path / "x4.png")]) == 0
    assert Image.open(tmp_path / "x4.png").size == (40, 28)  # default scale 4
    assert main(["upscale", str(tmp_path / "in.png"), str(tmp_path / "s.png"),
                 "--scale", "2.5"]) == 0
    assert Image.open(tmp_path / "s.png").size == (25, 18)
    assert main(["upscale", str(tmp_path / "in.png"), str(tmp_path / "z.jpg"),
                 "--size", "33", "50"]) == 0
    assert Image.open(tmp_path / "z.jpg").size == (50, 33)
    assert main(["upscale", "--size", "21", str(tmp_path / "in.png"), str(tmp_path / "sq.png")]) == 0
    assert Image.open(tmp_path / "sq.png").size == (21, 21)
    assert main(["upscale", "--size", "9", "12", str(tmp_path / "in.png"), str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size == (12, 9)
    assert "model local_cppn" in capsys.readouterr().out


def test_upscale_converts_rgb_with_a_notice(tmp_path, capsys, tiny_local_cppn):
    from PIL import Image

    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "rgb.jpg")
    assert main(["upscale", str(tmp_path / "rgb.jpg"), str(tmp_path / "out.png"),
                 "--scale", "2"]) == 0
    assert "is colour; local_cppn takes grey images: converted to grey" in \
        capsys.readouterr().err
    assert Image.open(tmp_path / "out.png").mode == "L"


@pytest.mark.parametrize("argv, message", [
    (["missing.png", "o.png"], "missing.png: not a readable image"),
    (["notimage.png", "o.png"], "notimage.png: not a readable image"),
    (["in.png", "o.png", "--scale", "-1"], "--scale: must be a positive finite number"),
    (["in.png", "o.png", "--size", "100000", "100000"], "pixels is more than the limit"),
    (["in.png", "o.png", "--model", "magic"], "unknown model 'magic'"),
    (["in.png", "o.png", "--model", "gone.keras"], "gone.keras: no such model file"),
])
def test_upscale_bad_input_is_one_clear_line(tmp_path, capsys, monkeypatch, tiny_local_cppn,
                                             argv, message):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    Image.new("L", (6, 6)).save("in.png")
    (tmp_path / "notimage.png").write_text("hello")
    try:
        code = main(["upscale", *argv])
    except SystemExit as exc:  # argparse refuses malformed values itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_model_by_path_as_sr_lib_train_writes_it(tmp_path, capsys, tiny_local_cppn):
    """--model takes a .keras path (a run folder's model.keras) as well as a bundled name."""
    from PIL import Image

    run = tmp_path / "runs" / "mine"
    run.mkdir(parents=True)
    (tiny_local_cppn / "local_cppn.keras").rename(run / "model.keras")
    Image.new("L", (6, 5), 30).save(tmp_path / "in.png")
    assert main(["upscale", "--model", str(run / "model.keras"), "--scale", "3",
                 str(tmp_path / "in.png"), str(tmp_path / "out.png")]) == 0
    assert Image.open(tmp_path / "out.png").size == (18, 15)
    assert main(["evaluate", "--methods", str(run / "model.keras"), "bicubic", "--limit", "4",
                 "--lr-sizes", "7", "--out", str(tmp_path / "ev")]) == 0
    assert str(run / "model.keras") in capsys.readouterr().out


def test_bundled_lists_the_model_files(tiny_local_cppn):
    from sr_lib.registry import bundled

    assert "local_cppn" in bundled() and "magic" not in bundled()
    (tiny_local_cppn / "local_cppn.keras").unlink()
    assert "local_cppn" not in bundled()


@pytest.mark.skipif(not "cppn_gan" in __import__("sr_lib.registry").registry.bundled(),
                    reason="models/cppn_gan.keras not trained yet")
def test_upscale_cppn_gan_any_size(tmp_path):
    from PIL import Image

    Image.new("L", (26, 26), 90).save(tmp_path / "in.png")
    assert main(["upscale", "--model", "cppn_gan", "--size", "100", str(tmp_path / "in.png"),
                 str(tmp_path / "out.png")]) == 0
    assert Image.open(tmp_path / "out.png").size == (100, 100)


@pytest.mark.parametrize("make, note, expected_max", [
    (lambda p: __import__("PIL.Image").Image.fromarray(
        np.full((6, 6), 65535, np.uint16)).save(p), None, 1.0),
    (lambda p: __import__("PIL.Image").Image.fromarray(
        np.full((6, 6), 0.5, np.float32)).save(p), None, 0.5),
    (lambda p: __import__("PIL.Image").Image.fromarray(
        np.dstack([np.full((6, 6, 3), 255, np.uint8), np.zeros((6, 6, 1), np.uint8)])).save(p),
     "transparency", 0.0),
])
def test_upscale_reads_16_bit_float_and_alpha_images(tmp_path, capsys, monkeypatch,
                                                     tiny_local_cppn, make, note, expected_max):
    """16-bit grey is scaled by 65535 (not binarised), a float TIFF taken as 0..1 (not black),
    transparency composited onto black with a notice."""

    path = tmp_path / ("in.tif" if expected_max == 0.5 else "in.png")
    make(path)
    image, notes = img.load_image(path)
    assert image.max() == pytest.approx(expected_max, abs=1e-3)
    assert (note is None and not notes) or any(note in n for n in notes)
    assert main(["upscale", str(path), str(tmp_path / "out.png"), "--scale", "2"]) == 0
    assert (note is None) == ("note:" not in capsys.readouterr().err)


def test_upscale_refuses_its_input_and_bad_outputs_before_any_work(tmp_path, capsys, monkeypatch):
    from PIL import Image

    Image.new("L", (6, 6), 9).save(tmp_path / "x.png")
    before = (tmp_path / "x.png").read_bytes()
    assert main(["upscale", str(tmp_path / "x.png"), str(tmp_path / "x.png")]) == 2
    assert "refusing to write over the input" in capsys.readouterr().err
    assert (tmp_path / "x.png").read_bytes() == before
    assert main(["upscale", str(tmp_path / "x.png"), str(tmp_path / "x.xyz")]) == 2
    assert "cannot write '.xyz' pictures" in capsys.readouterr().err
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # 36 pixels > 2 x 10: a "bomb"
    assert main(["upscale", str(tmp_path / "x.png"), str(tmp_path / "y.png")]) == 2
    err = capsys.readouterr().err
    assert "not a readable image" in err and "decompression bomb" in err.lower()


def test_upscale_makes_the_output_folder_and_shows_progress_on_big_outputs(tmp_path, capsys,
                                                                           tiny_local_cppn):
    from PIL import Image

    Image.new("L", (8, 8), 90).save(tmp_path / "in.png")
    out = tmp_path / "new" / "folder" / "big.png"
    assert main(["upscale", "--size", "1000", "1000", str(tmp_path / "in.png"), str(out)]) == 0
    assert Image.open(out).size == (1000, 1000)
    assert "chunk" in capsys.readouterr().out  # a keras Progbar over the chunks
    assert main(["upscale", "--size", "40", str(tmp_path / "in.png"), str(tmp_path / "s.png")]) == 0
    assert "chunk" not in capsys.readouterr().out  # small outputs stay quiet


def test_decompression_bombs_in_a_data_folder_are_one_clear_error(tmp_path, capsys, monkeypatch):
    from PIL import Image

    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    assert main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "ev")]) == 2
    err = capsys.readouterr().err
    assert "a.png: not a readable image" in err and "Traceback" not in err
