"""Access control: who may call which route, enforced before a request reaches its handler.

:data:`POLICY` lists every route of the app with the roles allowed on it; a route that is not
listed is refused to every key (deny by default, and a test fails when a route is missing).
The gate runs as ASGI middleware, ahead of body parsing, so an anonymous caller learns nothing
from validation errors. Tenant rules that depend on the object (an employer's own vacancies, a
director's caseload) are applied in the handlers: vacancies with :class:`Principal`, candidates
through :class:`service.api.tenancy.CandidateScope`, the one way to candidate data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy.exc import DBAPIError
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import DATABASE_RETRY_AFTER, send_error
from service.observability import request_id_var
from service.security import audit
from service.security.keys import LOG_HEAD, TOKEN_RE, Principal, verify_with_head
from service.security.rate_limit import LimiterUnavailable, Verdict, address_key, count

log = logging.getLogger(__name__)

PUBLIC = frozenset({"public"})
EVERY_ROLE = frozenset({"admin", "director", "intake", "employer", "batch"})
# Who may do what, named by the work: every set includes the administrator.
ADMINISTRATION = frozenset({"admin"})
CASEWORK = frozenset({"admin", "director"})  # matches, reports, statuses: the work director's
CANDIDATE_READING = frozenset({"admin", "director", "intake"})
CANDIDATE_WRITING = frozenset({"admin", "intake"})  # intake registers job seekers and their CVs
VACANCY_WRITING = frozenset({"admin", "employer"})  # an employer portal, its own vacancies only
VACANCY_READING = frozenset({"admin", "director", "employer"})
REMATCH_STARTING = frozenset({"admin", "batch"})
REMATCH_READING = frozenset({"admin", "director", "batch"})

_VACANCY = "/v1/employers/{employer_id}/vacancies/{vacancy_id}"

# (method, route template) -> roles allowed; PUBLIC needs no key.
POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/ui"): PUBLIC,  # the page shell: no data, asks for the key
    ("GET", "/ui/static"): PUBLIC,  # its CSS and JavaScript
    ("GET", "/metrics"): ADMINISTRATION,
    ("PUT", "/v1/candidates/{candidate_id}"): CANDIDATE_WRITING,
    ("GET", "/v1/candidates/{candidate_id}"): CANDIDATE_READING,
    ("DELETE", "/v1/candidates/{candidate_id}"): CANDIDATE_WRITING,
    ("GET", "/v1/candidates"): CANDIDATE_READING,
    ("GET", "/v1/candidates/{candidate_id}/matches"): CASEWORK,
    ("PUT", "/v1/candidates/{candidate_id}/cv-document"): CANDIDATE_WRITING,
    ("PUT", _VACANCY): VACANCY_WRITING,
    ("GET", _VACANCY): VACANCY_READING,
    ("DELETE", _VACANCY): VACANCY_WRITING,
    ("GET", "/v1/vacancies"): VACANCY_READING,
    ("GET", _VACANCY + "/matches"): CASEWORK,
    ("PUT", "/v1/focus-occupations/{slug}"): ADMINISTRATION,
    ("GET", "/v1/focus-occupations/{slug}"): EVERY_ROLE,
    ("DELETE", "/v1/focus-occupations/{slug}"): ADMINISTRATION,
    ("GET", "/v1/focus-occupations"): EVERY_ROLE,
    ("POST", "/v1/match"): CASEWORK,
    ("POST", "/v1/occupations/normalize"): EVERY_ROLE,
    ("GET", "/v1/reports/profile-completeness"): CASEWORK,
    ("GET", "/v1/reports/unmatched"): CASEWORK,
    ("POST", "/v1/rematch-runs"): REMATCH_STARTING,
    ("GET", "/v1/rematch-runs/{run_id}"): REMATCH_READING,
    ("GET", "/v1/caseworkers/{caseworker_id}/new-matches"): CASEWORK,
    ("GET", _VACANCY + "/new-matches"): CASEWORK,
    ("PUT", "/v1/matches/{employer_id}/{vacancy_id}/{candidate_id}/status"): CASEWORK,
    ("GET", "/v1/audit"): ADMINISTRATION,
    ("GET", "/ui/f/vacancies"): CASEWORK,
    ("GET", "/ui/f/vacancies/{employer_id}/{vacancy_id}"): CASEWORK,
    ("GET", "/ui/f/candidates/{candidate_id}"): CASEWORK,
    ("GET", "/ui/f/new-matches"): CASEWORK,
    ("GET", "/ui/f/unmatched"): CASEWORK,
}

_STATE_KEY = "werkmatch_principal"


def allowed_roles(method: str, route: str) -> frozenset[str]:
    """Roles allowed on a route; HEAD follows GET. Unlisted routes allow no one."""
    if method == "HEAD":
        method = "GET"
    return POLICY.get((method, route), frozenset())


async def get_principal(request: Request) -> Principal | None:
    """The verified key holder of this request (None on public routes)."""
    return request.scope.get("state", {}).get(_STATE_KEY)  # type: ignore[no-any-return]  # the ASGI scope's state is an untyped dict; the gate puts a Principal there


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def flat_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes with included routers opened up (FastAPI nests them lazily)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from flat_routes(inner.routes)
        else:
            yield route


def _match_route(scope: Scope) -> tuple[str | None, dict[str, Any], bool]:
    """(route template, path params, whether path *and* method matched) of the route the app's
    router will pick; (None, {}, False) when no path matches (the app answers 404 or 405)."""
    app = scope.get("app")
    routes = getattr(app.state, "flat_routes", None) if app is not None else None
    if routes is None and app is not None:
        routes = app.state.flat_routes = list(flat_routes(app.routes))
    partial: tuple[str | None, dict[str, Any], bool] = (None, {}, False)
    path = get_route_path(scope)
    for route in routes or ():
        # A route or mount whose pattern does not match the path answers Match.NONE; its
        # matches() finds that out only after a route-context lookup and recomputing the path
        # (36 against 9 µs a request for the vacancy matches route), so test the pattern first.
        if isinstance(route, Route | Mount) and route.path_regex.match(path) is None:
            continue
        match, child = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "path", None), child.get("path_params", {}), True
        if match == Match.PARTIAL and partial[0] is None:
            partial = (getattr(route, "path", None), child.get("path_params", {}), False)
    return partial


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


def _token_in_url(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return "wm_" in query and any(
        TOKEN_RE.match(part.partition("=")[2]) for part in query.split("&")
    )


class AccessGate:
    """Authenticate, authorise, rate-limit and audit every request.

    Order per request: route lookup → public? pass : key check (401; 429 when the client
    address sent too many without a valid key) → the key's rate limit (429) → role check (403)
    → handler. Answers on audited routes, refused ones included, write their audit records
    before the status line leaves; refusals within bounds (see :meth:`_refuse`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        route, path_params, full = _match_route(scope)
        if not full and route is not None and allowed_roles("GET", route) == PUBLIC:
            # Another method on a public path: the app's 405 tells nothing worth a key.
            await self.app(scope, receive, send)
            return
        if not full:
            route = None  # a 405 (or 404) for a key holder; the path's own roles do not apply
        roles = allowed_roles(method, route) if route else frozenset()
        if roles == PUBLIC or method == "OPTIONS":
            await self.app(scope, receive, send)
            return
        state = getattr(scope["app"].state, "werkmatch", None)
        if state is None:  # not started (or shutting down): nothing to check keys against
            await send_error(send, 503, "unavailable", "the service is starting; retry", retry=5)
            return
        audit_scope = {**scope, "path_params": path_params}
        if _token_in_url(scope):
            await self._refuse(send, audit_scope, method, route, None, 401, state.engine)
            return
        token = _bearer(scope)
        try:
            principal, head = await _verified(state.engine, token)
        except DBAPIError as exc:
            await _database_unavailable(send, exc)
            return
        if method in ("GET", "HEAD") or route == "/v1/match":
            # Routes that write nothing: the index catches up to this position, no second read.
            scope.setdefault("state", {})[LOG_HEAD] = head
        if principal is None:
            await self._refuse(send, audit_scope, method, route, None, 401, state.engine)
            return
        limiter = state.limiter
        if limiter is not None:
            try:
                verdict = await count(limiter, principal.key_id)
            except LimiterUnavailable:
                await send_error(
                    send, 503, "unavailable", "rate limiter unreachable; retry", retry=5
                )
                return
            except DBAPIError as exc:
                await _database_unavailable(send, exc)
                return
            if not verdict.allowed:
                await self._refuse(
                    send,
                    audit_scope,
                    method,
                    route,
                    principal,
                    429,
                    state.engine,
                    retry=verdict.retry_after,
                    # the first answer over the limit is recorded, the rest of the window counted
                    record=verdict.count == verdict.limit + 1,
                )
                return
        if route is not None and principal.role not in roles:
            # Also a matched route without a policy entry: refused to everyone (deny by default).
            # After the rate limit, so that refused requests spend the key's budget too.
            await self._refuse(send, audit_scope, method, route, principal, 403, state.engine)
            return
        scope.setdefault("state", {})[_STATE_KEY] = principal
        await self._call_audited(scope, receive, send, method, route, principal, state.engine)

    async def _call_audited(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        method: str,
        route: str | None,
        principal: Principal,
        engine: Any,
    ) -> None:
        withheld = started = False

        async def send_after_audit(message: Message) -> None:
            nonlocal withheld, started
            if withheld:
                return
            if message["type"] == "http.response.start":
                started = True
                template = getattr(scope.get("route"), "path", route) or "unmatched"
                try:
                    if audit.written(scope) != message["status"]:  # else the handler wrote it
                        await _audit(engine, scope, method, template, message["status"], principal)
                except audit.AuditGap as exc:  # a route that forgot its scope: fail closed
                    log.error("answer withheld: %s", exc)
                    withheld = True
                    await send_error(send, 500, "internal_error", "unexpected server error")
                    return
                except Exception as exc:
                    log.error("audit write failed, answer withheld: %s", type(exc).__name__)
                    withheld = True
                    await send_error(
                        send, 503, "unavailable", "the audit log is unavailable; retry", retry=5
                    )
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_after_audit)
        except Exception:
            if not started:
                # The outermost error handler answers 500 after this, outside the gate: the
                # failed attempt is recorded first.
                template = getattr(scope.get("route"), "path", route) or "unmatched"
                try:
                    await _audit(engine, scope, method, template, 500, principal)
                except Exception as exc:
                    log.error("audit write of a failed answer failed: %s", type(exc).__name__)
            raise

    async def _refuse(
        self,
        send: Send,
        scope: Scope,
        method: str,
        route: str | None,
        principal: Principal | None,
        status: int,
        engine: Any,
        retry: int | None = None,
        record: bool = True,
    ) -> None:
        """Answer a refusal and record it, within bounds: a request without a valid key counts
        against its client address (:func:`_count_unauthenticated`); over that bound it is
        answered 429 and not recorded one by one, only the first answer over it is."""
        template = route or "unmatched"
        if status == 401:
            verdict = await _count_unauthenticated(scope)
            if verdict is None:  # the counter is unreachable: refuse, but write nothing
                record = False
            elif not verdict.allowed:
                if verdict.count == verdict.limit + 1:
                    await _record_bound_reached(engine, scope, method, template, verdict)
                await send_error(
                    send,
                    429,
                    "too_many_unauthenticated",
                    "too many requests without a valid API key from this address; retry after "
                    "the Retry-After seconds",
                    retry=verdict.retry_after,
                )
                return
        if record:
            try:
                await _audit(engine, scope, method, template, status, principal)
            except Exception as exc:  # the refusal stands either way
                log.error("audit write of a refusal failed: %s", type(exc).__name__)
        if status == 401:
            await send_error(
                send,
                401,
                "unauthorized",
                "a valid API key is required: 'Authorization: Bearer <key>' "
                "(keys are never accepted in the URL)",
                extra=[(b"www-authenticate", b'Bearer realm="werkmatch"')],
            )
        elif status == 403:
            await send_error(send, 403, "forbidden", "this key's role may not use this route")
        else:
            await send_error(
                send,
                429,
                "rate_limited",
                "too many requests for this key; retry after the Retry-After seconds",
                retry=retry,
            )


