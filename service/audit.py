"""The audit log of candidate data: who read or wrote which candidate, when, and the outcome.

Handlers name the candidates an answer shows with :func:`note`; the access gate
(:mod:`service.auth`) writes the records when the answer's status is known and *before* the
answer leaves the process: if the audit cannot be written, the answer is withheld (503).
Routes that touch candidate data are listed in :data:`AUDITED`, so refused and failed attempts
on them are recorded even when no handler ran.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert
from starlette.requests import Request

from service.keys import Principal
from service.models import ID_PATTERN
from service.security_models import AuditEvent

# (method, route template) -> action, for every route that reads or writes candidate data
AUDITED: dict[tuple[str, str], str] = {
    ("PUT", "/v1/candidates/{candidate_id}"): "write",
    ("GET", "/v1/candidates/{candidate_id}"): "read",
    ("DELETE", "/v1/candidates/{candidate_id}"): "erase",
    ("GET", "/v1/candidates"): "list",
    ("GET", "/v1/candidates/{candidate_id}/matches"): "match",
    ("PUT", "/v1/candidates/{candidate_id}/cv-document"): "write",
    ("GET", "/v1/employers/{employer_id}/vacancies/{vacancy_id}/matches"): "match",
    ("POST", "/v1/match"): "match",
    ("GET", "/v1/caseworkers/{caseworker_id}/new-matches"): "match",
    ("GET", "/v1/employers/{employer_id}/vacancies/{vacancy_id}/new-matches"): "match",
    ("PUT", "/v1/matches/{employer_id}/{vacancy_id}/{candidate_id}/status"): "status",
    ("GET", "/ui/f/vacancies/{employer_id}/{vacancy_id}"): "match",
    ("GET", "/ui/f/candidates/{candidate_id}"): "read",
    ("GET", "/ui/f/new-matches"): "match",
}

_NOTES = "werkmatch_audit"
_VALID_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class Note:
    action: str
    candidate_ids: tuple[str, ...]


def note(request: Request, candidate_ids: Iterable[str], action: str | None = None) -> None:
    """Record that this answer shows (or writes) these candidates.

    ``action`` defaults to the route's action in :data:`AUDITED`.
    """
    request.scope.setdefault("state", {}).setdefault(_NOTES, []).append(
        Note(action or "", tuple(candidate_ids))
    )


def outcome_of(status: int) -> str:
    if status < 400:
        return "allowed"
    if status in (401, 403, 429):
        return "refused"
    if status == 404:
        return "not_found"
    return "failed"


def events_for(
    scope: Mapping[str, Any],
    method: str,
    route: str,
    status: int,
    principal: Principal | None,
    request_id: str | None,
) -> list[dict[str, Any]]:
    """The audit rows one answer produces (empty for routes without candidate data)."""
    action = AUDITED.get((method, route))
    notes: list[Note] = scope.get("state", {}).get(_NOTES, [])
    if action is None and not notes:
        return []
    if not notes or status >= 400:
        # Nothing was shown: one record of the attempt, on the candidate the path names.
        path_id = scope.get("path_params", {}).get("candidate_id")
        if path_id is not None and not _VALID_ID.match(str(path_id)):
            path_id = "(invalid id)"  # a malformed id is not stored verbatim, nor overlong
        notes = [Note(action or "read", (path_id,) if path_id else ())]
    now = datetime.now(UTC)
    base = {
        "at": now,
        "key_id": principal.key_id if principal else None,
        "role": principal.role if principal else None,
        "method": method,
        "route": route,
        "status": status,
        "outcome": outcome_of(status),
        "request_id": request_id,
    }
    rows = []
    for n in notes:
        ids: tuple[str | None, ...] = n.candidate_ids or (None,)
        rows.extend(
            {**base, "action": n.action or action or "read", "candidate_id": cid} for cid in ids
        )
    return rows


def write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows in one transaction."""
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(insert(AuditEvent), rows)
