"""Object-level access: an employer key sees only its own employer's vacancies, a director key
with a caseload only that caseworker's candidates, and a key bound to an organisation (a
municipality or UWV office of the region) only that organisation's candidates; a director key
with both, only the candidates for which both hold. Vacancies are shared by every organisation.
Anything else is answered as not found, so an answer never tells that another tenant's object
exists.

Candidate data has one way out: :class:`CandidateScope`, a request dependency. It restricts
every query over candidates to what the key may see, answers 404 for a candidate outside it,
and records (for the audit log) the candidates an answer shows. It also refuses, as a server
error, to show a candidate outside the key's scope, so a route that forgot a filter fails
closed. The access gate withholds a successful answer of an audited route whose handler never
said what it showed (:func:`service.security.audit.events_for`), so a route cannot forget the audit
either; a test checks that every audited route takes this dependency.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import ColumnElement, Select
from sqlmodel import Session

from service.api.deps import SessionDep
from service.errors import InvalidParameter, NotFound
from service.security import audit
from service.security.auth import PrincipalDep, audit_in_handler
from service.security.keys import Principal
from service.store import crud
from service.store.candidate_scopes import CandidateBounds, external_ids_within, members_of
from service.store.models import Candidate, CandidateIn

log = logging.getLogger(__name__)


class ScopeViolation(RuntimeError):
    """A handler tried to show a candidate outside the key's scope (a bug, never a 4xx)."""


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


def organisation_scope(principal: Principal | None) -> str | None:
    """The organisation whose candidates a bound key is limited to, else None."""
    return principal.organisation_id if principal is not None else None


class CandidateScope:
    """The candidates one request may see, and the audit record of those its answer shows.

    Every route that reads or writes candidate data takes this as a dependency and

    - selects candidates through :meth:`where` / :meth:`members` / :meth:`internal_ids`,
    - fetches one candidate through :meth:`get` (404 outside the scope, as if missing),
    - writes a profile as :meth:`admit` makes it, overwriting or erasing only rows
      :meth:`permits` (``service.store.crud``'s ``permits``), so another organisation's candidate
      is never changed and answers 404 as a missing one,
    - names what its answer shows through :meth:`show` (also with an empty list).
    """

    def __init__(self, principal: Principal | None, request: Request, session: Session) -> None:
        self.principal = principal
        self.caseworker_id = caseworker_scope(principal)
        self.organisation_id = organisation_scope(principal)
        self.bounds = CandidateBounds(self.caseworker_id, self.organisation_id)
        self._request = request
        self._session = session
        self._members: tuple[frozenset[int], frozenset[str]] | None = None
        self._permitted: set[str] = set()  # candidates this request read through get()

    @property
    def limited(self) -> bool:
        """Whether this key sees only part of the candidates."""
        return self.bounds.limited

    def where(self) -> list[ColumnElement[bool]]:
        """Conditions on :class:`Candidate` rows that keep a query inside the scope (all must
        hold): the caseload of a caseload-limited director, the organisation of a bound key."""
        return self.bounds.where()

    def members(self) -> Select[Any] | None:
        """A subquery of the internal ids in scope (for tables keyed by candidate id); None:
        every candidate."""
        return self.bounds.members()

    def internal_ids(self) -> frozenset[int] | None:
        """Internal ids of the candidates in scope, for the matcher's filter; None: no limit."""
        return self._load()[0] if self.limited else None

    def permits(self, row: Candidate) -> bool:
        """Whether this stored candidate is inside the scope (the same rule as :meth:`where`)."""
        return self.bounds.permits(row)

    def get(self, candidate_id: str) -> Candidate:
        """The candidate with this client-system id; 404 when missing or outside the scope."""
        row: Candidate | None = crud.get_row(
            session=self._session, kind=crud.CANDIDATES, key={"external_id": candidate_id}
        )
        if row is None or not self.permits(row):
            raise NotFound(f"candidate {candidate_id!r} not found")
        self._permitted.add(candidate_id)
        return row

    def admit(self, body: CandidateIn) -> CandidateIn:
        """The profile as this key may write it: a key bound to an organisation writes into
        its own organisation (422 naming ``organisation_id`` when the body gives another);
        other keys write what the body says (unset: a stored candidate keeps its own)."""
        if self.organisation_id is None:
            return body
        if "organisation_id" in body.model_fields_set and (
            body.organisation_id != self.organisation_id
        ):
            raise InvalidParameter(
                "organisation_id",
                f"this key writes candidates of organisation {self.organisation_id!r} only: "
                "omit organisation_id or give that organisation",
                location="body",
            )
        return body.model_copy(update={"organisation_id": self.organisation_id})

    def show(self, candidate_ids: Iterable[str], action: str | None = None) -> None:
        """Record that this answer shows (or writes) these candidates; refuse, as a server
        error, any candidate outside the scope."""
        ids = tuple(candidate_ids)
        if self.limited and ids:
            unchecked = set(ids) - self._permitted
            if unchecked and self._members is not None:
                unchecked -= self._members[1]
            if unchecked:  # a few ids: asked for; the whole scope may be a big organisation
                unchecked -= self._inside(unchecked)
            if unchecked:
                raise ScopeViolation(f"{len(unchecked)} candidate(s) outside the key's scope")
        audit.note(self._request, ids, action)

    def answer(self, response: Response) -> Response:
        """``response``, with this request's reads ended and its audit records written in the
        handler's thread (see :func:`service.security.auth.audit_in_handler`): for answers built
        in a sync handler, this saves the access gate a hand-off to a worker thread per answer. A
        failed write is left to the gate, which tries again and withholds the answer if that
        fails too."""
        self._session.close()  # ends the read transaction; the write needs a connection only
        try:
            audit_in_handler(
                self._request.scope, self.principal, self._session.get_bind(), response.status_code
            )
        except Exception as exc:
            log.warning(
                "audit write in the handler failed (%s); left to the gate", type(exc).__name__
            )
        return response

    def _inside(self, candidate_ids: set[str]) -> set[str]:
        """Those of these client-system ids that are candidates in scope."""
        return external_ids_within(self._session, self.bounds, candidate_ids)

    def _load(self) -> tuple[frozenset[int], frozenset[str]]:
        """(internal ids, client-system ids) of the candidates in scope: one query per request,
        shared by the matcher's filter and the check of what the answer shows."""
        if self._members is None:
            self._members = members_of(self._session, self.bounds)
        return self._members


async def candidate_scope(
    request: Request, principal: PrincipalDep, session: SessionDep
) -> CandidateScope:
    return CandidateScope(principal, request, session)


CandidateScopeDep = Annotated[CandidateScope, Depends(candidate_scope)]
