"""The floors of docs/architecture.md, checked on the imports themselves: no module of
``service/`` imports a package on a higher floor (or a sibling package on its own floor),
nothing in ``matching/`` imports ``service/``, FastAPI or SQL, and every query of ``service/``
is written in ``service/store/``."""

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
    "__main__": 5,
}


def _parse(path: Path) -> ast.Module:
    source = path.read_text(encoding="utf-8")
    # CPython 3.11's AST constructor fails ("recursion depth mismatch") when a collection
    # runs a finalizer in the middle of it, e.g. the pool reset of an engine another test
    # left behind (seen in CI); no collection while parsing.
    gc.disable()
    try:
        return ast.parse(source)
    finally:
        gc.enable()


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every module ``path`` imports, at any depth of the file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(_parse(path)):
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


# docs/architecture.md, "Every query lives in store/": what a module outside service/store/ may
# import of SQLAlchemy and SQLModel. Types, to annotate what it is handed or hands on (a session,
# an engine, the conditions of a candidate scope), and the errors, to answer them; no statement
# or expression builder (select, insert, update, delete, text, func, col, and_, or_, ...).
SQL_PACKAGES = ("sqlalchemy", "sqlmodel")
SQL_NAMES_OUTSIDE_STORE = {"Session", "Connection", "Engine", "ColumnElement", "Select"}
# Statement execution outside service/store/: only these (path, receiver) calls, none on a
# session or connection. The rate limiter's is a Redis pipeline.
EXECUTE_CALLS = {"exec", "execute", "exec_driver_sql"}
EXECUTE_OUTSIDE_STORE = {("service/security/rate_limit.py", "pipe")}


def _outside_store() -> list[Path]:
    store = ROOT / "service" / "store"
    return [p for p in sorted((ROOT / "service").rglob("*.py")) if store not in p.parents]


def _sql_package(module: str) -> bool:
    return module.split(".")[0] in SQL_PACKAGES


def sql_constructs(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, name) of every SQLAlchemy or SQLModel name the module imports beyond the types
    and errors of :data:`SQL_NAMES_OUTSIDE_STORE`, a whole package counting as all of it."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names if _sql_package(a.name))
        elif isinstance(node, ast.ImportFrom) and node.module and _sql_package(node.module):
            if "exc" in node.module.split("."):
                continue  # errors only
            found.extend(
                (node.lineno, f"{node.module}.{a.name}")
                for a in node.names
                if a.name not in SQL_NAMES_OUTSIDE_STORE
            )
    return found


def execute_calls(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, receiver) of every ``<receiver>.exec(...)``, ``.execute(...)`` or
    ``.exec_driver_sql(...)`` call in the module."""
    return [
        (node.lineno, ast.unparse(node.func.value))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in EXECUTE_CALLS
    ]


def test_no_query_is_built_outside_the_store() -> None:
    violations = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _outside_store()
        for line, name in sql_constructs(_parse(path))
    ]
    assert violations == []


def test_no_statement_is_run_outside_the_store() -> None:
    violations = []
    for path in _outside_store():
        where = path.relative_to(ROOT).as_posix()
        for line, receiver in execute_calls(_parse(path)):
            if (where, receiver) not in EXECUTE_OUTSIDE_STORE:
                violations.append(f"{where}:{line} runs {receiver}.<statement>")
    assert violations == []


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("from sqlmodel import select", ["sqlmodel.select"]),
        ("from sqlalchemy import func, Engine", ["sqlalchemy.func"]),
        ("import sqlalchemy", ["sqlalchemy"]),
        ("from sqlalchemy.sql import text", ["sqlalchemy.sql.text"]),
        ("def f():\n    from sqlmodel import col", ["sqlmodel.col"]),
        ("from sqlmodel import Session\nfrom sqlalchemy.exc import DBAPIError", []),
    ],
)
def test_the_store_rule_catches_query_constructs(source: str, caught: list[str]) -> None:
    assert [name for _, name in sql_constructs(ast.parse(source))] == caught


def test_the_store_rule_catches_a_statement_run() -> None:
    tree = ast.parse("session.exec(q)\nself._session.execute(q)\nconn.exec_driver_sql(s)")
    assert [r for _, r in execute_calls(tree)] == ["session", "self._session", "conn"]
