"""Ad-hoc matching of a free text that is not stored."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service import audit
from service.auth import PrincipalDep
from service.deps import SessionDep, StateDep
from service.errors import InvalidParameter
from service.match_service import ad_hoc
from service.schemas import AdHocMatchIn, AdHocMatchList
from service.tenancy import caseload_ids

router = APIRouter(prefix="/v1/match", tags=["matches"])


@router.post("", response_model=AdHocMatchList)
def match_text(
    body: AdHocMatchIn,
    session: SessionDep,
    state: StateDep,
    principal: PrincipalDep,
    request: Request,
) -> AdHocMatchList:
    """Rank candidates (target=candidates) or open vacancies (target=vacancies) for a text."""
    if body.target == "vacancies":
        if body.ladder_step_min is not None:
            raise InvalidParameter("ladder_step_min", "filters candidates", location="body")
        if body.client_group:
            raise InvalidParameter("client_group", "filters candidates", location="body")
    elif body.kind or body.include_closed:
        field = "kind" if body.kind else "include_closed"
        raise InvalidParameter(field, "filters vacancies", location="body")
    items = ad_hoc(state, session, body, caseload_ids(session, principal))
    if body.target == "candidates":
        audit.note(request, [i.candidate_id for i in items])  # type: ignore[union-attr]
    return AdHocMatchList(target=body.target, data=items, count=len(items))
