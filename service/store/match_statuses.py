"""The caseworkers' follow-up of matches (the ``match_status`` table): reading and writing."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from service.store.models import Candidate, utcnow
from service.store.rematch_models import MatchStatus


def set_status(
    session: Session, vacancy_id: int, candidate_id: int, status: str, note: str | None
) -> MatchStatus | None:
    """Create or replace the status of one pair (by row ids) in one atomic statement;
    None when the vacancy or the candidate no longer exists (erased since it was read).

    Concurrent first writes of one pair do not collide: the statement inserts or updates in
    the database (``ON CONFLICT DO UPDATE``), so each one answers as if it ran alone; the last
    to commit is the status that stays.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    values = {"status": status, "note": note, "updated_at": now}
    stmt = insert(MatchStatus).values(vacancy_id=vacancy_id, candidate_id=candidate_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["vacancy_id", "candidate_id"], set_=values)
    try:
        session.execute(stmt)
        session.commit()
    except IntegrityError:  # a foreign key: the vacancy or the candidate is gone
        session.rollback()
        return None
    # what this request wrote (not re-read: a later write or an erasure may have replaced it)
    return MatchStatus(
        vacancy_id=vacancy_id, candidate_id=candidate_id, status=status, note=note, updated_at=now
    )


def statuses_for_vacancies(
    session: Session, vacancy_ids: Iterable[int]
) -> dict[tuple[int, int], str]:
    """Status per ``(vacancy row id, candidate row id)`` for the given vacancy row ids."""
    ids = sorted(set(vacancy_ids))
    if not ids:
        return {}
    rows = session.execute(select(MatchStatus).where(col(MatchStatus.vacancy_id).in_(ids)))
    return {(s.vacancy_id, s.candidate_id): s.status for s in rows.scalars()}


def statuses_by_candidate(session: Session, vacancy_id: int) -> dict[str, str]:
    """Status per candidate external id for one vacancy (by its row id)."""
    rows = session.execute(
        select(col(Candidate.external_id), col(MatchStatus.status))
        .join(Candidate, col(Candidate.id) == col(MatchStatus.candidate_id))
        .where(col(MatchStatus.vacancy_id) == vacancy_id)
    )
    return {external_id: status for external_id, status in rows.all()}
