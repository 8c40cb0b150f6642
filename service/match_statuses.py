"""Reading the caseworkers' follow-up of matches (the ``match_status`` table)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from service.models import Candidate
from service.rematch_models import MatchStatus


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
        select(Candidate.external_id, MatchStatus.status)
        .join(Candidate, col(Candidate.id) == col(MatchStatus.candidate_id))
        .where(col(MatchStatus.vacancy_id) == vacancy_id)
    )
    return {external_id: status for external_id, status in rows.all()}
