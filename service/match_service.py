"""Glue between the HTTP layer and the matcher: look up the query side, search, shape items."""

from __future__ import annotations

import numpy as np
from sqlmodel import Session

from matching.matcher import CandidateMatch, VacancyMatch
from matching.profiles import Side, make_side, resolve_location
from matching.ranking import MatchFilters, Scored
from service.deps import AppState
from service.errors import WerkmatchError
from service.models import Candidate, Vacancy
from service.schemas import (
    AdHocMatchIn,
    CandidateMatchItem,
    CandidateSummary,
    FocusMatchOut,
    VacancyMatchItem,
    VacancySummary,
)


class NotIndexed(WerkmatchError):
    """The row exists but its vector is not in this process's index (yet)."""

    status_code = 503
    error = "not_indexed"


def _scored_fields(s: Scored) -> dict[str, object]:
    focus = None
    if s.focus is not None:
        f = s.focus
        focus = FocusMatchOut(
            slug=f.slug,
            name=f.name,
            label=f.label,
            matched=f.matched,
            score=round(f.score, 4),
            via=f.via,
        )
    return {
        "score": s.score,
        "parts": s.parts,
        "signals": s.signals,
        "explanation": s.explanation,
        "focus": focus,
        "distance_km": s.distance_km,
    }


def candidate_items(matches: list[CandidateMatch]) -> list[CandidateMatchItem]:
    return [
        CandidateMatchItem(
            candidate_id=m.facts.external_id,
            summary=CandidateSummary(
                desired_occupations=list(m.facts.side.occupations),
                participation_ladder_step=m.facts.ladder_step,
                client_group=m.facts.client_group,
            ),
            **_scored_fields(m.scored),  # type: ignore[arg-type]
        )
        for m in matches
    ]


def vacancy_items(matches: list[VacancyMatch]) -> list[VacancyMatchItem]:
    return [
        VacancyMatchItem(
            employer_id=m.facts.employer_id,
            vacancy_id=m.facts.external_id,
            summary=VacancySummary(
                title=m.facts.title,
                occupation=m.facts.occupation,
                kind=m.facts.kind,
                status=m.facts.status,
                hours_per_week=m.facts.hours,
                closes_on=m.facts.closes_on,
            ),
            **_scored_fields(m.scored),  # type: ignore[arg-type]
        )
        for m in matches
    ]


def candidates_for_vacancy(
    state: AppState, session: Session, row: Vacancy, filters: MatchFilters, limit: int
) -> list[CandidateMatchItem]:
    state.index.catch_up(session)
    matcher = state.index.matcher
    assert row.id is not None
    facts = matcher.vacancies.facts.get(row.id)
    vec = matcher.vacancies.index.reconstruct(row.id)
    if facts is None or vec is None:
        raise NotIndexed("this vacancy has no vector in the index yet; retry shortly")
    return candidate_items(matcher.candidates_for(vec, facts.side, filters, limit, vacancy=facts))


def vacancies_for_candidate(
    state: AppState, session: Session, row: Candidate, filters: MatchFilters, limit: int
) -> list[VacancyMatchItem]:
    state.index.catch_up(session)
    matcher = state.index.matcher
    assert row.id is not None
    facts = matcher.candidates.facts.get(row.id)
    vec = matcher.candidates.index.reconstruct(row.id)
    if facts is None or vec is None:
        raise NotIndexed("this candidate has no vector in the index yet; retry shortly")
    return vacancy_items(matcher.vacancies_for(vec, facts.side, filters, limit, candidate=facts))


def ad_hoc(
    state: AppState, session: Session, query: AdHocMatchIn
) -> list[CandidateMatchItem] | list[VacancyMatchItem]:
    """Match a free text that is not stored against candidates or vacancies."""
    state.index.catch_up(session)
    matcher = state.index.matcher
    side: Side = make_side(
        occupations=query.occupations,
        skills=query.skills,
        text=query.text,
        location=resolve_location(state.locator, query.postcode, query.lat, query.lon),
        focus=matcher.focus,
    )
    vec: np.ndarray = state.encoder.embed([query.text]).vectors[0]
    filters = MatchFilters(
        focus_only=query.focus_only,
        ladder_step_min=query.ladder_step_min,
        client_groups=tuple(query.client_group),
        max_distance_km=query.max_distance_km,
        min_score=query.min_score,
        kinds=tuple(query.kind),
        include_closed=query.include_closed,
    )
    if query.target == "candidates":
        return candidate_items(matcher.candidates_for(vec, side, filters, query.limit))
    return vacancy_items(matcher.vacancies_for(vec, side, filters, query.limit))
