"""The candidates a key may see, as SQL: the conditions that keep a query inside a scope, and
the queries that read which candidates are in it (the rules themselves live in
:mod:`service.api.tenancy`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlmodel import Session, col, select

from service.store import crud
from service.store.models import Candidate

# client-system ids per IN list when checking which of them are in scope
_IDS_PER_QUERY = 500


@dataclass(frozen=True)
class CandidateBounds:
    """The candidates of one caseworker's caseload and/or one organisation (None: no bound on
    that column); both bounds set: the candidates for which both hold."""

    caseworker_id: str | None = None
    organisation_id: str | None = None

    @property
    def limited(self) -> bool:
        """Whether the bounds leave out any candidate."""
        return self.caseworker_id is not None or self.organisation_id is not None

    def where(self) -> list[ColumnElement[bool]]:
        """Conditions on :class:`Candidate` rows that keep a query inside the bounds (all must
        hold; none when unbounded)."""
        conditions: list[ColumnElement[bool]] = []
        if self.caseworker_id is not None:
            conditions.append(col(Candidate.caseworker_id) == self.caseworker_id)
        if self.organisation_id is not None:
            conditions.append(col(Candidate.organisation_id) == self.organisation_id)
        return conditions

    def members(self) -> Select[Any] | None:
        """A subquery of the internal ids inside the bounds (for tables keyed by candidate id);
        None when unbounded."""
        if not self.limited:
            return None
        return select(Candidate.id).where(*self.where())

    def permits(self, row: Candidate) -> bool:
        """Whether this stored candidate is inside the bounds (the same rule as :meth:`where`)."""
        return (self.caseworker_id is None or row.caseworker_id == self.caseworker_id) and (
            self.organisation_id is None or row.organisation_id == self.organisation_id
        )


def external_ids_within(
    session: Session, bounds: CandidateBounds, candidate_ids: Iterable[str]
) -> set[str]:
    """Those of these client-system ids that are candidates inside ``bounds`` (one query per
    500 ids)."""
    found: set[str] = set()
    ids = sorted(candidate_ids)
    for start in range(0, len(ids), _IDS_PER_QUERY):
        found.update(
            session.exec(
                select(Candidate.external_id).where(
                    col(Candidate.external_id).in_(ids[start : start + _IDS_PER_QUERY]),
                    *bounds.where(),
                )
            ).all()
        )
    return found


def members_of(session: Session, bounds: CandidateBounds) -> tuple[frozenset[int], frozenset[str]]:
    """(internal ids, client-system ids) of every candidate inside ``bounds``, in one query."""
    rows = session.exec(select(Candidate.id, Candidate.external_id).where(*bounds.where())).all()
    return frozenset(int(i) for i, _ in rows if i is not None), frozenset(e for _, e in rows)


def active_candidates(
    session: Session, bounds: CandidateBounds, caseworker_id: str | None = None
) -> Sequence[Candidate]:
    """Active candidates inside ``bounds`` (and of ``caseworker_id`` when given), by
    client-system id."""
    stmt = (
        select(Candidate)
        .where(col(Candidate.active).is_(True), *bounds.where())
        .order_by(Candidate.external_id)
    )
    if caseworker_id is not None:
        stmt = stmt.where(Candidate.caseworker_id == caseworker_id)
    return session.exec(stmt).all()


def candidate_page(
    session: Session,
    bounds: CandidateBounds,
    *,
    caseworker_id: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[Candidate], int]:
    """A page of the candidates inside ``bounds`` (of ``caseworker_id``, with ``active`` when
    given) in id order, and how many there are over every page."""
    filters = [
        *bounds.where(),
        *crud.equal_where((Candidate.caseworker_id, caseworker_id), (Candidate.active, active)),
    ]
    return crud.list_rows(
        session=session, kind=crud.CANDIDATES, filters=filters, limit=limit, offset=offset
    )