async def _audit(
    engine: Any,
    scope: Scope,
    method: str,
    template: str,
    status: int,
    principal: Principal | None,
) -> None:
    """Write the audit records this answer calls for (none for routes without candidate data);
    raises what the write raises, so each caller decides whether the answer may still go."""
    rows = audit.events_for(scope, method, template, status, principal, request_id_var.get())
    if rows:
        await anyio.to_thread.run_sync(audit.write, engine, rows)


_ANYONE = Verdict(allowed=True, limit=0, remaining=0, retry_after=0)


async def _count_unauthenticated(scope: Scope) -> Verdict | None:
    """Count one request without a valid key against its client address (the TCP peer, or
    the address a trusted proxy forwarded: uvicorn's ``--forwarded-allow-ips``); None when
    the counter store cannot be reached."""
    state = getattr(scope["app"].state, "werkmatch", None)
    limiter = getattr(state, "unauthenticated", None)
    if limiter is None:
        return _ANYONE
    client = scope.get("client")
    try:
        return await count(limiter, address_key(client[0] if client else None))
    except (LimiterUnavailable, DBAPIError) as exc:
        log.warning("counter of unauthenticated requests unavailable: %s", type(exc).__name__)
        return None


async def _record_bound_reached(
    engine: Any, scope: Scope, method: str, route: str, verdict: Verdict
) -> None:
    """One audit record for the rest of the window: this address's requests without a valid
    key are answered 429 and counted from here on, not recorded one by one."""
    client = scope.get("client")
    log.warning(
        "client %s sent more than %d requests without a valid key in a window; answering 429",
        address_key(client[0] if client else None),
        verdict.limit,
    )
    row = {
        "at": datetime.now(UTC),
        "key_id": None,
        "role": None,
        "candidate_id": None,
        "action": "refusals",
        "method": method,
        "route": route,
        "status": 429,
        "outcome": "refused",
        "request_id": request_id_var.get(),
    }
    try:
        await anyio.to_thread.run_sync(audit.write, engine, [row])
    except Exception as exc:  # the refusal stands either way
        log.error("audit write of a refusal bound failed: %s", type(exc).__name__)


