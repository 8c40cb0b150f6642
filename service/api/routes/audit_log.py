"""The audit log, for admins: who accessed a candidate's data (subject-access requests)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.deps import Limit, Offset, SessionDep
from service.store.audit_log import audit_page
from service.store.models import ID_PATTERN, UtcDateTime

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class AuditEventOut(BaseModel):
    at: UtcDateTime
    key_id: str | None = Field(description="The key used; null when no valid key was given.")
    role: str | None
    candidate_id: str | None = Field(description="The candidate whose data was concerned.")
    action: str = Field(
        description="read, list, match, write, erase or status; 'refusals' marks the first "
        "request without a valid key over its address's bound (later ones are only counted)."
    )
    method: str
    route: str = Field(description="Route template, e.g. /v1/candidates/{candidate_id}.")
    status: int
    outcome: str = Field(description="allowed, refused, not_found or failed.")
    request_id: str | None


class AuditList(BaseModel):
    data: list[AuditEventOut]
    count: int = Field(description="Records matching the filters, over all pages.")


@router.get("", response_model=AuditList)
def list_audit(
    session: SessionDep,
    candidate_id: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only records of this candidate.")
    ] = None,
    key_id: Annotated[
        str | None, Query(pattern=r"^[a-z0-9]{12}$", description="Only records of this key.")
    ] = None,
    outcome: Annotated[
        Literal["allowed", "refused", "not_found", "failed"] | None,
        Query(description="Only records with this outcome (e.g. allowed: real accesses only)."),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditList:
    """Audit records, newest first: every read or write of candidate data, refused ones too."""
    rows, total = audit_page(
        session,
        outcome=outcome,
        candidate_id=candidate_id,
        key_id=key_id,
        limit=limit,
        offset=offset,
    )
    return AuditList(
        data=[AuditEventOut.model_validate(r, from_attributes=True) for r in rows], count=total
    )
