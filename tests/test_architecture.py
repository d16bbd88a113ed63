"""The layout keeps its promises: arrows point down, no import circles, small modules, one home per library.

The floors, top to bottom (a package may import its own modules and any package on a lower floor):

    cli -> render -> tracking -> experiments -> explain -> models | evaluation -> features -> text -> data
    -> errors

``mlcli/__init__.py`` (the version) may be imported from anywhere. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "mlcli"
FLOORS = [["__main__"], ["cli"], ["render"], ["tracking"], ["experiments"], ["explain"], ["models", "evaluation"],
          ["features"], ["text"], ["data"], ["errors"]]
FLOOR = {name: i for i, names in enumerate(FLOORS) for name in names}
MAX_LINES = 400
MAX_BODY = 60  # statements of a function, without its signature and docstring (a command's options are a table)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # 'from pkg import module'
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _package(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(path) if m in modules and m != "mlcli"} for name, path in modules.items()}


def test_every_package_has_a_floor():
    assert {_package(m) for m in _modules() if m != "mlcli"} == set(FLOOR)


def test_imports_point_down():
    upward = []
    for module, targets in _graph().items():
        if module == "mlcli":
            continue
        here = FLOOR[_package(module)]
        for target in targets:
            there = FLOOR[_package(target)]
            if _package(target) != _package(module) and there <= here:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_circles():
    graph = _graph()
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the current path, 2 done
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state[nxt] == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif state[nxt] == 0:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [node])
    assert circles == []


def test_one_home_per_front_end_library():
    """Only cli/ imports typer; only render/ imports rich (tracking's messages go through a notify function)."""
    for module, path in _modules().items():
        top = {m.split(".")[0] for m in _imports(path)}
        if "typer" in top or "click" in top:
            assert _package(module) == "cli", module
        if "rich" in top:
            assert _package(module) == "render", module
        assert "click" not in top, f"{module}: take click's names from typer (it vendors its own click)"


def test_modules_and_functions_stay_small():
    too_long = []
    for module, path in _modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_LINES:
            too_long.append(f"{module}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = node.body
            if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            lines = body[-1].end_lineno - body[0].lineno + 1
            if lines > MAX_BODY:
                too_long.append(f"{module}.{node.name}: {lines} lines")
    assert too_long == []


def test_test_modules_have_unique_basenames():
    """pytest's default import mode (rootdir-relative, no ``__init__.py``) refuses two test files of one name."""
    seen = defaultdict(list)
    for path in (ROOT / "tests").rglob("test_*.py"):
        seen[path.name].append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
