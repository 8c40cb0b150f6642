"""Routes of the web page: the shell and the fragments it loads (kept out of the OpenAPI)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from matching.categories import ClientGroup
from matching.ranking import WEIGHTS
from service.api.deps import (
    CandidateId,
    CandidateMatchParams,
    EmployerId,
    SessionDep,
    StateDep,
    VacancyId,
    VacancyMatchParams,
)
from service.api.match_service import candidates_for_vacancy, vacancies_for_candidate
from service.api.routes.rematch import caseworker_new_matches
from service.api.schemas import CandidateMatchItem, VacancyMatchItem
from service.api.tenancy import CandidateScopeDep
from service.api.unmatched import MISSING_LABELS, UnmatchedReport, unmatched_report
from service.errors import NotFound
from service.store import crud
from service.store.match_statuses import statuses_by_candidate
from service.store.models import ID_PATTERN
from service.store.rematch_models import MatchStatusValue
from service.store.vacancy_listings import search_open_vacancies

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")

# Display labels of enumerations defined elsewhere (matching.ranking.SIGNALS,
# matching.categories.ClientGroup, store.rematch_models.MatchStatusValue): one per value, in
# the definition's order, which tests/api/test_ui.py checks (and werkmatch.js's copy).
PART_LABELS: dict[str, str] = {
    "semantic": "Betekenis",
    "lexical": "Woorden",
    "occupation": "Beroep",
}
CLIENT_GROUP_LABELS: dict[ClientGroup, str] = {
    "matchen": "Matchen",
    "groeien": "Groeien",
    "faciliteren": "Faciliteren",
    "zorgen": "Zorgen",
}
STATUS_LABELS: dict[MatchStatusValue, str] = {
    "seen": "Gezien",
    "proposed": "Voorgesteld",
    "rejected": "Afgewezen",
    "placed": "Geplaatst",
}
PAGE_SIZE = 25
BAR_WIDTH = 320  # px of the longest bar in the reasons chart
LABEL_WIDTH = 320  # px of the reason labels left of the bars


def _nl(value: float | None, digits: int = 2) -> str:
    """A number the Dutch way: decimal comma."""
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


templates.env.filters["nl"] = _nl
templates.env.globals.update(
    PART_LABELS=PART_LABELS,
    WEIGHTS=WEIGHTS,
    CLIENT_GROUP_LABELS=CLIENT_GROUP_LABELS,
    STATUS_LABELS=STATUS_LABELS,
    MISSING_LABELS=MISSING_LABELS,
    BAR_WIDTH=BAR_WIDTH,
    LABEL_WIDTH=LABEL_WIDTH,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


def _render(request: Request, name: str, **context: Any) -> HTMLResponse:
    state = getattr(request.app.state, "werkmatch", None)
    if state is not None:  # the weights the shown scores were computed with
        context.setdefault("WEIGHTS", state.index.calibration.weights)
    return templates.TemplateResponse(request, name, context)


@router.get("", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    """The page shell: key field, navigation and the region fragments are loaded into."""
    return _render(request, "index.html")


@router.get("/f/vacancies", response_class=HTMLResponse)
def vacancy_list(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    """Open vacancies, searchable, a page at a time."""
    rows, total = search_open_vacancies(session, q.strip(), PAGE_SIZE, offset)
    return _render(
        request,
        "_vacancies.html",
        rows=rows,
        total=total,
        q=q.strip(),
        offset=offset,
        page_size=PAGE_SIZE,
    )


@router.get("/f/vacancies/{employer_id}/{vacancy_id}", response_class=HTMLResponse)
def vacancy_page(
    request: Request,
    employer_id: EmployerId,
    vacancy_id: VacancyId,
    session: SessionDep,
    state: StateDep,
    params: CandidateMatchParams,
    scope: CandidateScopeDep,
) -> HTMLResponse:
    """A vacancy with its ranked candidates, under the chosen filters."""
    row = crud.get_row(
        session=session,
        kind=crud.VACANCIES,
        key={"employer_id": employer_id, "external_id": vacancy_id},
    )
    if row is None:
        raise NotFound(f"vacancy {vacancy_id!r} of employer {employer_id!r} not found")
    filters = replace(params.filters, only_candidates=scope.internal_ids())
    items = [
        CandidateMatchItem.model_validate(i)
        for i in candidates_for_vacancy(state, session, row, filters, params.limit)
    ]
    scope.show(i.candidate_id for i in items)
    return _render(
        request,
        "_vacancy.html",
        vacancy=row,
        items=items,
        filters=filters,
        statuses=statuses_by_candidate(session, row.id),
    )


@router.get("/f/candidates/{candidate_id}", response_class=HTMLResponse)
def candidate_page(
    request: Request,
    candidate_id: CandidateId,
    session: SessionDep,
    state: StateDep,
    params: VacancyMatchParams,
    scope: CandidateScopeDep,
) -> HTMLResponse:
    """A candidate's profile summary and the open vacancies that fit best."""
    row = scope.get(candidate_id)
    scope.show([candidate_id])
    items = [
        VacancyMatchItem.model_validate(i)
        for i in vacancies_for_candidate(state, session, row, params.filters, params.limit)
    ]
    return _render(request, "_candidate.html", candidate=row, items=items)


@router.get("/f/new-matches", response_class=HTMLResponse)
def new_matches_page(
    request: Request,
    session: SessionDep,
    state: StateDep,
    scope: CandidateScopeDep,
    caseworker: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """ "Nieuw sinds vannacht": a caseworker's new matches of the latest successful rematch,
    a page at a time."""
    result = None
    if caseworker:
        try:
            result = caseworker_new_matches(
                caseworker, state, session, scope, limit=PAGE_SIZE, offset=offset
            )
        except NotFound:  # no run has succeeded yet: the page says so
            result = None
    if result is None:
        scope.show([])  # no list was rendered: one record of the visit
    return _render(
        request,
        "_new_matches.html",
        caseworker=caseworker,
        result=result,
        offset=offset,
        page_size=PAGE_SIZE,
    )


@router.get("/f/unmatched", response_class=HTMLResponse)
def unmatched_page(
    request: Request,
    session: SessionDep,
    state: StateDep,
    scope: CandidateScopeDep,
    caseworker: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """ "Niet gevonden": a caseworker's candidates in no open vacancy's top-k of the latest
    successful rematch, with their reasons and a bar chart of the reasons, a page at a time."""
    report = None
    if caseworker:
        report = unmatched_report(
            state, session, scope, caseworker_id=caseworker, limit=PAGE_SIZE, offset=offset
        )
    else:
        scope.show([])  # no list was rendered: one record of the visit
    return _render(
        request,
        "_unmatched.html",
        caseworker=caseworker,
        report=report,
        bars=reason_bars(report) if report is not None else [],
        offset=offset,
        page_size=PAGE_SIZE,
    )


def reason_bars(report: UnmatchedReport) -> list[dict[str, Any]]:
    """The reasons chart's rows: label, count and bar width (the longest bar is BAR_WIDTH)."""
    top = max(report.reason_counts.values(), default=0)
    return [
        {
            "code": code,
            "label": report.reason_labels[code],
            "count": n,
            "width": max(2, round(BAR_WIDTH * n / top)) if n else 0,
        }
        for code, n in report.reason_counts.items()
    ]
