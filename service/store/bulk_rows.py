"""Rows written in bulk by the benchmarks and synthetic data: column values inserted straight
into a table (no ORM objects, no embedding, no change log), and the few reads and updates
those tools need around them. Nothing on the request path uses this module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from service.store.models import Candidate, Vacancy


def insert_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (column values) into ``table`` in one executemany statement, in the
    session's transaction (the caller commits)."""
    session.execute(insert(table), rows)


def ids_by_external_id(session: Session, table: Any, external_ids: Sequence[str]) -> dict[str, int]:
    """{external id: internal id} of those rows of ``table`` (:class:`Candidate` or
    :class:`Vacancy`) that exist."""
    return dict(
        session.execute(
            select(col(table.external_id), col(table.id)).where(
                col(table.external_id).in_(external_ids)
            )
        ).all()
    )


def numbers_past_every_row(session: Session) -> tuple[int, int]:
    """(candidates, vacancies): for each table the larger of its row count and its highest id,
    a number no row's sequence number reaches, also after erasures."""
    first_c, first_v = (
        max(
            session.execute(select(func.count()).select_from(table)).scalar_one(),
            session.execute(select(func.max(table.id))).scalar() or 0,
        )
        for table in (Candidate, Vacancy)
    )
    return first_c, first_v


def all_ids(session: Session, table: Any) -> list[int]:
    """Every internal id of ``table`` (:class:`Candidate` or :class:`Vacancy`), in no order."""
    return list(session.execute(select(col(table.id))).scalars().all())


def append_to_cv_texts(session: Session, ids: Sequence[int], sentence: str) -> None:
    """Append ``sentence`` to the CV text of the candidates ``ids`` behind the model's back
    (their stored vectors become outdated), in the session's transaction (the caller
    commits)."""
    session.execute(
        update(Candidate)
        .where(col(Candidate.id).in_(ids))
        .values(cv_text=Candidate.cv_text + sentence)
    )