async def _database_unavailable(send: Send, exc: DBAPIError) -> None:
    log.warning("database unavailable during the access check: %s", type(exc.orig).__name__)
    await send_error(
        send,
        503,
        "database_unavailable",
        "the database is not reachable; retry",
        retry=DATABASE_RETRY_AFTER,
    )


async def _verified(engine: Any, token: str | None) -> tuple[Principal | None, int]:
    """The key holder of ``token`` and the change-log position (:func:`verify_with_head`),
    read in a worker thread; a token not of the key form is refused without a read (or a
    thread). Not in the event loop even on SQLite, where the read itself is a tenth of a
    millisecond: the read lets go of the GIL, and under concurrent answers taking it back waited
    for another thread's turn (3.9 ms of loop time per read for 0.37 ms of CPU, 8 connections),
    holding up every other request's I/O meanwhile."""
    if not token or TOKEN_RE.match(token) is None:
        return None, 0
    return await anyio.to_thread.run_sync(_verify, engine, token)


def _verify(engine: Any, token: str) -> tuple[Principal | None, int]:
    with engine.connect() as conn:
        return verify_with_head(conn, token)


def audit_in_handler(scope: Scope, principal: Principal | None, engine: Any, status: int) -> None:
    """Write the audit records of an answer from the handler's own thread, once it knows the
    answer's status, so that the access gate need not send the write to a worker thread of its
    own (it skips the write when the status line it sees is this one; see
    :func:`service.security.audit.written`). Raises what the write raises: the caller leaves a
    failed write to the gate, which tries once more and withholds the answer if that fails too."""
    method: str = scope["method"]
    template = getattr(scope.get("route"), "path", None) or "unmatched"
    audit.write(
        engine, audit.events_for(scope, method, template, status, principal, request_id_var.get())
    )
    audit.mark_written(scope, status)
