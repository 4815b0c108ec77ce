"""Pictures come out as they went in: orientation, colour profile, EXIF, transparency, depth,
quality; and whole folders (sr_lib.pictures, sr_lib.images.read_picture / write_picture)."""

import io

import numpy as np
import pytest
import tifffile
from conftest import wide_gamut_icc
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from sr_lib import pictures
from sr_lib.cli import main
from sr_lib.images import ORIENTATION, Picture, read_picture, write_picture

RNG = np.random.default_rng(0)
RGB = (RNG.random((12, 20, 3)) * 255).astype(np.uint8)  # landscape as stored: 12 high, 20 wide


def smooth(height, width, channels=3):
    """A smooth colour picture (JPEG-friendly) as uint8."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    planes = [np.sin(3 * x + c) * np.cos(2 * y - c) for c in range(channels)]
    return np.round((np.stack(planes, -1) * 0.4 + 0.5) * 255).astype(np.uint8)


def bicubic(x, size):
    import tensorflow as tf

    x = np.asarray(x, np.float32)
    batch = x[None, ..., None] if x.ndim == 2 else x[None]
    out = tf.clip_by_value(tf.image.resize(batch, size, method="bicubic"), 0, 1).numpy()[0]
    return out[..., 0] if x.ndim == 2 else out


def exif_with(orientation, **tags):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    for tag, value in tags.items():
        exif[{"make": 0x010F, "date": 0x0132}[tag]] = value
    return exif.tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_like_pillow_and_reset(tmp_path, orientation):
    path = tmp_path / "o.png"
    Image.fromarray(RGB).save(path, exif=exif_with(orientation))
    picture = read_picture(path)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path))) / 255.0
    np.testing.assert_allclose(picture.pixels, expected, atol=1e-6)
    exif = Image.Exif()
    exif.load(picture.exif)
    assert exif[ORIENTATION] == 1


def test_a_portrait_phone_jpeg_comes_out_upright_with_its_profile_and_exif(tmp_path, capsys):
    src, out = tmp_path / "phone.jpg", tmp_path / "big.jpg"
    icc = wide_gamut_icc()
    Image.fromarray(smooth(30, 40)).save(src, quality=95, icc_profile=icc,
                                         exif=exif_with(6, make="Phone", date="2026:12:02 10:00:00"))
    assert main(["upscale", str(src), str(out), "--model", "bicubic", "--scale", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.size == (60, 80)  # 40x30 turned upright (portrait), then x2: 60 wide, 80 high
        assert im.info["icc_profile"] == icc
        exif = im.getexif()
        assert (exif[ORIENTATION], exif[0x010F], exif[0x0132]) == (1, "Phone", "2026:12:02 10:00:00")
        upright = np.asarray(ImageOps.exif_transpose(Image.open(src))) / 255.0
        assert np.abs(np.asarray(im) / 255.0 - bicubic(upright, (80, 60))).mean() < 0.02


def test_a_wide_gamut_picture_is_upscaled_in_its_own_space_and_keeps_its_profile(tmp_path):
    """The colour policy: values are not converted (a P3 red stays the file's red), and the
    profile travels, so a colour-managed viewer shows the same colours."""
    icc = wide_gamut_icc()
    src, out = tmp_path / "p3.png", tmp_path / "p3_x2.png"
    pixels = smooth(16, 16)
    Image.fromarray(pixels).save(src, icc_profile=icc)
    pictures.upscale_file(src, out, scale=2, model="bicubic")
    with Image.open(out) as im:
        assert im.info["icc_profile"] == icc
        assert ImageCms.getProfileDescription(
            ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))).startswith("Display P3")
        np.testing.assert_allclose(np.asarray(im) / 255.0, bicubic(pixels / 255.0, (32, 32)),
                                   atol=0.5 / 255 + 1e-6)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_kept_and_upscaled_by_bicubic(tmp_path, mode):
    src, out = tmp_path / f"{mode}.png", tmp_path / f"{mode}_x2.png"
    alpha = np.zeros((12, 20), np.uint8)
    alpha[3:9, 5:15] = 255
    rgba = Image.fromarray(np.dstack([RGB, alpha]), "RGBA")
    im = (rgba.convert("LA") if mode == "LA" else rgba.quantize(colors=255, method=2,
                                                                 dither=Image.Dither.NONE)
          if mode == "P" else rgba)
    im.save(src)
    pictures.upscale_file(src, out, scale=2, model="bicubic")
    with Image.open(out) as got:
        assert got.mode == ("LA" if mode == "LA" else "RGBA")
        expected = bicubic(np.asarray(Image.open(src).convert(got.mode))[..., -1] / 255.0, (24, 40))
        np.testing.assert_allclose(np.asarray(got)[..., -1] / 255.0, expected, atol=0.5 / 255 + 1e-6)


def test_a_format_without_alpha_gets_white_behind_and_a_note(tmp_path, capsys):
    src, out = tmp_path / "logo.png", tmp_path / "logo.jpg"
    Image.fromarray(np.zeros((10, 10, 4), np.uint8), "RGBA").save(src)  # black, fully clear
    assert main(["upscale", str(src), str(out), "--model", "bicubic", "--scale", "2"]) == 0
    assert "cannot hold transparency; composited onto white" in capsys.readouterr().err
    assert np.asarray(Image.open(out)).min() > 240


def test_16_bit_in_gives_16_bit_out_for_png_and_tiff(tmp_path):
    import tensorflow as tf

    deep = (RNG.random((12, 20, 3)) * 65535).astype(np.uint16)
    src = tmp_path / "deep.png"
    tf.io.write_file(str(src), tf.io.encode_png(deep))
    for name in ("out.png", "out.tif"):
        pictures.upscale_file(src, tmp_path / name, scale=2, model="bicubic")
    png = tf.io.decode_png(tf.io.read_file(str(tmp_path / "out.png")), dtype=tf.uint16).numpy()
    tif = tifffile.imread(tmp_path / "out.tif")
    assert png.dtype == tif.dtype == np.uint16 and png.shape == tif.shape == (24, 40, 3)
    np.testing.assert_array_equal(png, tif)
    expected = bicubic(deep / 65535.0, (24, 40))
    np.testing.assert_allclose(png / 65535.0, expected, atol=1e-4)  # far below 8-bit's 1/255
    assert np.mean(png % 257 != 0) > 0.9  # not 8-bit values widened
    grey = tmp_path / "grey16.png"
    Image.fromarray(deep[..., 0]).save(grey)  # PIL's I;16
    pictures.upscale_file(grey, tmp_path / "grey_x2.png", scale=2, model="bicubic")
    with Image.open(tmp_path / "grey_x2.png") as im:
        assert im.mode.startswith("I") and np.asarray(im).max() > 255


def test_float_tiff_gives_float_tiff(tmp_path):
    data = RNG.random((12, 20, 3)).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", data)
    pictures.upscale_file(tmp_path / "f.tif", tmp_path / "g.tif", scale=2, model="bicubic")
    out = tifffile.imread(tmp_path / "g.tif")
    assert out.dtype == np.float32 and out.shape == (24, 40, 3)
    np.testing.assert_allclose(out, bicubic(data, (24, 40)), atol=1e-6)


def _jpeg_tables(quality):
    buf = io.BytesIO()
    Image.fromarray(smooth(32, 32)).save(buf, "JPEG", quality=quality, subsampling=0)
    return Image.open(buf).quantization


@pytest.mark.parametrize("quality", [None, 60])
def test_jpeg_is_quality_95_at_444_unless_asked(tmp_path, quality):
    src, out = tmp_path / "in.png", tmp_path / "out.jpg"
    Image.fromarray(smooth(16, 16)).save(src)
    extra = [] if quality is None else ["--quality", str(quality)]
    assert main(["upscale", str(src), str(out), "--model", "bicubic", "--scale", "2", *extra]) == 0
    with Image.open(out) as im:
        assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4
        assert im.quantization == _jpeg_tables(quality or 95)


def test_webp_is_lossless_unless_a_quality_is_given(tmp_path):
    picture = Picture(RGB / 255.0)
    write_picture(picture, tmp_path / "a.webp")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.webp")), RGB)
    write_picture(picture, tmp_path / "b.webp", quality=50)
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "b.webp")), RGB)


def test_an_animated_gif_is_refused_in_one_line(tmp_path, capsys):
    frames = [Image.fromarray(RGB), Image.fromarray(255 - RGB)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert main(["upscale", str(tmp_path / "a.gif"), str(tmp_path / "b.png"), "--model",
                 "bicubic"]) == 2
    err = capsys.readouterr().err
    assert "has 2 frames; only still pictures" in err and err.count("\n") == 1


def test_a_lab_tiff_is_converted_to_srgb_without_a_false_transparency_note(tmp_path):
    srgb = ImageCms.createProfile("sRGB")
    lab = ImageCms.profileToProfile(Image.fromarray(RGB), srgb, ImageCms.createProfile("LAB"),
                                    outputMode="LAB")
    lab.save(tmp_path / "lab.tif")
    picture = read_picture(tmp_path / "lab.tif")
    assert picture.alpha is None
    assert [n for n in picture.notes if "transparency" in n] == []
    assert any("is LAB; converted to sRGB" in n for n in picture.notes)
    assert np.abs(picture.pixels * 255 - RGB).mean() < 3


def _folder(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for i, (h, w) in enumerate([(10, 14), (9, 9), (12, 7)]):
        Image.fromarray(smooth(h, w)).save(src / f"p{i}.png")
    Image.fromarray(smooth(8, 8)).save(src / "sub" / "deep.jpg")
    (src / "broken.png").write_bytes(b"not a picture")
    return src


def test_a_folder_upscales_with_one_model_load_skips_existing_and_reports_failures(
        tmp_path, monkeypatch):
    src, out = _folder(tmp_path), tmp_path / "out"
    loads = []
    real = pictures.get_upscaler
    monkeypatch.setattr(pictures, "get_upscaler", lambda name: loads.append(name) or real(name))
    lines = []
    result = pictures.upscale_files(src, out, scale=2, model="bicubic", log=lines.append,
                                    progress=False)
    assert sorted(p.name for p in result["done"]) == ["p0.png", "p1.png", "p2.png"]
    assert [p.name for p, _ in result["failed"]] == ["broken.png"]
    assert loads == ["bicubic"]
    assert Image.open(out / "p2.png").size == (14, 24)
    assert "3 upscaled (bicubic: 3), 0 skipped" in lines[-1] and "1 failed" in lines[-1]
    again = pictures.upscale_files(src, out, scale=2, model="bicubic", recursive=True,
                                   log=lines.append, progress=False)
    assert sorted(p.name for p in again["skipped"]) == ["p0.png", "p1.png", "p2.png"]
    assert [p.relative_to(out).as_posix() for p in again["done"]] == ["sub/deep.jpg"]
    forced = pictures.upscale_files(src, out, scale=2, model="bicubic", overwrite=True,
                                    log=lines.append, progress=False)
    assert len(forced["done"]) == 3 and not forced["skipped"]


def test_the_folder_command_exits_1_when_a_picture_fails_and_shows_one_bar(tmp_path, capsys):
    src, out = _folder(tmp_path), tmp_path / "out"
    assert main(["upscale", str(src), str(out), "--model", "bicubic", "--scale", "2"]) == 1
    captured = capsys.readouterr()
    assert "failed: " in captured.err and "broken.png" in captured.err
    assert "4/4" in captured.out and captured.out.count("picture") >= 1  # one bar over 4 files
    (src / "broken.png").unlink()
    assert main(["upscale", str(src), str(out), "--model", "bicubic", "--scale", "2",
                 "--recursive"]) == 0
    assert (out / "sub" / "deep.jpg").exists()
    assert "1 upscaled (bicubic: 1), 3 skipped" in capsys.readouterr().err


def test_an_output_folder_inside_the_input_folder_is_not_read_back(tmp_path):
    src = _folder(tmp_path)
    (src / "broken.png").unlink()
    result = pictures.upscale_files(src, src / "big", scale=2, model="bicubic", recursive=True,
                                    log=lambda line: None, progress=False)
    assert len(result["done"]) == 4
    again = pictures.upscale_files(src, src / "big", scale=2, model="bicubic", recursive=True,
                                   log=lambda line: None, progress=False)
    assert len(again["skipped"]) == 4 and not again["done"]


def test_quality_is_checked_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        main(["upscale", "a.png", "b.jpg", "--quality", "101"])
    assert "must be an integer 1-100" in capsys.readouterr().err


def test_upscale_grey_sends_grey_through_a_colour_model_as_grey_rgb():
    from sr_lib.pictures import upscale_grey

    class Colour:  # a stand-in colour upscaler: channel c multiplied by c + 1
        channels = 3

        def __call__(self, x, size, progress=False):
            assert x.shape[-1] == 3 and np.array_equal(x[..., 0], x[..., 2])
            return np.repeat(np.repeat(x, 2, 0), 2, 1)[: size[0], : size[1]] * [1.0, 2.0, 3.0]

    grey = np.random.default_rng(0).random((5, 7)).astype(np.float32)
    out = upscale_grey(Colour(), grey, (10, 14))
    assert out.shape == (10, 14) and np.allclose(out[::2, ::2], 2 * grey)
    from sr_lib.upscalers import get_upscaler

    bicubic = get_upscaler("bicubic")
    np.testing.assert_array_equal(upscale_grey(bicubic, grey, (10, 14)), bicubic(grey, (10, 14)))


def test_transparency_goes_through_the_pictures_colour_model(tmp_path):
    from sr_lib.pictures import upscale_grey
    from sr_lib.upscalers import get_upscaler

    src, out = tmp_path / "logo.png", tmp_path / "logo_x2.png"
    alpha = np.zeros((12, 20), np.uint8)
    alpha[3:9, 5:15] = 255
    Image.fromarray(np.dstack([RGB, alpha]), "RGBA").save(src)
    pictures.upscale_file(src, out, scale=2, model="photo")
    got = np.asarray(Image.open(out))[..., -1] / 255.0
    want = np.clip(upscale_grey(get_upscaler("photo"), alpha / 255.0, (24, 40)), 0, 1)
    np.testing.assert_allclose(got, want, atol=0.5 / 255 + 1e-6)
    assert np.abs(got - bicubic(alpha / 255.0, (24, 40))).max() > 2 / 255  # not bicubic's


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_a_tiffs_exif_comes_through_upright_without_its_layout_tags(tmp_path, suffix):
    src, out = tmp_path / "camera.tif", tmp_path / f"up{suffix}"
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "Canon", 6  # Make; Orientation: shown turned 90 degrees
    exif.get_ifd(0x8769)[0x9003] = "2026:12:03 10:00:00"  # DateTimeOriginal, in the Exif IFD
    Image.fromarray(RGB).save(src, exif=exif.tobytes())
    pictures.upscale_file(src, out, scale=2, model="bicubic")
    with Image.open(out) as got:
        assert got.size == (2 * RGB.shape[0], 2 * RGB.shape[1])  # upright: width and height swap
        tags = got.getexif()
        assert tags.get(0x010F) == "Canon" and tags.get(0x0112, 1) == 1
        assert tags.get_ifd(0x8769).get(0x9003) == "2026:12:03 10:00:00"
        if suffix != ".tif":
            assert not set(tags) & {256, 257, 273, 279}  # no TIFF strip layout in a PNG's or JPEG's EXIF


def test_an_alpha_of_one_value_is_not_upscaled_but_kept(tmp_path, monkeypatch):
    from sr_lib import pictures as pics

    src, out = tmp_path / "flat.png", tmp_path / "flat_x2.png"
    Image.fromarray(np.dstack([RGB, np.full(RGB.shape[:2], 200, np.uint8)]), "RGBA").save(src)
    calls = []
    real = pics.upscale_grey
    monkeypatch.setattr(pics, "upscale_grey", lambda up, x, size, progress=False: (
        calls.append(x.shape), real(up, x, size, progress))[1])
    pics.upscale_file(src, out, scale=2, model="bicubic")
    assert calls == [RGB.shape]  # the colour only
    assert (np.asarray(Image.open(out))[..., 3] == 200).all()


@pytest.mark.parametrize("damage", ["png signature only", "16-bit PNG cut short", "empty TIFF"])
def test_damaged_files_are_one_line_errors(tmp_path, damage):
    """Whichever decoder gives up (PIL, TensorFlow's 16-bit PNG one, tifffile), the reader and
    everything built on it say so in one line naming the file."""
    from sr_lib.images import load_image

    path = tmp_path / ("in.tif" if "TIFF" in damage else "in.png")
    if damage == "png signature only":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    elif damage == "empty TIFF":
        path.write_bytes(b"II*\0" + bytes(20))
    else:
        write_picture(Picture(np.random.default_rng(0).random((40, 40, 3), np.float32), depth="16"),
                      path)
        path.write_bytes(path.read_bytes()[:300])
    for read in (read_picture, load_image):
        with pytest.raises(ValueError) as info:
            read(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value), (read, info.value)
