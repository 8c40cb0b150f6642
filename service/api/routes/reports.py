"""Reports for caseworkers: which active candidates are hard to find, and why; and which ones
the latest rematch run found for no vacancy at all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from matching.categories import ClientGroup
from service.api.completeness import FIELDS, Missing, missing_fields
from service.api.deps import Limit, Offset, SessionDep, StateDep
from service.api.tenancy import CandidateScopeDep
from service.api.unmatched import UnmatchedReport, unmatched_report
from service.store.candidate_scopes import active_candidates
from service.store.models import ID_PATTERN

router = APIRouter(prefix="/v1/reports", tags=["reports"])


class IncompleteProfile(BaseModel):
    candidate_id: str
    caseworker_id: str | None
    missing: list[Missing]
    suggested_occupations: list[str] = Field(
        default=[],
        description="When desired_occupation is missing: the ESCO occupations read from the CV "
        "(inferred_occupations), best first, for the caseworker to confirm. A suggestion does "
        "not fill the field: the profile stays incomplete until someone states it.",
    )


class CompletenessReport(BaseModel):
    active_candidates: int = Field(description="Active candidates in scope.")
    complete: int = Field(description="Active candidates with every field matching needs.")
    missing_counts: dict[Missing, int] = Field(description="Active candidates lacking each field.")
    occupation_suggested: int = Field(
        default=0,
        description="Of those lacking a desired occupation, how many have one read from the CV.",
    )
    data: list[IncompleteProfile] = Field(description="A page of incomplete profiles, by id.")
    count: int = Field(description="Incomplete profiles in total.")


@router.get("/profile-completeness", response_model=CompletenessReport)
def profile_completeness(
    session: SessionDep,
    scope: CandidateScopeDep,
    limit: Limit = 50,
    offset: Offset = 0,
    caseworker_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this caseworker's candidates.")
    ] = None,
) -> CompletenessReport:
    """Active candidates that lack a desired occupation, hours, a location or a ladder step,
    and so are hard to find by matching (a caseload-limited key: its caseload only, in the
    counts as in the list). Occupations read from the CV are listed as suggestions; they do
    not count as a desired occupation."""
    rows = active_candidates(session, scope.bounds, caseworker_id)
    counts = dict.fromkeys(FIELDS, 0)
    suggested = 0
    incomplete: list[IncompleteProfile] = []
    for row in rows:
        missing = missing_fields(row)
        for name in missing:
            counts[name] += 1
        if missing:
            labels = (
                [str(x["preferred_label"]) for x in row.inferred_occupations or ()]
                if "desired_occupation" in missing
                else []
            )
            suggested += bool(labels)
            incomplete.append(
                IncompleteProfile(
                    candidate_id=row.external_id,
                    caseworker_id=row.caseworker_id,
                    missing=missing,
                    suggested_occupations=labels,
                )
            )
    page = incomplete[offset : offset + limit]
    scope.show(p.candidate_id for p in page)
    return CompletenessReport(
        active_candidates=len(rows),
        complete=len(rows) - len(incomplete),
        missing_counts=counts,
        occupation_suggested=suggested,
        data=page,
        count=len(incomplete),
    )


@router.get("/unmatched", response_model=UnmatchedReport)
def unmatched(
    session: SessionDep,
    state: StateDep,
    scope: CandidateScopeDep,
    limit: Limit = 50,
    offset: Offset = 0,
    caseworker_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this caseworker's candidates.")
    ] = None,
    organisation_id: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN,
            description="Only this organisation's candidates (within the key's own scope).",
        ),
    ] = None,
    client_group: Annotated[
        ClientGroup | None, Query(description="Only candidates of this client group.")
    ] = None,
) -> UnmatchedReport:
    """The candidates nobody finds: active candidates in no open vacancy's top-k of the latest
    successful rematch run, each with the reasons the data shows (no open vacancy within their
    travel distance; the best-fitting open vacancies ask a driving licence or hours they lack;
    missing profile fields; otherwise: outranked), their best score and the vacancy that came
    closest. Counts per client group and per reason cover every page. Before any run has
    succeeded the answer is 200 with ``run: null`` and nothing listed. A caseload-limited key:
    its caseload only, in the counts as in the list."""
    return unmatched_report(
        state,
        session,
        scope,
        caseworker_id=caseworker_id,
        organisation_id=organisation_id,
        client_group=client_group,
        limit=limit,
        offset=offset,
    )
