"""Pages of vacancies: the API's listing by employer and status, and the page's search of open
vacancies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from service.store import crud
from service.store.models import Vacancy


def vacancy_page(
    session: Session,
    *,
    own_employer: str | None,
    statuses: Sequence[str],
    employer_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Vacancy], int]:
    """A page of vacancies in id order and how many there are over every page: only
    ``own_employer``'s (an employer key's own; None: every employer's), with one of
    ``statuses`` (empty: any) and of ``employer_id`` when given."""
    filters = []
    if own_employer is not None:
        filters.append(col(Vacancy.employer_id) == own_employer)
    if statuses:
        filters.append(col(Vacancy.status).in_(statuses))
    if employer_id is not None:
        filters.append(col(Vacancy.employer_id) == employer_id)
    return crud.list_rows(
        session=session, kind=crud.VACANCIES, filters=filters, limit=limit, offset=offset
    )


def search_open_vacancies(
    session: Session, q: str, limit: int, offset: int
) -> tuple[list[Vacancy], int]:
    """A page of open vacancies whose title, occupation, employer or place contains ``q``
    (case-insensitive, ``%`` and ``_`` taken literally; empty: every open vacancy), in id
    order, and how many there are over every page."""
    filters: list[Any] = [col(Vacancy.status) == "open"]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        filters.append(
            or_(
                *(
                    col(c).ilike(pattern, escape="\\")
                    for c in (
                        Vacancy.title,
                        Vacancy.occupation,
                        Vacancy.employer_name,
                        Vacancy.employer_id,
                        Vacancy.locality,
                    )
                )
            )
        )
    total = session.exec(select(func.count()).select_from(Vacancy).where(*filters)).one()
    rows = session.exec(
        select(Vacancy).where(*filters).order_by(col(Vacancy.id)).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)
