"""The README's "Use from Python" snippets run as written (in a scratch folder)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def snippets():
    section = README.read_text().split("## Use from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_has_the_three_snippets():
    assert len(snippets()) == 3


@pytest.mark.parametrize("index", range(3))
def test_snippet_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(snippets()[index], f"README snippet {index + 1}", "exec"), namespace)
    if index == 0:
        assert namespace["sr"].shape == (84, 84)
        assert namespace["batch"].shape == (8, 28, 28, 1)
    if index == 1:
        assert "mine" in capsys.readouterr().out
    if index == 2:
        assert (tmp_path / "runs" / "my_digits" / "model.keras").exists()
        assert namespace["sr"].shape == (4, 28, 28, 1)
