"""Request dependencies as ``Annotated`` aliases, and the shared query parameters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy import Engine
from sqlmodel import Session

from matching.embedder import Encoder
from matching.geo import PostcodeLocator
from matching.ranking import MatchFilters
from service.config import Settings
from service.errors import InvalidParameter
from service.index_state import IndexState
from service.models import ID_PATTERN, ClientGroup, VacancyKind
from service.occupations import OccupationIndex
from service.rate_limit import RateLimiter


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


def get_state(request: Request) -> AppState:
    return request.app.state.werkmatch  # type: ignore[no-any-return]


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with Session(state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_ID_DOC = "1–64 characters: letters, digits, '.', '_' or '-'"
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


def candidate_match_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Number of results, 1–200.")] = 20,
    focus_only: Annotated[
        bool, Query(description="Keep only matches in a (shared) focus occupation.")
    ] = False,
    ladder_step_min: Annotated[
        int | None, Query(ge=1, le=6, description="Lowest participation-ladder step.")
    ] = None,
    client_group: Annotated[
        list[ClientGroup], Query(description="Allowed client groups (repeatable).")
    ] = [],  # noqa: B006  (FastAPI copies defaults per request)
    max_distance_km: Annotated[
        float | None, Query(gt=0, le=500, description="Largest distance in km.")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1, description="Lowest score.")] = None,
) -> MatchParams:
    """Filters for queries whose results are candidates."""
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


def vacancy_match_params(
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
