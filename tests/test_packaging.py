import subprocess
import sys
import tomllib
from pathlib import Path

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
