"""The queries of the unmatched report (:mod:`service.api.unmatched`): who took part in a
rematch run but is in no open vacancy's top-k, and each one's best-scored vacancy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from matching.rematch import FOR_CANDIDATE, FOR_VACANCY
from service.store.candidate_scopes import CandidateBounds
from service.store.crud import equal_where
from service.store.models import Candidate, Vacancy
from service.store.rematch_models import MatchStatus, RematchMatch, RematchRun


def unmatched_rows(
    session: Session,
    run: RematchRun,
    bounds: CandidateBounds,
    *,
    placed_leave_pool: bool,
    caseworker_id: str | None = None,
    organisation_id: str | None = None,
    client_group: str | None = None,
) -> tuple[int, list[Candidate]]:
    """(active candidates of the run inside ``bounds``, those of them in no open vacancy's
    top-k), the latter by client-system id. Candidates created after the run started never
    took part, nor (``placed_leave_pool``) placed ones; ``caseworker_id``, ``organisation_id``
    and ``client_group`` narrow both when given."""
    took_part: list[Any] = [
        col(Candidate.active).is_(True),
        col(Candidate.created_at) <= run.started_at,  # later ones the run never saw
        *bounds.where(),
        *equal_where(
            (Candidate.caseworker_id, caseworker_id),
            (Candidate.organisation_id, organisation_id),
            (Candidate.client_group, client_group),
        ),
    ]
    if placed_leave_pool:
        placed = select(MatchStatus.candidate_id).where(col(MatchStatus.status) == "placed")
        took_part.append(col(Candidate.id).not_in(placed))
    in_top_k = (
        select(RematchMatch.candidate_id)
        .join(Vacancy, col(Vacancy.id) == RematchMatch.vacancy_id)
        .where(
            col(RematchMatch.run_id) == run.id,
            col(RematchMatch.direction) == FOR_VACANCY,
            col(Vacancy.status) == "open",
        )
    )
    active = session.execute(
        select(func.count()).select_from(Candidate).where(*took_part)
    ).scalar_one()
    rows = session.exec(
        select(Candidate)
        .where(*took_part, col(Candidate.id).not_in(in_top_k))
        .order_by(col(Candidate.external_id))
    ).all()
    return int(active), list(rows)


def best_vacancies(
    session: Session, run_id: int, candidate_ids: list[int]
) -> list[tuple[int, float, Vacancy | None]]:
    """(candidate id, score, vacancy) of each of these candidates' first-ranked vacancy in the
    run (the vacancy None when it was erased since); candidates without one are left out."""
    stmt = (
        select(RematchMatch.candidate_id, RematchMatch.score, Vacancy)
        .outerjoin(Vacancy, col(Vacancy.id) == RematchMatch.vacancy_id)
        .where(
            col(RematchMatch.run_id) == run_id,
            col(RematchMatch.direction) == FOR_CANDIDATE,
            col(RematchMatch.rank) == 1,
            col(RematchMatch.candidate_id).in_(candidate_ids),
        )
    )
    return [(int(cid), float(score), vac) for cid, score, vac in session.execute(stmt)]
