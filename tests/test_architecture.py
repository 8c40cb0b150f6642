"""The floors of docs/architecture.md, checked on the imports themselves: no module of
``service/`` imports a package on a higher floor (or a sibling package on its own floor), and
nothing in ``matching/`` imports ``service/``, FastAPI or SQL."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# docs/architecture.md, "service/ by concern, in floors"
FLOORS = {
    "config": 0,
    "errors": 0,
    "json_bounds": 0,
    "observability": 0,
    "protected": 0,
    "store": 1,
    "formats": 2,
    "security": 2,
    "state": 2,
    "batch": 3,
    "api": 4,
    "tools": 4,
    "cli": 5,
    "cli_keys": 5,
    "__main__": 5,
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every module ``path`` imports, at any depth of the file."""
    found: list[tuple[int, str]] = []
    source = path.read_text(encoding="utf-8")
    # CPython 3.11's AST constructor fails ("recursion depth mismatch") when a collection
    # runs a finalizer in the middle of it, e.g. the pool reset of an engine another test
    # left behind (seen in CI); no collection while parsing.
    gc.disable()
    try:
        tree = ast.parse(source)
    finally:
        gc.enable()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
    return found


def _unit(dotted: str) -> str | None:
    """The floor-bearing unit of a ``service`` module name: its package or top-level module."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "service" and len(parts) > 1 else None


def test_every_service_module_has_a_floor() -> None:
    units = {p.stem if p.is_file() else p.name for p in (ROOT / "service").iterdir()}
    units -= {"__init__", "__pycache__"}
    # a new package or module needs its floor here and in docs/architecture.md
    assert units - set(FLOORS) == set()


def test_no_service_module_imports_a_higher_floor() -> None:
    violations = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        own = _unit(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if own is None:
            continue
        for line, name in _imports(path):
            other = _unit(name)
            if other is None or other not in FLOORS or other == own:
                continue
            higher = FLOORS[other] > FLOORS[own]
            sideways = FLOORS[other] == FLOORS[own] and FLOORS[own] not in (0, 5)
            if higher or sideways:
                violations.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert violations == []


@pytest.mark.parametrize("forbidden", ["service", "fastapi", "sqlalchemy", "sqlmodel"])
def test_the_ranking_core_imports_no_service_http_or_sql(forbidden: str) -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / "matching").rglob("*.py"))
        for line, name in _imports(path)
        if name == forbidden or name.startswith(forbidden + ".")
    ]
    assert hits == []
