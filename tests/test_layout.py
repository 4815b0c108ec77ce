"""The package's layout: no import cycle anywhere in sr_lib, function-local imports included."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sr_lib"


def import_graph(package=PACKAGE):
    """``{module: {sr_lib modules it imports}}`` read from the source (every ``import`` and
    ``from ... import`` statement, at any depth, inside functions too)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph):
    """One import cycle of ``graph`` as a list of modules (first == last), else ``None``."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_find_cycle_finds_a_cycle_through_a_function_local_import(tmp_path):
    package = tmp_path / "sr_lib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from sr_lib.b import f\n")
    (package / "b.py").write_text("def f():\n    from sr_lib import a\n")
    (package / "c.py").write_text("import sr_lib.a\n")
    assert find_cycle(import_graph(package)) == ["sr_lib.a", "sr_lib.b", "sr_lib.a"]
    (package / "b.py").write_text("def f():\n    import numpy\n")
    assert find_cycle(import_graph(package)) is None


def test_sr_lib_has_no_import_cycle():
    graph = import_graph()
    assert {"sr_lib.images", "sr_lib.plots", "sr_lib.data", "sr_lib.metrics"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_plots_draws_figures_only():
    source = (PACKAGE / "plots.py").read_text()
    for io in ("def load_image", "def save_image", "def open_image", "def save_grid", ".save("):
        assert io not in source
