"""Bad input ends in one clear line, decided before heavy work; nothing is misread silently."""

import gzip
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sr_lib
from conftest import tiny_model
import sr_lib.images as img
from sr_lib.cli import build_parser, main
from sr_lib.data import DataError, load_mnist, read_idx
from sr_lib.images import load_image


@pytest.mark.parametrize("size", ["14", True, 2.5, (14,), (0, 3)])
def test_degrade_refuses_sizes_that_are_not_ints(size):
    with pytest.raises(ValueError, match="size must be a positive int"):
        sr_lib.degrade(np.zeros((1, 28, 28), np.uint8), size)


def test_degrade_refuses_float_images_in_0_255():
    with pytest.raises(ValueError, match="divide by 255"):
        sr_lib.degrade(np.full((1, 28, 28), 200.0, np.float32), 14)


@pytest.mark.parametrize("kwargs, message", [(dict(path=""), "path is empty"),
                                             (dict(path=".", test_fraction=-0.5), "test_fraction"),
                                             (dict(path=".", test_fraction=1.0), "test_fraction")])
def test_load_mnist_refuses_empty_paths_and_bad_fractions(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_mnist(**kwargs)


def test_idx_bomb_is_refused_from_its_header(tmp_path):
    """A small gzip that claims 8 GB of pixels is refused before anything is inflated."""
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBB3I", 0, 8, 3, 10_000_000, 28, 28) + bytes(1000))
    with pytest.raises(DataError, match="more than the limit"):
        read_idx(path)
    with pytest.raises(DataError, match="holds 1000 values"):
        read_idx(path, max_bytes=10**10)


@pytest.mark.parametrize("argv, message", [
    (["--latent-dim", "1000000000"], "latent_dim must be an int from 1 to 4096"),
    (["--depth", "1000000"], "depth must be an int from 1 to 64"),
    (["--hidden", "5000"], "hidden must be an int from 1 to 4096"),
])
def test_cppn_size_knobs_have_named_limits(tmp_path, capsys, argv, message):
    assert main(["cppn", "--size", "8", "--out", str(tmp_path / "c.png"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_render_takes_numpy_integer_sizes():
    model = sr_lib.build_cppn(2, hidden=4, depth=2, seed=0)
    image = sr_lib.render(model, np.zeros(2, np.float32), (np.int64(6), np.int64(5)))
    assert image.shape == (6, 5, 1)


def test_corrupt_and_truncated_model_files_are_one_clear_error(tmp_path, capsys):
    good = tmp_path / "good.keras"
    tiny_model("local_cppn").save(good)
    (tmp_path / "junk.keras").write_bytes(b"not a zip file at all")
    (tmp_path / "cut.keras").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for name in ("junk.keras", "cut.keras"):
        with pytest.raises(ValueError, match=f"{name}: not a readable Keras model file"):
            sr_lib.load_pretrained(tmp_path / name)
    from PIL import Image

    Image.new("L", (6, 6)).save(tmp_path / "in.png")
    assert main(["upscale", "--model", str(tmp_path / "cut.keras"), str(tmp_path / "in.png"),
                 str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert "cut.keras: not a readable Keras model file" in err and "Traceback" not in err


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".png", ".jpg", ".npz", ".keras"]))
def test_random_bytes_end_in_a_clear_error(tmp_path_factory, data, suffix):
    """Random bytes given as an image, an .npz or a .keras file: a one-line ValueError."""
    path = tmp_path_factory.mktemp("bytes") / f"f{suffix}"
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        if suffix == ".npz":
            load_mnist(path)
        elif suffix == ".keras":
            sr_lib.load_pretrained(path)
        else:
            load_image(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_an_interrupted_save_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    """Ctrl-C (or a kill) in the middle of writing an output: the previous file is untouched,
    a new one never appears half-written, and no temporary file is left behind."""
    from PIL import Image

    from sr_lib import files

    out = tmp_path / "out.png"
    img.save_image(np.zeros((4, 4), np.uint8), out)
    before = out.read_bytes()

    def interrupted_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    for target in (out, tmp_path / "new.png"):
        with pytest.raises(KeyboardInterrupt):
            img.save_image(np.ones((4, 4), np.float32), target)
    assert out.read_bytes() == before and not (tmp_path / "new.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    with pytest.raises(ValueError):  # strict JSON: NaN is refused, the old file stays
        files.write_json(tmp_path / "out.png", {"psnr": float("nan")})
    assert out.read_bytes() == before


def test_nan_latent_is_refused_not_rendered_blank():
    model = sr_lib.build_cppn(2, hidden=4, depth=2, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        sr_lib.render(model, np.array([np.nan, 0.0], np.float32), 8)


@pytest.mark.parametrize("scale", ["inf", "nan", "-2", "0", "x"])
def test_upscale_scale_is_checked_by_the_parser(tmp_path, capsys, scale):
    with pytest.raises(SystemExit) as info:
        main(["upscale", "in.png", str(tmp_path / "o.png"), f"--scale={scale}"])
    assert info.value.code == 2 and "must be a positive finite number" in capsys.readouterr().err


def test_evaluate_checks_its_output_and_methods_before_any_work(tmp_path, capsys):
    import subprocess
    import sys

    (tmp_path / "file").write_text("x")
    assert main(["evaluate", "--out", str(tmp_path / "file"), "--limit", "5"]) == 2
    assert "is a file" in capsys.readouterr().err
    code = ("import sys; from sr_lib.cli import main; rc = main(['evaluate', '--methods', "
            "'bicubic', 'nope.keras']); print(rc, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["2", "False"] and "nope.keras: no such model file" in out.stderr


def test_evaluate_says_how_much_of_an_image_folder_it_evaluates(tmp_path, capsys):
    from PIL import Image

    for i in range(12):
        Image.new("L", (16, 16), 20 * i).save(tmp_path / f"{i}.png")
    assert main(["evaluate", "--data", str(tmp_path), "--methods", "bicubic", "--lr-sizes", "8",
                 "--out", str(tmp_path / "ev")]) == 0
    assert "evaluating its seeded test split, 1 images" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, message", [(dict(hidden=10**6), "hidden must be an int from 1 to 4096"),
                                             (dict(depth=0), "depth must be an int from 1 to 64"),
                                             (dict(features=2.5), "features must be an int")])
def test_local_cppn_size_knobs_have_named_limits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sr_lib.build_local_cppn(**kwargs)


@pytest.mark.parametrize("command", [
    ["upscale", "{pic}", "{dir}"], ["upscale", "{pic}", "{file}/out.png"],
    ["cppn", "--out", "{dir}"], ["cppn", "--out", "{file}/sub/out.png"],
])
def test_unwritable_outputs_are_refused_before_any_work(tmp_path, capsys, monkeypatch, command):
    """An output that is a folder, or under a file, is one line, before a model loads."""
    from PIL import Image

    import sr_lib.cli as cli

    Image.new("RGB", (8, 8)).save(tmp_path / "pic.png")
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()

    def no_work(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr(cli, "get_upscaler", no_work)
    monkeypatch.setattr(cli, "quiet_tensorflow", no_work)
    args = [a.format(pic=tmp_path / "pic.png", dir=tmp_path / "dir", file=tmp_path / "file")
            for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("is a folder" in err or "is a file, not a folder" in err)


@pytest.mark.parametrize("flag", [["--lr-sizes", "7"], ["--limit", "3"], ["--hr-size", "28"]])
def test_digit_options_with_photos_are_refused_not_ignored(tmp_path, capsys, flag):
    from PIL import Image

    Image.new("RGB", (16, 16)).save(tmp_path / "a.png")
    assert main(["evaluate", "--photos", str(tmp_path), "--methods", "bicubic", *flag]) == 2
    assert f"{flag[0]} apply to digits, not to --photos" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".xbm", ".h5", ".xpm", ".pdf"])
def test_unwritable_formats_are_refused_before_any_work(tmp_path, capsys, monkeypatch, suffix):
    from PIL import Image

    import sr_lib.cli as cli

    Image.new("RGB", (8, 8)).save(tmp_path / "pic.png")
    monkeypatch.setattr(cli, "quiet_tensorflow", lambda *a, **k: pytest.fail("work started"))
    assert main(["upscale", str(tmp_path / "pic.png"), str(tmp_path / f"out{suffix}")]) == 2
    err = capsys.readouterr().err
    assert f"cannot write '{suffix}' pictures" in err and err.count("\n") == 1


def test_an_ico_larger_than_256_is_refused_before_upscaling(tmp_path, capsys, monkeypatch):
    from PIL import Image

    Image.new("RGB", (200, 100)).save(tmp_path / "pic.png")
    monkeypatch.setattr(sr_lib.Upscaler, "__call__", lambda *a, **k: pytest.fail("upscaled"))
    assert main(["upscale", str(tmp_path / "pic.png"), str(tmp_path / "out.ico"),
                 "--model", "bicubic", "--scale", "2"]) == 2
    assert ".ico holds at most 256x256, not 200x400" in capsys.readouterr().err
    assert not (tmp_path / "out.ico").exists()


def test_photos_into_a_file_or_an_unwritable_folder_fails_before_downloading(
        tmp_path, capsys, monkeypatch):
    from sr_lib import photos

    monkeypatch.setattr(photos, "_run", lambda *a: pytest.fail("downloading"))
    monkeypatch.setattr(photos.shutil, "which", lambda tool: "/bin/true")
    (tmp_path / "file").write_text("x")
    assert main(["photos", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    (tmp_path / "locked").mkdir()
    monkeypatch.setattr("sr_lib.files.os.access", lambda path, mode: False)  # as if read-only
    assert main(["photos", str(tmp_path / "locked")]) == 2
    assert "permission denied" in capsys.readouterr().err


def test_an_upscaler_class_or_a_nan_callable_is_a_clear_error():
    x = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="cannot make an upscaler from <class"):
        sr_lib.upscale(x, 8, model=sr_lib.Upscaler)
    with pytest.raises(ValueError, match="returned NaN or infinite values"):
        sr_lib.upscale(x, 8, model=lambda lr, size: np.full((len(lr), *size, 1), np.nan))


def test_photo_training_pictures_are_checked_before_the_first_step(tmp_path, capsys):
    """A picture that does not decode, one smaller than the patch, and a test picture too small
    for the protocol's x4 are each one line before any training (no run folder)."""
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    for split in ("train", "val", "test"):
        (tmp_path / split).mkdir()
        Image.fromarray(noise).save(tmp_path / split / "ok.png")
    argv = ["train", "photo", "--data", str(tmp_path), "--out", str(tmp_path / "run")]
    cases = [("train/broken.png", None, "broken.png: not a readable image"),
             ("val/small.png", 20, "small.png: 20x20 is under 48 pixels a side"),
             ("test/tiny.png", 6, "tiny.png: 6x6 is under 9 pixels a side")]
    for name, side, message in cases:
        bad = tmp_path / name
        if side is None:
            bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut short")
        else:
            Image.fromarray(noise[:side, :side]).save(bad)
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not (tmp_path / "run").exists()
        bad.unlink()


def test_evaluate_photos_smaller_items(tmp_path, capsys):
    """Repeated scales count once; .tif and .bmp are pictures like the others; a missing folder
    says so; upscale's help describes colour pictures."""
    from PIL import Image

    noise = np.random.default_rng(1).integers(0, 255, (40, 40, 3), np.uint8)
    for suffix in (".png", ".tif", ".bmp"):
        Image.fromarray(noise).save(tmp_path / f"p{suffix}")
    assert main(["evaluate", "--photos", str(tmp_path), "--methods", "bicubic", "--scales", "2",
                 "2", "2.0", "--out", str(tmp_path / "ev")]) == 0
    rows = json.loads((tmp_path / "ev" / "photos.json").read_text())
    assert [(r["scale"], r["n"]) for r in rows] == [(2, 3)]
    capsys.readouterr()
    assert main(["evaluate", "--photos", str(tmp_path / "nowhere"), "--methods", "bicubic"]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["upscale", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "grayscale image" not in help_text and "converted to grey" not in help_text
    assert "upscale a picture or a folder" in " ".join(build_parser().format_help().split())
