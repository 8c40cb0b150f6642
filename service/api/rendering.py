"""Stored rows as answers: one row that cannot be rendered never fails a list.

A row may hold what today's input rules refuse (it was written before a rule existed, or by
another path). Known cases are rendered with the offending field withheld (see
``withheld_free_json``); anything else that fails leaves that one row out of the list page,
which keeps its ``count``, and logs the table and internal row id, never the row's content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from service.json_bounds import free_json_problem

log = logging.getLogger(__name__)

Row = TypeVar("Row")
Out = TypeVar("Out")


def render_each(rows: Iterable[Row], render: Callable[[Row], Out], table: str) -> list[Out]:
    """``render`` of every row that can be rendered; the others are logged and left out."""
    out: list[Out] = []
    for row in rows:
        try:
            out.append(render(row))
        except Exception as exc:  # one row must not fail the page of everyone else
            log.error(
                "%s row %s cannot be rendered (%s); left out of the list",
                table,
                getattr(row, "id", "?"),
                type(exc).__name__,
            )
    return out


def withheld_free_json(
    table: str, row_id: int | None, values: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``values`` with each free JSON field that exceeds the bounds set to None, and the
    names of those fields (logged with the table and row id, never the content)."""
    kept = dict(values)
    withheld: list[str] = []
    for name, value in values.items():
        problem = free_json_problem(value)
        if problem is not None:
            kept[name] = None
            withheld.append(name)
            log.warning("%s row %s: %s withheld from the answer (%s)", table, row_id, name, problem)
    return kept, withheld
