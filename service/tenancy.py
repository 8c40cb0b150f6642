"""Object-level access: an employer key sees only its own employer's vacancies, a director key
with a caseload only that caseworker's candidates. Anything else is answered as not found, so
an answer never tells that another tenant's object exists."""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.errors import NotFound
from service.keys import Principal
from service.models import Candidate


def check_employer(principal: Principal | None, employer_id: str, vacancy_id: str) -> None:
    """404 when an employer key addresses another employer's vacancy."""
    if (
        principal is not None
        and principal.role == "employer"
        and (principal.employer_id != employer_id)
    ):
        raise NotFound(f"vacancy {vacancy_id!r} of employer {employer_id!r} not found")


def employer_scope(principal: Principal | None) -> str | None:
    """The employer a listing is restricted to (employer keys), else None."""
    if principal is not None and principal.role == "employer":
        return principal.employer_id
    return None


def caseworker_scope(principal: Principal | None) -> str | None:
    """The caseworker whose caseload a director key is limited to, else None."""
    if principal is not None and principal.caseload_limited:
        return principal.caseworker_id
    return None


def check_candidate(principal: Principal | None, row: Candidate, candidate_id: str) -> None:
    """404 when a caseload-limited director addresses a candidate outside the caseload."""
    own = caseworker_scope(principal)
    if own is not None and row.caseworker_id != own:
        raise NotFound(f"candidate {candidate_id!r} not found")


def caseload_ids(session: Session, principal: Principal | None) -> frozenset[int] | None:
    """Internal ids of the candidates a caseload-limited key may see; None: no limit."""
    own = caseworker_scope(principal)
    if own is None:
        return None
    ids = session.exec(select(Candidate.id).where(col(Candidate.caseworker_id) == own)).all()
    return frozenset(i for i in ids if i is not None)
