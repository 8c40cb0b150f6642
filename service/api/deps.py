"""Request dependencies as ``Annotated`` aliases, and the shared query parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import anyio
from fastapi import Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlmodel import Session

from matching.categories import LADDER_STEP_MAX, LADDER_STEP_MIN, ClientGroup, VacancyKind
from matching.embedder import Encoder
from matching.geo import PostcodeLocator
from matching.ranking import MatchFilters
from service.config import Settings
from service.errors import InvalidParameter, UnsupportedMediaType, short_name
from service.security.keys import LOG_HEAD
from service.security.rate_limit import RateLimiter
from service.state.index_state import LOG_HEAD_SEEN, IndexState
from service.store.models import ID_PATTERN
from service.store.occupations import OccupationIndex


@dataclass
class AppState:
    """Everything heavy the app holds, built in its lifespan."""

    settings: Settings
    engine: Engine
    encoder: Encoder
    locator: PostcodeLocator
    index: IndexState
    occupations: OccupationIndex = field(default_factory=OccupationIndex)
    limiter: RateLimiter | None = None
    unauthenticated: RateLimiter | None = None  # requests without a valid key, per address


async def get_state(request: Request) -> AppState:
    # async: a plain read; a sync dependency would cost a hop to the thread pool per request
    return request.app.state.werkmatch  # type: ignore[no-any-return]  # Starlette's app.state is untyped; create_app stores an AppState


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(request: Request, state: StateDep) -> AsyncIterator[Session]:
    # async: opening a session does no I/O (it connects on its first query), so it needs no
    # thread; closing it ends the transaction, a call into SQLite's library, but a round trip
    # to a PostgreSQL server, which runs in a thread so as not to hold up the event loop. A
    # session with no transaction (never used, or closed by its handler) closes without I/O.
    session = Session(state.engine)
    try:
        head = request.scope.get("state", {}).get(LOG_HEAD)
        if head is not None:  # read by the access gate with the key: the index needs no read
            session.info[LOG_HEAD_SEEN] = head
        yield session
    finally:
        if state.engine.dialect.name == "sqlite" or not session.in_transaction():
            session.close()
        else:
            with anyio.CancelScope(shield=True):  # a cancelled request still returns its connection
                await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]

_ID_DOC = "1–64 characters: letters, digits, '.', '_' or '-', not starting with '.'"
CandidateId = Annotated[str, Path(pattern=ID_PATTERN, description=f"Client-system id; {_ID_DOC}")]
EmployerId = Annotated[str, Path(pattern=ID_PATTERN, description=f"Employer account id; {_ID_DOC}")]
VacancyId = Annotated[
    str, Path(pattern=ID_PATTERN, description=f"Employer's vacancy id; {_ID_DOC}")
]
Slug = Annotated[str, Path(pattern=ID_PATTERN, description=f"Focus-occupation slug; {_ID_DOC}")]

Limit = Annotated[int, Query(ge=1, le=200, description="Page size, 1–200.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]


@dataclass(frozen=True)
class MatchParams:
    limit: int
    filters: MatchFilters


async def candidate_match_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Number of results, 1–200.")] = 20,
    focus_only: Annotated[
        bool, Query(description="Keep only matches in a (shared) focus occupation.")
    ] = False,
    ladder_step_min: Annotated[
        int | None,
        Query(
            ge=LADDER_STEP_MIN,
            le=LADDER_STEP_MAX,
            description="Lowest participation-ladder step.",
        ),
    ] = None,
    client_group: Annotated[
        list[ClientGroup], Query(description="Allowed client groups (repeatable).")
    ] = [],  # noqa: B006  (FastAPI copies defaults per request)
    max_distance_km: Annotated[
        float | None, Query(gt=0, le=500, description="Largest distance in km.")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, description="Lowest score.")] = None,
    # Vacancy filters, accepted only to answer a clear 422 (as the other direction does).
    kind: Annotated[list[str], Query(include_in_schema=False)] = [],  # noqa: B006
    include_closed: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> MatchParams:
    """Filters for queries whose results are candidates."""
    if kind:
        raise InvalidParameter("kind", "filters vacancies; these results are candidates")
    if include_closed is not None:
        raise InvalidParameter("include_closed", "filters vacancies; these results are candidates")
    return MatchParams(
        limit=limit,
        filters=MatchFilters(
            focus_only=focus_only,
            ladder_step_min=ladder_step_min,
            client_groups=tuple(client_group),
            max_distance_km=max_distance_km,
            min_score=min_score,
        ),
    )


async def vacancy_match_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Number of results, 1–200.")] = 20,
    focus_only: Annotated[
        bool, Query(description="Keep only matches in a (shared) focus occupation.")
    ] = False,
    max_distance_km: Annotated[
        float | None, Query(gt=0, le=500, description="Largest distance in km.")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, description="Lowest score.")] = None,
    kind: Annotated[
        list[VacancyKind], Query(description="Allowed vacancy kinds (repeatable).")
    ] = [],  # noqa: B006
    include_closed: Annotated[bool, Query(description="Also closed and filled vacancies.")] = False,
    # Candidate filters, accepted only to answer a clear 422; not in the document, which lists
    # what a request may hold.
    ladder_step_min: Annotated[int | None, Query(include_in_schema=False)] = None,
    client_group: Annotated[list[str], Query(include_in_schema=False)] = [],  # noqa: B006
) -> MatchParams:
    """Filters for queries whose results are vacancies."""
    if ladder_step_min is not None:
        raise InvalidParameter("ladder_step_min", "filters candidates; these results are vacancies")
    if client_group:
        raise InvalidParameter("client_group", "filters candidates; these results are vacancies")
    return MatchParams(
        limit=limit,
        filters=MatchFilters(
            focus_only=focus_only,
            max_distance_km=max_distance_km,
            min_score=min_score,
            kinds=tuple(kind),
            include_closed=include_closed,
        ),
    )


CandidateMatchParams = Annotated[MatchParams, Depends(candidate_match_params)]
VacancyMatchParams = Annotated[MatchParams, Depends(vacancy_match_params)]


# ---------------------------------------------------------------- rules for every request

_JSON_BODY = "application/json"


def _query_names(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """(every query parameter the route declares, those that may repeat)."""
    cached = _QUERY_NAMES.get(id(route))
    if cached is None:
        params, pending = [], [route.dependant]
        while pending:  # the route's own parameters and those of its dependencies
            dependant = pending.pop()
            params.extend(dependant.query_params)
            pending.extend(dependant.dependencies)
        names = frozenset(p.alias for p in params)
        repeatable = frozenset(p.alias for p in params if _is_list(p.field_info.annotation))
        cached = _QUERY_NAMES[id(route)] = (names, repeatable)
    return cached


_QUERY_NAMES: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_list(arg) for arg in get_args(annotation))
    return get_origin(annotation) in (list, tuple, set, frozenset)


async def request_rules(request: Request) -> None:
    """What every route refuses instead of ignoring (app-wide dependency):

    - on API and page-fragment routes, a query parameter the route does not declare, or one
      value of a single-valued parameter given more than once (a 422 naming it: an ignored
      filter would silently widen a result);
    - a request body of another media type than ``application/json`` (a 415); the vacancy PUT,
      which also takes JSON-LD, checks its own.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names, repeatable = _query_names(route)
    # Probes (/healthz, /readyz, /metrics), the page shell and the docs take no parameters and
    # ignore a query string (a monitor's cache buster); API and page-fragment routes, whose
    # parameters filter what they show, refuse what they do not know.
    filtered = route.path.startswith(("/v1/", "/ui/f/"))
    for name in dict.fromkeys(request.query_params.keys()) if filtered else ():
        if name not in names:
            raise InvalidParameter(short_name(name), "unknown query parameter")
        if name not in repeatable and len(request.query_params.getlist(name)) > 1:
            raise InvalidParameter(name, "given more than once; it takes one value")
    if route.body_field is not None and "content-type" in request.headers:
        media = request.headers["content-type"].split(";")[0].strip().lower()
        if media != _JSON_BODY:
            raise UnsupportedMediaType(f"send the body as {_JSON_BODY}")
