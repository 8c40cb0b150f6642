"""The candidates nobody finds: active candidates in no open vacancy's top-k of the latest
successful rematch run, each with the reasons the data shows.

Who is in the report is one query over ``candidate``
(:func:`service.store.unmatched.unmatched_rows`): a filter on a candidate column is one more
condition there. Why is read from the matcher itself
(:func:`matching.unmatched.diagnose`: the same filter columns and index as matching), from the
completeness report's notion of missing fields (:func:`service.api.routes.reports.missing_fields`)
and from the run's stored matches (the candidate's own best-scored vacancy).
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from matching.categories import CLIENT_GROUPS, ClientGroup
from matching.matcher import Matcher
from matching.unmatched import FIT_COUNT, Diagnosis, diagnose
from service.api.completeness import FIELDS, Missing, missing_fields
from service.api.deps import AppState
from service.api.tenancy import CandidateScope, employer_scope
from service.store.models import Candidate, UtcDateTime
from service.store.rematch_runs import find_run, latest_success
from service.store.unmatched import best_vacancies, unmatched_rows

ReasonCode = Literal[
    "no_vacancy_in_reach",
    "licence_required",
    "hours_mismatch",
    "missing_fields",
    "not_indexed",
    "outranked",
]
REASON_LABELS: dict[ReasonCode, str] = {
    "no_vacancy_in_reach": "Geen open vacature binnen de reisafstand",
    "licence_required": "Passende vacatures vragen een rijbewijs",
    "hours_mismatch": "Passende vacatures vragen andere uren",
    "missing_fields": "Profiel onvolledig",
    "not_indexed": "Nog niet in de zoekindex",
    "outranked": "Andere kandidaten scoorden hoger",
}
REASONS: tuple[ReasonCode, ...] = tuple(REASON_LABELS)
MISSING_LABELS: dict[Missing, str] = {
    "desired_occupation": "gewenst beroep",
    "hours": "uren per week",
    "location": "postcode of coördinaten",
    "ladder_step": "trede op de participatieladder",
}
NO_GROUP = "unknown"  # key of the candidates without a client group in the counts


class Reason(BaseModel):
    code: ReasonCode = Field(description="Machine code of the reason.")
    label: str = Field(description="The reason in Dutch, for the caseworker.")
    detail: str = Field(description="What the data shows, in Dutch.")


class ClosestVacancy(BaseModel):
    employer_id: str
    vacancy_id: str
    title: str
    status: str
    score: float = Field(description="Score of this pair in the run (0–1).")


class UnmatchedCandidate(BaseModel):
    candidate_id: str
    caseworker_id: str | None
    client_group: ClientGroup | None
    reasons: list[Reason] = Field(description="At least one; `outranked` only when alone.")
    missing: list[Missing] = Field(description="Profile fields matching needs that are empty.")
    best_score: float | None = Field(
        description="The candidate's best score in the run (their best vacancy), if any."
    )
    closest_vacancy: ClosestVacancy | None = Field(
        description="The vacancy that came closest in the run, as far as the key may see it."
    )


class RunRef(BaseModel):
    run_id: int
    top_k: int
    finished_at: UtcDateTime | None


class UnmatchedReport(BaseModel):
    run: RunRef | None = Field(
        description="The latest successful rematch run; null: no run has succeeded yet, so "
        "nobody can be reported (the lists and counts are then empty)."
    )
    active_candidates: int = Field(
        description="Active candidates in scope (and filters) that the run took part in."
    )
    count: int = Field(description="Candidates in no open vacancy's top-k, in total.")
    client_group_counts: dict[str, int] = Field(
        description=f"Unmatched candidates per client group ({NO_GROUP!r}: none recorded)."
    )
    reason_counts: dict[ReasonCode, int] = Field(
        description="Unmatched candidates per reason (a candidate can have several)."
    )
    reason_labels: dict[ReasonCode, str] = Field(description="Dutch label of each reason.")
    missing_counts: dict[Missing, int] = Field(
        description="Unmatched candidates lacking each field."
    )
    data: list[UnmatchedCandidate] = Field(description="A page of them, by candidate id.")


def _empty(run: RunRef | None, active: int) -> UnmatchedReport:
    return UnmatchedReport(
        run=run,
        active_candidates=active,
        count=0,
        client_group_counts=dict.fromkeys((*CLIENT_GROUPS, NO_GROUP), 0),
        reason_counts=dict.fromkeys(REASONS, 0),
        reason_labels=REASON_LABELS,
        missing_counts=dict.fromkeys(FIELDS, 0),
        data=[],
    )


def _reasons(row: Candidate, missing: list[Missing], d: Diagnosis | None) -> list[Reason]:
    out: list[Reason] = []

    def add(code: ReasonCode, detail: str) -> None:
        out.append(Reason(code=code, label=REASON_LABELS[code], detail=detail))

    if d is None:
        add("not_indexed", "De kandidaat heeft nog geen vector in de zoekindex.")
    else:
        if d.in_reach == 0:
            if d.open_vacancies == 0:
                add("no_vacancy_in_reach", "Er is geen enkele open vacature.")
            else:
                km = f"{row.max_travel_km:g} km" if row.max_travel_km is not None else "de"
                add(
                    "no_vacancy_in_reach",
                    f"Geen van de {d.open_vacancies} open vacatures ligt binnen {km} reisafstand.",
                )
        if d.need_licence:
            add(
                "licence_required",
                f"{d.need_licence} van de {d.fitting} best passende open vacatures binnen de "
                "reisafstand vragen een rijbewijs; de kandidaat heeft er geen.",
            )
        if d.other_hours and d.hours is not None:
            lo, hi = d.hours
            add(
                "hours_mismatch",
                f"{d.other_hours} van de {d.fitting} best passende open vacatures binnen de "
                f"reisafstand vragen uren buiten {lo}–{hi} uur per week.",
            )
    if missing:
        add("missing_fields", "Ontbreekt: " + ", ".join(MISSING_LABELS[m] for m in missing) + ".")
    if not out:
        add(
            "outranked",
            "Reisafstand, rijbewijs, uren en profiel laten geen tekort zien; bij de passende "
            "vacatures scoorden andere kandidaten hoger.",
        )
    return out


def _closest(
    session: Session, scope: CandidateScope, run_id: int, ids: list[int]
) -> dict[int, tuple[float, ClosestVacancy | None]]:
    """Per candidate (internal id): their best score in the run and that vacancy (None when
    the key may not see it, or it was erased)."""
    if not ids:
        return {}
    own = employer_scope(scope.principal)
    out: dict[int, tuple[float, ClosestVacancy | None]] = {}
    for cid, score, vac in best_vacancies(session, run_id, ids):
        shown = None
        if vac is not None and (own is None or vac.employer_id == own):
            shown = ClosestVacancy(
                employer_id=vac.employer_id,
                vacancy_id=vac.external_id,
                title=vac.title,
                status=vac.status,
                score=round(float(score), 4),
            )
        out[int(cid)] = (round(float(score), 4), shown)
    return out


def unmatched_report(
    state: AppState,
    session: Session,
    scope: CandidateScope,
    *,
    caseworker_id: str | None = None,
    organisation_id: str | None = None,
    client_group: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> UnmatchedReport:
    """The report for the key's scope and the given filters; names the candidates of the page
    through ``scope.show`` (also when there are none)."""
    run_id = latest_success(session)
    run = find_run(session, run_id) if run_id is not None else None
    if run is None:
        scope.show([])
        return _empty(None, 0)
    ref = RunRef(run_id=run.id or 0, top_k=run.top_k, finished_at=run.finished_at)
    active, rows = unmatched_rows(
        session,
        run,
        scope.bounds,
        placed_leave_pool=state.settings.rematch_placed_leave_pool,
        caseworker_id=caseworker_id,
        organisation_id=organisation_id,
        client_group=client_group,
    )
    internal = [int(r.id) for r in rows if r.id is not None]

    def look(matcher: Matcher) -> dict[int, Diagnosis | None]:
        return {i: diagnose(matcher, i, FIT_COUNT) for i in internal}

    diagnoses, _ = state.index.search(session, look) if internal else ({}, "")
    report = _empty(ref, active)
    items: list[UnmatchedCandidate] = []
    groups: Counter[str] = Counter()
    reasons: Counter[ReasonCode] = Counter()
    fields: Counter[Missing] = Counter()
    for row in rows:
        missing = missing_fields(row)
        why = _reasons(row, missing, diagnoses.get(int(row.id or 0)))
        groups[row.client_group or NO_GROUP] += 1
        reasons.update(r.code for r in why)
        fields.update(missing)
        items.append(
            UnmatchedCandidate(
                candidate_id=row.external_id,
                caseworker_id=row.caseworker_id,
                client_group=row.client_group,
                reasons=why,
                missing=missing,
                best_score=None,
                closest_vacancy=None,
            )
        )
    page = items[offset : offset + limit]
    by_external = {r.external_id: int(r.id or 0) for r in rows}
    closest = _closest(session, scope, run.id or 0, [by_external[i.candidate_id] for i in page])
    for item in page:
        best = closest.get(by_external[item.candidate_id])
        if best is not None:
            item.best_score, item.closest_vacancy = best
    scope.show(i.candidate_id for i in page)
    report.count = len(items)
    report.client_group_counts.update(groups)
    report.reason_counts.update(reasons)
    report.missing_counts.update(fields)
    report.data = page
    return report
