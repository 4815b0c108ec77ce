import getpass
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_environment_yml_installs_the_package_extras():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "sr-lib" and env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section == ["-e .[dev]"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"jupyter", "pytest", "nbval"} <= set(extras["dev"])


def test_pyproject_declares_script_and_core_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["sr-lib"] == "sr_lib.cli:main"
    names = " ".join(project["dependencies"])
    for dep in ("tensorflow>=2.16", "keras>=3", "numpy", "matplotlib", "pillow"):
        assert dep in names


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    setup = readme.split("```bash\n")[1].split("```")[0].splitlines()
    commands = [line.split("#")[0].strip() for line in setup]
    assert commands == ['pip install -e ".[dev]"', "pytest"]
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert all(c in ci_lines for c in commands)


def test_import_is_light():
    code = "import sys, sr_lib; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- a wheel that works on its own; notebooks that do not depend on the machine --------------

MACHINE_PATH = re.compile(r"(?<![\w.])/(?:root|home|tmp|usr|opt|var|Users|mnt|private|work)/"
                          r"|site-packages|dist-packages|[A-Za-z]:\\\\|\\\\Users\\\\")


def machine_specific(text):
    """The machine-dependent fragments of a notebook output's ``text``: absolute paths of
    installs, homes and temporary folders, and this machine's user and host names."""
    found = MACHINE_PATH.findall(text)
    for name in {getpass.getuser(), socket.gethostname()} - {"", "root", "localhost"}:
        if re.search(rf"\b{re.escape(name)}\b", text):
            found.append(name)
    return found


def test_machine_specific_finds_what_broke_fresh_installs():
    # the cell-0 output that made every fresh venv fail nbval
    assert machine_specific("<module 'tensorflow' from '/root/.pyenv/versions/3.11.7/lib/"
                            "python3.11/site-packages/tensorflow/__init__.py'>")
    assert machine_specific(r"C:\\Users\\me\\x.png") and machine_specific("/home/ann/photo.png")
    assert not machine_specific("wrote readme_assets/05_zoom.png (37.67 dB, 1/255 steps)")


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.name)
def test_notebook_outputs_hold_nothing_machine_specific(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    for i, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            text = json.dumps({k: v for k, v in output.get("data", {}).items()
                               if k.startswith("text/")}) + json.dumps(output.get("text", ""))
            assert not machine_specific(text), f"cell {i}: {machine_specific(text)}"


def test_quiet_tensorflow_returns_nothing_a_cell_would_display():
    code = ("from sr_lib.runtime import quiet_tensorflow; "
            "print(quiet_tensorflow(), quiet_tensorflow())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None None"


def test_pyproject_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


WHEEL_CHECK = r"""
import json, sys
import numpy as np
import sr_lib
from sr_lib.paths import MODELS_DIR
(x, _), (t, _) = sr_lib.load_mnist()
sr = sr_lib.upscale(sr_lib.degrade(t[:2], 14), 28)
print(json.dumps({"file": sr_lib.__file__, "models": sorted(p.name for p in MODELS_DIR.glob("*.keras")),
                  "mnist": [len(x), len(t)], "sr": list(sr.shape),
                  "path": [p for p in sys.path if p]}))
"""


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """The wheel of a copy of the committed tree (``pip wheel --no-deps``), installed with
    ``--no-deps`` into a folder of its own: ``(wheel, target)``."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):  # the tracked files only: no build/ or egg-info of ours
        source = ROOT / name
        if source.is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, src / name)  # follows links: data/mnist.npz is one
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp),
                    str(src)], check=True, env=env, capture_output=True)
    wheel = next(tmp.glob("sr_lib-*.whl"))
    target = tmp / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, env=env, capture_output=True)
    return wheel, target


def test_wheel_holds_every_bundled_model_and_mnist(installed_wheel):
    wheel, _ = installed_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "sr_lib" / "assets").rglob("*"):
        if path.is_file():
            assert str(path.relative_to(ROOT)) in names
    assert "sr_lib/assets/mnist.npz" in names and "sr_lib/assets/models/photo.keras" in names


def test_installed_wheel_works_outside_the_clone(installed_wheel, tmp_path):
    from PIL import Image

    _, target = installed_wheel
    env = {**os.environ, "PYTHONPATH": str(target), "SR_LIB_MNIST": ""}
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / "in/c.png")
    Image.fromarray(rng.integers(0, 256, (14, 14), dtype=np.uint8)).save(tmp_path / "in/g.png")
    out = subprocess.run([sys.executable, "-c", WHEEL_CHECK], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.splitlines()[-1])
    assert found["file"].startswith(str(target))  # the install, not the clone
    assert not any(p.startswith(str(ROOT)) for p in found["path"])
    assert {"photo.keras", "local_cppn.keras"} <= set(found["models"])
    assert found["mnist"] == [60000, 10000] and found["sr"] == [2, 28, 28, 1]
    script = target / "bin" / "sr-lib"  # a folder: a colour picture and a grey digit
    done = subprocess.run([sys.executable, str(script), "upscale", "in", "out", "--scale", "2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 upscaled (local_cppn: 1, photo: 1)" in done.stderr  # each to its default model
    assert not re.search(r"^[IWEF]\d{4} ", done.stderr, re.M), done.stderr  # no TF start-up log
    for picture in ("c.png", "g.png"):
        assert Image.open(tmp_path / "out" / picture).size == tuple(
            2 * n for n in Image.open(tmp_path / "in" / picture).size)
