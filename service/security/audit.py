"""The audit log of candidate data: who read or wrote which candidate, when, and the outcome.

Handlers name the candidates an answer shows through
:meth:`service.api.tenancy.CandidateScope.show` (which calls :func:`note`). The records are
written once the answer's status is known and *before* the answer leaves the process: by a
sync handler in its own thread (:meth:`service.api.tenancy.CandidateScope.answer`, the match
routes), else by the access gate (:mod:`service.security.auth`), which also retries a failed
handler write; if the audit cannot be written, the answer is withheld (503).
Routes that touch candidate data are listed in :data:`AUDITED`, so refused and failed attempts
on them are recorded even when no handler ran.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from starlette.requests import Request

from service.security.keys import Principal
from service.store.audit_log import insert_events
from service.store.models import ID_PATTERN

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
    ("GET", "/v1/reports/profile-completeness"): "list",
    ("GET", "/v1/reports/unmatched"): "list",
    ("GET", "/ui/f/vacancies/{employer_id}/{vacancy_id}"): "match",
    ("GET", "/ui/f/candidates/{candidate_id}"): "read",
    ("GET", "/ui/f/new-matches"): "match",
    ("GET", "/ui/f/unmatched"): "list",
}

# Routes that never show or write candidate data. Every route of the access policy is either
# here or in AUDITED (a test checks it), so a new route has to be classified by whoever adds it.
NO_CANDIDATE_DATA: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        ("GET", "/ui"),
        ("GET", "/ui/static"),
        ("GET", "/metrics"),  # counters and latencies only
        ("PUT", "/v1/employers/{employer_id}/vacancies/{vacancy_id}"),
        ("GET", "/v1/employers/{employer_id}/vacancies/{vacancy_id}"),
        ("DELETE", "/v1/employers/{employer_id}/vacancies/{vacancy_id}"),
        ("GET", "/v1/vacancies"),
        ("PUT", "/v1/focus-occupations/{slug}"),
        ("GET", "/v1/focus-occupations/{slug}"),
        ("DELETE", "/v1/focus-occupations/{slug}"),
        ("GET", "/v1/focus-occupations"),
        ("POST", "/v1/occupations/normalize"),
        ("POST", "/v1/rematch-runs"),
        ("GET", "/v1/rematch-runs/{run_id}"),  # counts of a run, no candidate
        ("GET", "/v1/audit"),  # pseudonymous ids of the log itself, admin only
        ("GET", "/ui/f/vacancies"),
    }
)

_NOTES = "werkmatch_audit"
_WRITTEN = "werkmatch_audit_written"
_VALID_ID = re.compile(ID_PATTERN)


class AuditGap(RuntimeError):
    """An audited route answered successfully without naming the candidates it shows."""


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


def mark_written(scope: MutableMapping[str, Any], status: int) -> None:
    """Record that this answer's audit records were written for ``status`` (by the handler's
    thread, :func:`service.security.auth.audit_in_handler`)."""
    scope.setdefault("state", {})[_WRITTEN] = status


def written(scope: Mapping[str, Any]) -> int | None:
    """The status this answer's audit records were written for already, else None."""
    return scope.get("state", {}).get(_WRITTEN)  # type: ignore[no-any-return]  # the ASGI scope's state is an untyped dict


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
    noted: list[Note] | None = scope.get("state", {}).get(_NOTES)
    notes = noted or []
    if action is None and not notes:
        return []
    if action is not None and noted is None and status < 400:
        raise AuditGap(f"{method} {route} answered {status} without naming what it shows")
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
    rows: list[dict[str, Any]] = []
    for n in notes:
        ids: tuple[str | None, ...] = n.candidate_ids or (None,)
        rows.extend(
            {**base, "action": n.action or action or "read", "candidate_id": cid} for cid in ids
        )
    return rows


def write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert audit rows in one transaction (:func:`service.store.audit_log.insert_events`)."""
    insert_events(engine, rows)
