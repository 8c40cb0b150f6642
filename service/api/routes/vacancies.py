"""Vacancies of employer accounts: upsert, read, delete, list, and the candidates that fit."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from matching.categories import VacancyStatus
from service.api.deps import (
    CandidateMatchParams,
    EmployerId,
    Limit,
    Offset,
    SessionDep,
    StateDep,
    VacancyId,
)
from service.api.match_service import candidates_for_vacancy, match_answer
from service.api.rendering import render_each, withheld_free_json
from service.api.schemas import CandidateMatchList
from service.api.tenancy import CandidateScopeDep, check_employer, employer_scope
from service.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    InvalidParameter,
    NotFound,
    UnsupportedMediaType,
)
from service.formats import jobposting
from service.security.auth import PrincipalDep
from service.store import crud
from service.store.models import ID_PATTERN, Vacancy, VacancyIn, VacancyList, VacancyPublic
from service.store.vacancy_listings import vacancy_page

router = APIRouter(tags=["vacancies"])

FORKLIFT_EXAMPLE = {
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": "Voor ons distributiecentrum zoeken wij een heftruckchauffeur.",
    "occupation": "heftruckchauffeur",
    "skills": ["heftruck rijden", "laden en lossen"],
    "hours_per_week": 32,
    "postcode": "2983 AB",
    "languages": ["nl"],
}


def to_public(row: Vacancy) -> VacancyPublic:
    """The answer for a stored vacancy. Free JSON stored before the input bounds existed that
    exceeds them is withheld (null, named in ``withheld``) rather than failing the answer."""
    free, withheld = withheld_free_json(
        "vacancy", row.id, {"extra_properties": row.extra_properties}
    )
    return VacancyPublic.model_validate(
        {
            **crud.input_fields(crud.VACANCIES, row),
            **free,
            "withheld": withheld,
            "employer_id": row.employer_id,
            "vacancy_id": row.external_id,
            "created_at": row.created_at,
            "occupation_esco": row.occupation_esco,
            "inferred_occupations": row.inferred_occupations or [],
            "updated_at": row.updated_at,
        }
    )


def _key(employer_id: str, vacancy_id: str) -> dict[str, str]:
    return {"employer_id": employer_id, "external_id": vacancy_id}


def own_vacancy(employer_id: EmployerId, vacancy_id: VacancyId, principal: PrincipalDep) -> None:
    """Employer keys address only their own employer's vacancies (else 404, before the body
    is read)."""
    check_employer(principal, employer_id, vacancy_id)


OwnVacancy = Annotated[None, Depends(own_vacancy)]


def _get(session: SessionDep, employer_id: str, vacancy_id: str) -> Vacancy:
    row: Vacancy | None = crud.get_row(
        session=session, kind=crud.VACANCIES, key=_key(employer_id, vacancy_id)
    )
    if row is None:
        raise NotFound(f"vacancy {vacancy_id!r} of employer {employer_id!r} not found")
    return row


_ITEM = "/v1/employers/{employer_id}/vacancies/{vacancy_id}"


async def vacancy_body(request: Request) -> VacancyIn:
    """The PUT body as a VacancyIn: plain JSON, or a schema.org JobPosting (JSON-LD).

    ``application/ld+json`` bodies (or JSON bodies whose ``@type`` is JobPosting) are mapped by
    :mod:`service.formats.jobposting`; errors name the JobPosting property.
    """
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in ("application/json", jobposting.MEDIA_TYPE):
        raise UnsupportedMediaType(
            f"send application/json (a vacancy) or {jobposting.MEDIA_TYPE} (a JobPosting)"
        )
    try:
        doc = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} at character {exc.pos}"
        raise InvalidParameter("body", message, location="body") from None
    except UnicodeDecodeError as exc:
        message = f"not valid JSON: not UTF-8 at byte {exc.start}"
        raise InvalidParameter("body", message, location="body") from None
    if media == jobposting.MEDIA_TYPE or jobposting.is_jobposting(doc):
        try:
            return jobposting.to_vacancy(doc)
        except jobposting.JobPostingError as exc:
            raise InvalidParameter(exc.prop, exc.message, location="body") from None
    try:
        return VacancyIn.model_validate(doc)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from None


_PUT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/VacancyIn"},
                "example": FORKLIFT_EXAMPLE,
            },
            jobposting.MEDIA_TYPE: {
                "schema": jobposting.JOBPOSTING_SCHEMA,
                "example": jobposting.JOBPOSTING_EXAMPLE,
            },
        },
    }
}


@router.put(
    _ITEM,
    summary="Create or replace a vacancy (JSON or schema.org JobPosting)",
    response_model=VacancyPublic,
    responses={
        201: {"model": VacancyPublic, "description": "Created"},
        415: {"model": ErrorBody, "description": "Neither JSON nor JSON-LD"},
        **ERROR_RESPONSES,
    },
    openapi_extra=_PUT_BODY,
)
def put_vacancy(
    employer_id: EmployerId,
    vacancy_id: VacancyId,
    _own: OwnVacancy,
    body: Annotated[VacancyIn, Depends(vacancy_body)],
    session: SessionDep,
    state: StateDep,
    response: Response,
) -> VacancyPublic:
    """Create or replace an employer's vacancy (201 created, 200 updated or unchanged).

    The body is either a Werkmatch vacancy (`application/json`) or a schema.org JobPosting
    (`application/ld+json`): title, description (HTML is stripped), hiringOrganization,
    jobLocation.address (postalCode, addressLocality), workHours, employmentType,
    occupationalCategory (ISCO-08 code and/or label), skills, educationRequirements,
    validThrough and datePosted are mapped; other JobPosting properties are kept in
    `extra_properties`. A 422 names the JobPosting property at fault.
    """
    [(row, outcome)] = crud.upsert_many(
        session=session,
        kind=crud.VACANCIES,
        items=[(_key(employer_id, vacancy_id), body)],
        encoder=state.encoder,
        occupations=state.occupations,
    )
    state.index.catch_up(session)
    response.status_code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
    return to_public(row)


@router.get(_ITEM, response_model=VacancyPublic)
def get_vacancy(
    employer_id: EmployerId, vacancy_id: VacancyId, _own: OwnVacancy, session: SessionDep
) -> VacancyPublic:
    """Read one vacancy."""
    return to_public(_get(session, employer_id, vacancy_id))


@router.delete(_ITEM, status_code=status.HTTP_204_NO_CONTENT)
def delete_vacancy(
    employer_id: EmployerId,
    vacancy_id: VacancyId,
    _own: OwnVacancy,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Delete a vacancy and its vector (to keep it but stop matching, set status closed)."""
    if not crud.delete_row(session=session, kind=crud.VACANCIES, key=_key(employer_id, vacancy_id)):
        raise NotFound(f"vacancy {vacancy_id!r} of employer {employer_id!r} not found")
    state.index.catch_up(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/vacancies", response_model=VacancyList)
def list_vacancies(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status_: Annotated[
        list[VacancyStatus], Query(alias="status", description="Statuses to list (repeatable).")
    ] = [],  # noqa: B006
    employer_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> VacancyList:
    """List vacancies in a stable order, a page at a time, optionally by status or employer
    (an employer key lists only its own employer's)."""
    rows, total = vacancy_page(
        session,
        own_employer=employer_scope(principal),
        statuses=status_,
        employer_id=employer_id,
        limit=limit,
        offset=offset,
    )
    return VacancyList(data=render_each(rows, to_public, "vacancy"), count=total)


@router.get(_ITEM + "/matches", response_model=CandidateMatchList)
def vacancy_matches(
    employer_id: EmployerId,
    vacancy_id: VacancyId,
    session: SessionDep,
    state: StateDep,
    params: CandidateMatchParams,
    scope: CandidateScopeDep,
) -> Response:
    """Candidates that fit this vacancy, best first, with score parts and an explanation
    (a caseload-limited key: only its caseload's candidates)."""
    row = _get(session, employer_id, vacancy_id)
    filters = replace(params.filters, only_candidates=scope.internal_ids())
    items = candidates_for_vacancy(state, session, row, filters, params.limit)
    scope.show(i["candidate_id"] for i in items)
    return scope.answer(match_answer({"data": items, "count": len(items)}))
