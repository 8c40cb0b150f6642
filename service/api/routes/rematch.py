"""Nightly rematch over HTTP: start and watch runs, new matches per caseworker or vacancy, and
the follow-up status of a match."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, Path, Query, status

from matching.matcher import Matcher
from matching.profiles import CandidateFacts, VacancyFacts
from matching.ranking import Scored, explained
from matching.rematch import FOR_VACANCY
from matching.rerank import score_pool
from service.api.deps import (
    AppState,
    CandidateId,
    EmployerId,
    Limit,
    Offset,
    SessionDep,
    StateDep,
    VacancyId,
)
from service.api.rematch_schemas import (
    MatchStatusIn,
    MatchStatusOut,
    NewMatch,
    NewMatchList,
    RematchRunIn,
    RematchRunOut,
)
from service.api.tenancy import CandidateScope, CandidateScopeDep
from service.batch.rematch_runs import (
    claim_run,
    execute_run,
    executor_for,
    rematch_version,
)
from service.errors import ERROR_RESPONSES, ErrorBody, InvalidParameter, NotFound
from service.store import crud
from service.store.match_statuses import set_status, statuses_for_vacancies
from service.store.models import ID_PATTERN, Vacancy
from service.store.rematch_models import RematchMatch, RematchRun
from service.store.rematch_runs import (
    find_run,
    latest_success,
    new_pairs_of_caseworker,
    new_pairs_of_vacancy,
    previous_success,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["rematch"])

RunId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Rematch run id.")]
SinceRun = Annotated[
    int | None,
    Query(
        ge=1,
        le=2_147_483_647,
        description="Matches already in this successful run are not new "
        "(default: the successful run before the latest).",
    ),
]


def run_out(run: RematchRun) -> RematchRunOut:
    assert run.id is not None
    return RematchRunOut(run_id=run.id, **run.model_dump(exclude={"id", "active_slot", "owner"}))


def _run_in_background(state: AppState, run_id: int) -> None:
    try:
        with executor_for(state.settings, state.encoder, None) as executor:
            execute_run(
                engine=state.engine,
                run_id=run_id,
                encoder=state.encoder,
                locator=state.locator,
                settings=state.settings,
                executor=executor,
            )
    except Exception:  # already recorded on the run as 'failed'
        log.exception("background rematch run %d failed", run_id)


@router.post(
    "/v1/rematch-runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RematchRunOut,
    responses={409: {"model": ErrorBody, "description": "Another run is in progress"}},
)
def start_run(
    state: StateDep, session: SessionDep, body: Annotated[RematchRunIn | None, Body()] = None
) -> RematchRunOut:
    """Start a rematch in the background (202), or resume one whose process died; 409 while
    another run is in progress. Watch it with ``GET /v1/rematch-runs/{run_id}``."""
    top_k = (body.top_k if body else None) or state.settings.rematch_top_k
    run_id, _ = claim_run(state.engine, top_k, state.settings.rematch_stale_after_s)
    threading.Thread(
        target=_run_in_background, args=(state, run_id), name=f"rematch-{run_id}", daemon=True
    ).start()
    run = find_run(session, run_id)
    assert run is not None
    return run_out(run)


@router.get("/v1/rematch-runs/{run_id}", response_model=RematchRunOut)
def get_run(run_id: RunId, session: SessionDep) -> RematchRunOut:
    """State, progress, counts (with the diff), phase timings and errors of a run."""
    run = find_run(session, run_id)
    if run is None:
        raise NotFound(f"rematch run {run_id} not found (never existed or pruned)")
    return run_out(run)


def _runs(session: SessionDep, since_run: int | None) -> tuple[int, int | None]:
    latest = latest_success(session)
    if latest is None:
        raise NotFound("no rematch run has succeeded yet")
    if since_run is None:
        return latest, previous_success(session, latest)
    base = find_run(session, since_run)
    if base is None or base.state != "succeeded":
        raise InvalidParameter("since_run", f"run {since_run} is not a kept successful run")
    return latest, since_run


def _items(
    state: AppState, session: SessionDep, run_id: int, matches: list[RematchMatch]
) -> list[NewMatch]:
    run = find_run(session, run_id)
    assert run is not None
    statuses = statuses_for_vacancies(session, (m.vacancy_id for m in matches))

    def explain(matcher: Matcher) -> list[tuple[RematchMatch, VacancyFacts, CandidateFacts, Any]]:
        # Signals from the columnar ranker (as the interactive search computes them), one pool
        # per asking row; only the explanation is used, score and parts are shown as stored.
        found = []
        for m in matches:
            v = matcher.vacancies.facts.get(m.vacancy_id)
            c = matcher.candidates.facts.get(m.candidate_id)
            if v is not None and c is not None:  # else erased (or not embedded) since the run
                found.append((m, v, c))
        pools: dict[tuple[int, int], list[int]] = {}
        for n, (m, _, _) in enumerate(found):
            pools.setdefault(
                (m.direction, m.vacancy_id if m.direction == FOR_VACANCY else m.candidate_id), []
            ).append(n)
        scored: dict[int, Scored] = {}
        for (direction, _), members in pools.items():
            for_vacancy = direction == FOR_VACANCY
            store = matcher.candidates.store if for_vacancy else matcher.vacancies.store
            _, v0, c0 = found[members[0]]
            rows = [found[n][2].id if for_vacancy else found[n][1].id for n in members]
            # the stored semantic part is weighted (and rescaled above the model's floor); the
            # cosine is what the run scored
            calibration = matcher.calibration
            semantic = [found[n][0].semantic / calibration.weights["semantic"] for n in members]
            pool = score_pool(
                store,
                v0.side if for_vacancy else c0.side,
                np.asarray(rows, dtype=np.int64),
                calibration.cosine(semantic),
                calibration,
            )
            for r, n in enumerate(members):
                _, v, c = found[n]
                scored[n] = explained(
                    pool.signal_dict(r),
                    score=float(pool.score[r]),
                    vacancy_side=v.side,
                    cand_side=c.side,
                    query_is_vacancy=for_vacancy,
                    calibration=calibration,
                    vacancy=v,
                    cand=c,
                )
        return [(m, v, c, scored[n]) for n, (m, v, c) in enumerate(found)]

    with_reasons, explained_at = state.index.search(session, explain)
    return [
        NewMatch(
            employer_id=v.employer_id,
            vacancy_id=v.external_id,
            vacancy_title=v.title,
            candidate_id=c.external_id,
            score=m.score,
            parts={"semantic": m.semantic, "lexical": m.lexical, "occupation": m.occupation},
            explanation=scored.explanation,
            model_id=run.model_id,
            index_version=rematch_version(run),
            explanation_index_version=explained_at,
            status=statuses.get((m.vacancy_id, m.candidate_id)),
            direction="candidate_for_vacancy"
            if m.direction == FOR_VACANCY
            else "vacancy_for_candidate",
            rank=m.rank,
        )
        for m, v, c, scored in with_reasons
    ]


@router.get("/v1/caseworkers/{caseworker_id}/new-matches", response_model=NewMatchList)
def caseworker_new_matches(
    caseworker_id: Annotated[str, Path(pattern=ID_PATTERN)],
    state: StateDep,
    session: SessionDep,
    scope: CandidateScopeDep,
    since_run: SinceRun = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> NewMatchList:
    """Matches of the latest successful run for this caseworker's candidates that were not in
    ``since_run``, best first, a page at a time; rejected matches are never reported again."""
    if scope.caseworker_id is not None and scope.caseworker_id != caseworker_id:
        raise NotFound(f"caseworker {caseworker_id!r} not found")
    run_id, base = _runs(session, since_run)
    # within the key's scope too: a key bound to an organisation sees only its own candidates
    # of a caseworker (an id another organisation may use as well)
    matches = new_pairs_of_caseworker(session, run_id, base, caseworker_id, scope.bounds)
    return _page(state, session, scope, run_id, base, matches, limit, offset)


def _page(
    state: AppState,
    session: SessionDep,
    scope: CandidateScope,
    run_id: int,
    base: int | None,
    matches: list[RematchMatch],
    limit: int,
    offset: int,
) -> NewMatchList:
    """One page of new matches, explained; ``count`` is the total over every page."""
    items = _items(state, session, run_id, matches[offset : offset + limit])
    scope.show(i.candidate_id for i in items)
    return NewMatchList(run_id=run_id, since_run=base, data=items, count=len(matches))


def _vacancy(session: SessionDep, employer_id: str, vacancy_id: str) -> Vacancy:
    key = {"employer_id": employer_id, "external_id": vacancy_id}
    row: Vacancy | None = crud.get_row(session=session, kind=crud.VACANCIES, key=key)
    if row is None:
        raise NotFound(f"vacancy {vacancy_id!r} of employer {employer_id!r} not found")
    return row


@router.get(
    "/v1/employers/{employer_id}/vacancies/{vacancy_id}/new-matches", response_model=NewMatchList
)
def vacancy_new_matches(
    employer_id: EmployerId,
    vacancy_id: VacancyId,
    state: StateDep,
    session: SessionDep,
    scope: CandidateScopeDep,
    since_run: SinceRun = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> NewMatchList:
    """Candidates matched to this vacancy in the latest successful run that were not in
    ``since_run``, best first, a page at a time; rejected matches are never reported again
    (a caseload-limited key: only its caseload's candidates)."""
    vac = _vacancy(session, employer_id, vacancy_id)
    run_id, base = _runs(session, since_run)
    assert vac.id is not None
    matches = new_pairs_of_vacancy(session, run_id, base, vac.id, scope.bounds)
    return _page(state, session, scope, run_id, base, matches, limit, offset)


@router.put(
    "/v1/matches/{employer_id}/{vacancy_id}/{candidate_id}/status",
    response_model=MatchStatusOut,
    responses={404: ERROR_RESPONSES[404]},
)
def put_match_status(
    employer_id: EmployerId,
    vacancy_id: VacancyId,
    candidate_id: CandidateId,
    body: MatchStatusIn,
    session: SessionDep,
    scope: CandidateScopeDep,
) -> MatchStatusOut:
    """Record the follow-up of a match: seen, proposed, rejected (never reported as new again)
    or placed (the candidate leaves later rematches when ``rematch_placed_leave_pool``)."""
    vac = _vacancy(session, employer_id, vacancy_id)
    cand = scope.get(candidate_id)
    scope.show([candidate_id])
    assert vac.id is not None and cand.id is not None
    row = set_status(session, vac.id, cand.id, body.status, body.note)
    if row is None:  # the vacancy or candidate was deleted since it was read
        raise NotFound(f"candidate {candidate_id!r} or vacancy {vacancy_id!r} not found")
    return MatchStatusOut(
        employer_id=employer_id,
        vacancy_id=vacancy_id,
        candidate_id=candidate_id,
        status=row.status,
        note=row.note,
        updated_at=row.updated_at,
    )
