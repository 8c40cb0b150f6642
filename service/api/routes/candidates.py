"""Candidate profiles: upsert, read, erase, list, and the vacancies that fit them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from service.api.deps import (
    CandidateId,
    Limit,
    Offset,
    SessionDep,
    StateDep,
    VacancyMatchParams,
)
from service.api.match_service import match_answer, vacancies_for_candidate
from service.api.rendering import render_each
from service.api.schemas import VacancyMatchList
from service.api.tenancy import CandidateScopeDep
from service.errors import NotFound
from service.store import crud
from service.store.candidate_scopes import candidate_page
from service.store.models import ID_PATTERN, Candidate, CandidateIn, CandidateList, CandidatePublic

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


def to_public(row: Candidate) -> CandidatePublic:
    return CandidatePublic.model_validate(
        {
            **crud.input_fields(crud.CANDIDATES, row),
            "candidate_id": row.external_id,
            "created_at": row.created_at,
            "desired_occupations_esco": row.desired_occupations_esco,
            "inferred_occupations": row.inferred_occupations or [],
            "updated_at": row.updated_at,
        }
    )


@router.put(
    "/{candidate_id}",
    response_model=CandidatePublic,
    responses={201: {"model": CandidatePublic, "description": "Created"}},
)
def put_candidate(
    candidate_id: CandidateId,
    body: CandidateIn,
    session: SessionDep,
    state: StateDep,
    response: Response,
    scope: CandidateScopeDep,
) -> CandidatePublic:
    """Create or replace a candidate profile (201 created, 200 updated or unchanged).

    A key bound to an organisation writes into its own organisation (a body naming another
    is 422); a candidate of another organisation is 404 to it, as a missing one is to a read.
    """
    data = scope.admit(body)
    try:
        [(row, outcome)] = crud.upsert_many(
            session=session,
            kind=crud.CANDIDATES,
            items=[({"external_id": candidate_id}, data)],
            encoder=state.encoder,
            occupations=state.occupations,
            permits=scope.permits,
        )
    except crud.OutsideScope:
        raise NotFound(f"candidate {candidate_id!r} not found") from None
    scope.show([candidate_id])
    state.index.catch_up(session)
    response.status_code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
    return to_public(row)


@router.get("/{candidate_id}", response_model=CandidatePublic)
def get_candidate(candidate_id: CandidateId, scope: CandidateScopeDep) -> CandidatePublic:
    """Read one candidate profile."""
    row = scope.get(candidate_id)
    scope.show([candidate_id])
    return to_public(row)


@router.delete("/{candidate_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_candidate(
    candidate_id: CandidateId, session: SessionDep, state: StateDep, scope: CandidateScopeDep
) -> Response:
    """Erase a candidate: the profile, its texts, its vector and its index entry."""
    scope.get(candidate_id)  # 404 when missing or outside the key's scope
    scope.show([candidate_id])
    session.rollback()  # the erasure reads the row again under its own lock
    if not crud.delete_row(
        session=session,
        kind=crud.CANDIDATES,
        key={"external_id": candidate_id},
        permits=scope.permits,
    ):
        raise NotFound(f"candidate {candidate_id!r} not found")
    state.index.catch_up(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=CandidateList)
def list_candidates(
    session: SessionDep,
    scope: CandidateScopeDep,
    limit: Limit = 50,
    offset: Offset = 0,
    caseworker_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    active: bool | None = None,
) -> CandidateList:
    """List candidates in a stable order, a page at a time (a caseload-limited key: its own)."""
    rows, total = candidate_page(
        session,
        scope.bounds,
        caseworker_id=caseworker_id,
        active=active,
        limit=limit,
        offset=offset,
    )
    data = render_each(rows, to_public, "candidate")
    scope.show(c.candidate_id for c in data)
    return CandidateList(data=data, count=total)


@router.get("/{candidate_id}/matches", response_model=VacancyMatchList)
def candidate_matches(
    candidate_id: CandidateId,
    session: SessionDep,
    state: StateDep,
    params: VacancyMatchParams,
    scope: CandidateScopeDep,
) -> Response:
    """Vacancies that fit this candidate, best first (open ones only unless include_closed)."""
    row = scope.get(candidate_id)
    scope.show([candidate_id])
    items = vacancies_for_candidate(state, session, row, params.filters, params.limit)
    return scope.answer(match_answer({"data": items, "count": len(items)}))
