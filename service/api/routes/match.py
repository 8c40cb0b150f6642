"""Ad-hoc matching of a free text that is not stored."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import SessionDep, StateDep
from service.api.match_service import ad_hoc, match_answer
from service.api.schemas import AdHocMatchIn, AdHocMatchList
from service.api.tenancy import CandidateScopeDep
from service.errors import InvalidParameter

router = APIRouter(prefix="/v1/match", tags=["matches"])


@router.post("", response_model=AdHocMatchList)
def match_text(
    body: AdHocMatchIn,
    session: SessionDep,
    state: StateDep,
    scope: CandidateScopeDep,
) -> Response:
    """Rank candidates (target=candidates) or open vacancies (target=vacancies) for a text."""
    if body.target == "vacancies":
        if body.ladder_step_min is not None:
            raise InvalidParameter("ladder_step_min", "filters candidates", location="body")
        if body.client_group:
            raise InvalidParameter("client_group", "filters candidates", location="body")
    elif body.kind or body.include_closed:
        field = "kind" if body.kind else "include_closed"
        raise InvalidParameter(field, "filters vacancies", location="body")
    only = scope.internal_ids() if body.target == "candidates" else None
    items = ad_hoc(state, session, body, only)
    # A text matched against vacancies shows no candidate: the record names none.
    scope.show(i["candidate_id"] for i in items if "candidate_id" in i)
    return scope.answer(match_answer({"target": body.target, "data": items, "count": len(items)}))
