"""The audit log's table, written and read: the multi-row insert of a request's records and
the admins' listing, newest first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Engine, Insert, bindparam, func, insert
from sqlmodel import Session, col, select

from service.store.crud import equal_where
from service.store.security_models import AuditEvent

_ROWS_PER_INSERT = 1000  # 10 parameters a row: far below SQLite's and PostgreSQL's limits
_COLUMNS = (
    "at",
    "key_id",
    "role",
    "candidate_id",
    "action",
    "method",
    "route",
    "status",
    "outcome",
    "request_id",
)


@lru_cache(maxsize=256)
def _insert(n: int) -> Insert:
    """A multi-row INSERT of ``n`` rows with named parameters (``at_0``, ``key_id_0``, ...)."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]  # SQLModel does not declare the __table__ SQLAlchemy sets
    return insert(table).values(
        [{c: bindparam(f"{c}_{i}", type_=table.c[c].type) for c in _COLUMNS} for i in range(n)]
    )


@lru_cache(maxsize=512)
def _compiled(dialect: Dialect, n: int) -> tuple[str, tuple[str, ...] | None]:
    """The SQL of :func:`_insert` for a dialect and its positional parameter order (None for
    named parameters), compiled once: SQLAlchemy does not cache multi-row VALUES statements,
    and compiling one took ten times as long as running it."""
    compiled = _insert(n).compile(dialect=dialect)
    order = compiled.positiontup
    return str(compiled), tuple(order) if order else None


@lru_cache(maxsize=8)
def _processors(dialect: Dialect) -> dict[str, Callable[[Any], Any] | None]:
    """Each column's conversion of a Python value for the driver (a timestamp's format)."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]  # SQLModel does not declare the __table__ SQLAlchemy sets
    return {c: table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in _COLUMNS}


def insert_events(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows in one transaction: one multi-row INSERT statement (per thousand rows;
    an answer shows at most a page of 200), not one statement per row."""
    if not rows:
        return
    with engine.begin() as conn:
        processors = _processors(conn.dialect)
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            sql, order = _compiled(conn.dialect, len(chunk))
            params = {
                f"{c}_{i}": row[c] if (convert := processors[c]) is None else convert(row[c])
                for i, row in enumerate(chunk)
                for c in _COLUMNS
            }
            conn.exec_driver_sql(sql, tuple(params[k] for k in order) if order else params)


def audit_page(
    session: Session,
    *,
    outcome: str | None,
    candidate_id: str | None,
    key_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEvent], int]:
    """A page of audit records, newest first (with this outcome, of this candidate, of this
    key, when given), and how many match over every page."""
    filters = equal_where(
        (AuditEvent.outcome, outcome),
        (AuditEvent.candidate_id, candidate_id),
        (AuditEvent.key_id, key_id),
    )
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*filters)).one()
    rows = session.exec(
        select(AuditEvent)
        .where(*filters)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, total
