"""What a process's index reads from the database: the change log (its head, the entries after
a position, the latest candidate erasure) and the rows of a kind with their vectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from service.store.crud import CANDIDATES, Kind
from service.store.models import ChangeLog


def latest_seq(session: Session) -> int:
    """The change-log head: the position of the latest entry (0 when the log is empty)."""
    return int(session.exec(select(func.max(ChangeLog.seq))).one() or 0)


def latest_erasure_seq(session: Session) -> int:
    """The change-log position of the latest candidate erasure in the whole log (0: none)."""
    stmt: Any = select(func.max(ChangeLog.seq)).where(
        col(ChangeLog.entity) == CANDIDATES.name, col(ChangeLog.op) == "delete"
    )
    return int(session.exec(stmt).one() or 0)


def changes_after(session: Session, seq: int) -> Sequence[tuple[int | None, str, int, str]]:
    """(seq, entity, entity id, op) of every change-log entry after position ``seq``, in order."""
    return session.exec(
        select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id, ChangeLog.op)
        .where(col(ChangeLog.seq) > seq)
        .order_by(col(ChangeLog.seq))
    ).all()


def indexed_ids_in_db(session: Session, kind: Kind, model_id: str) -> set[int]:
    """Ids of rows that have a vector of ``model_id``: what the index must hold."""
    emb = kind.embedding
    stmt: Any = select(getattr(emb, kind.fk)).where(emb.model_id == model_id)
    return set(session.exec(stmt).all())


def rows_with_vectors(
    session: Session, kind: Kind, model_id: str, ids: Sequence[int] | None, batch: int
) -> Iterator[Sequence[tuple[Any, bytes | None]]]:
    """Rows ``ids`` of ``kind`` (every row when None) that exist, each with its vector of
    ``model_id`` (None when it has none), streamed in lists of at most ``batch`` rows."""
    table, emb = kind.table, kind.embedding
    stmt: Any = select(table, emb.vector).join(
        emb,
        (getattr(emb, kind.fk) == table.id) & (emb.model_id == model_id),
        isouter=True,
    )
    if ids is not None:
        stmt = stmt.where(col(table.id).in_(ids))
    result = session.exec(stmt.execution_options(yield_per=batch))
    yield from result.partitions()
