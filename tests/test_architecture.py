"""The package's shape: imports run from higher layers to lower ones only, and functions stay short.

Layers, bottom-up (README, "Layout"): core -> data -> features -> heads -> evaluation ->
experiment -> bench -> analysis -> tasks -> cli. A module may import from its own layer and the
ones below it, never from one above, at module level or inside a function. A task composes
pieces of every layer below it; the pipeline below reaches it only through the registry
(``spec.build_task()``, :func:`toolkit.registry.task_of`), as it reaches heads. The terminal
tables (``console``) sit with the run report, in the experiment layer, so tasks can lay them out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"

LAYERS = ["core", "data", "features", "heads", "evaluation", "experiment", "bench", "analysis", "tasks", "cli"]
FOLDER_LAYER = {"data": "data", "features": "features", "featurizers": "features", "text": "features", "heads": "heads",
                "evaluation": "evaluation", "experiment": "experiment", "bench": "bench", "analysis": "analysis",
                "tasks": "tasks"}
TOP_LAYER = {"cli": "cli", "console": "experiment", "__main__": "cli", "api": "cli"}
MAX_FUNCTION_LINES = 60


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    if parts[1] in FOLDER_LAYER:
        return FOLDER_LAYER[parts[1]]
    return TOP_LAYER.get(parts[1], "core")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) of every toolkit import in the file, wherever it is."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "toolkit"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] == "toolkit":
                out.append((node.lineno, name))
    return out


def test_layers_are_known():
    assert set(FOLDER_LAYER.values()) | set(TOP_LAYER.values()) | {"core"} == set(LAYERS)


def test_no_import_runs_up_the_layers():
    wrong = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        mine = LAYERS.index(layer_of(module))
        for line, target in imported(tree, module, path.name == "__init__.py"):
            theirs = LAYERS.index(layer_of(target))
            if theirs > mine:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({layer_of(module)}) imports "
                             f"{target} ({layer_of(target)})")
    assert not wrong, "imports from a higher layer:\n" + "\n".join(wrong)


def test_the_checker_sees_an_upward_import():
    tree = ast.parse("def f():\n    from toolkit.bench.sweep import load_sweep\n")
    assert imported(tree, "toolkit.data.users", False) == [(2, "toolkit.bench.sweep")]
    assert layer_of("toolkit.bench.sweep") == "bench" and layer_of("toolkit.params") == "core"


def long_functions(tree: ast.AST) -> list[tuple[str, int]]:
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_over_60_lines():
    found = [f"{path.relative_to(PACKAGE.parent)}: {name} has {n} lines"
             for path in modules().values()
             for name, n in long_functions(ast.parse(path.read_text(encoding="utf-8")))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("body, expected", [(61, 1), (59, 0)])
def test_the_length_check_counts_lines(body, expected):
    source = "def f():\n" + "    x = 1\n" * body
    assert len(long_functions(ast.parse(source))) == expected


def import_graph() -> dict[str, set[str]]:
    """module -> the toolkit modules it imports, wherever the import stands (inside functions too).

    ``from toolkit.heads import cox`` counts as an import of ``toolkit.heads.cox``; a name that is
    not a module counts as its package.
    """
    found = modules()
    graph: dict[str, set[str]] = {m: set() for m in found}
    for module, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                base = [name for _, name in imported(ast.Module([node], []), module, path.name == "__init__.py")]
                names = [f"{b}.{a.name}" if f"{b}.{a.name}" in found else b for b in base for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] == "toolkit"]
            for name in names:
                while name not in found and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name in found and name != module:
                    graph[module].add(name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_anywhere():
    found = circles(import_graph())
    assert not found, "modules that import one another (inside functions included):\n" + "\n".join(
        " <-> ".join(group) for group in found)


def test_the_circle_finder_sees_a_circle_through_a_function_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
