"""Glue between the HTTP layer and the matcher: look up the query side, search, shape items.

Every item carries its record: the explanation, the model id and the index version it was
computed at (:meth:`service.state.index_state.IndexState.search`), so the answer can be reproduced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from fastapi import Response
from pydantic_core import to_json
from sqlmodel import Session

from matching.matcher import CandidateMatch, Collection, Matcher, VacancyMatch
from matching.profiles import Side, make_side, resolve_location
from matching.ranking import MatchFilters, Scored
from matching.text import TermLocator
from service.api.deps import AppState
from service.api.schemas import MAX_HIGHLIGHTS_PER_SIDE, AdHocMatchIn
from service.errors import WerkmatchError
from service.store.models import Candidate, Vacancy
from service.store.row_texts import texts_by_id


class MatchRecord(NamedTuple):
    """What a match answer was computed from (see the item schemas)."""

    model_id: str
    index_version: str


class NotIndexed(WerkmatchError):
    """The row exists but its vector is not in this process's index (yet)."""

    status_code = 503
    error = "not_indexed"


MatchItem = dict[str, Any]
"""One match as its JSON object: the fields of ``CandidateMatchItem`` / ``VacancyMatchItem`` in
their order, already JSON types (built once; the routes send it without validating it again)."""


def _scored_fields(s: Scored, record: MatchRecord, highlights: list[dict[str, Any]]) -> MatchItem:
    focus = None
    if s.focus is not None:
        f = s.focus
        focus = {
            "slug": f.slug,
            "name": f.name,
            "label": f.label,
            "matched": f.matched,
            "score": round(f.score, 4),
            "via": f.via,
        }
    return {
        "score": float(s.score),
        "parts": s.parts,
        "signals": s.signals,
        "explanation": s.explanation,
        "model_id": record.model_id,
        "index_version": record.index_version,
        "focus": focus,
        "distance_km": s.distance_km,
        "highlights": highlights,
    }


class _Texts:
    """The stored texts the highlights point into: the query's and the returned results'.

    Read only for the returned rows that share terms with the query (one query), never for
    the re-rank pool; the query text is folded once for all results. A result's spans come
    from its collection (:meth:`matching.matcher.Collection.term_spans`), which keeps those of
    rows returned before.
    """

    def __init__(
        self,
        session: Session,
        query: tuple[str, str],
        result_side: str,
        table: Any,
        ids: Sequence[int],
        collection: Collection[Any],
    ) -> None:
        self.query_side, query_text = query
        self.query = TermLocator(query_text)
        self.result_side = result_side
        self.collection = collection
        self.results: dict[int, str] = {}
        if ids:
            self.results = texts_by_id(session, table, ids)

    def highlights(self, result_id: int, scored: Scored) -> list[dict[str, Any]]:
        """``Highlight`` objects: the CV's first, then by offset."""
        terms = scored.shared_terms
        if not terms:
            return []
        result = self.collection.term_spans(
            result_id, self.results.get(result_id, ""), terms, MAX_HIGHLIGHTS_PER_SIDE
        )
        out = [
            (side != "cv", start, term, side, end)
            for side, spans in (
                (self.query_side, self.query.spans(terms, MAX_HIGHLIGHTS_PER_SIDE)),
                (self.result_side, result),
            )
            for term, start, end in spans
        ]
        out.sort(key=lambda h: h[:2])  # stable: equal offsets keep their order
        return [
            {"term": t, "side": side, "start": start, "end": end} for _, start, t, side, end in out
        ]


def _texts(
    session: Session,
    matches: Sequence[CandidateMatch | VacancyMatch],
    query: tuple[str, str],
    collection: Collection[Any],
) -> _Texts:
    """The texts of ``matches`` (rows of ``collection``) and of the query, for highlights."""
    side, table = ("cv", Candidate) if collection.kind == "candidate" else ("vacancy", Vacancy)
    ids = [m.facts.id for m in matches if m.scored.shared_terms]
    return _Texts(session, query, side, table, ids, collection)


def candidate_items(
    matches: list[CandidateMatch], record: MatchRecord, texts: _Texts | None = None
) -> list[MatchItem]:
    """``CandidateMatchItem`` objects of the matches."""
    out = []
    for m in matches:
        item = _scored_fields(
            m.scored, record, texts.highlights(m.facts.id, m.scored) if texts else []
        )
        item["candidate_id"] = m.facts.external_id
        item["summary"] = {
            "desired_occupations": list(m.facts.side.occupations),
            "participation_ladder_step": m.facts.ladder_step,
            "client_group": m.facts.client_group,
        }
        out.append(item)
    return out


def vacancy_items(
    matches: list[VacancyMatch], record: MatchRecord, texts: _Texts | None = None
) -> list[MatchItem]:
    """``VacancyMatchItem`` objects of the matches."""
    out = []
    for m in matches:
        f = m.facts
        item = _scored_fields(m.scored, record, texts.highlights(f.id, m.scored) if texts else [])
        item["employer_id"] = f.employer_id
        item["vacancy_id"] = f.external_id
        item["summary"] = {
            "title": f.title,
            "occupation": f.occupation,
            "kind": f.kind,
            "status": f.status,
            "hours_per_week": f.hours,
            "closes_on": f.closes_on.isoformat() if f.closes_on is not None else None,
        }
        out.append(item)
    return out


def match_answer(body: dict[str, Any]) -> Response:
    """A match list as its answer. The items are built as JSON objects of the route's
    ``response_model`` (the schema of the document); validating them once more on the way out
    cost a third of a request (tests/api/test_match_answers_schema.py checks the shapes). The
    encoder is the one the response model used (pydantic's), so the bytes stay the same."""
    return Response(to_json(body, fallback=_numpy_scalar), media_type="application/json")


def _numpy_scalar(value: object) -> object:
    """A numpy number from the fact columns as the Python number the schema declares."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not a JSON type of a match answer")


def _record(state: AppState, version: str) -> MatchRecord:
    return MatchRecord(model_id=state.index.encoder.model_id, index_version=version)


def candidates_for_vacancy(
    state: AppState, session: Session, row: Vacancy, filters: MatchFilters, limit: int
) -> list[MatchItem]:
    assert row.id is not None
    vacancy_id = row.id

    def query(matcher: Matcher) -> tuple[list[CandidateMatch], Collection[Any]]:
        facts = matcher.vacancies.facts.get(vacancy_id)
        vec = matcher.vacancies.index.reconstruct(vacancy_id)
        if facts is None or vec is None:
            raise NotIndexed("this vacancy has no vector in the index yet; retry shortly")
        found = matcher.candidates_for(vec, facts.side, filters, limit, vacancy=facts)
        return found, matcher.candidates

    (matches, coll), version = state.index.search(session, query)
    texts = _texts(session, matches, ("vacancy", row.description), coll)
    return candidate_items(matches, _record(state, version), texts)


def vacancies_for_candidate(
    state: AppState, session: Session, row: Candidate, filters: MatchFilters, limit: int
) -> list[MatchItem]:
    assert row.id is not None
    candidate_id = row.id

    def query(matcher: Matcher) -> tuple[list[VacancyMatch], Collection[Any]]:
        facts = matcher.candidates.facts.get(candidate_id)
        vec = matcher.candidates.index.reconstruct(candidate_id)
        if facts is None or vec is None:
            raise NotIndexed("this candidate has no vector in the index yet; retry shortly")
        found = matcher.vacancies_for(vec, facts.side, filters, limit, candidate=facts)
        return found, matcher.vacancies

    (matches, coll), version = state.index.search(session, query)
    texts = _texts(session, matches, ("cv", row.cv_text), coll)
    return vacancy_items(matches, _record(state, version), texts)


def ad_hoc(
    state: AppState,
    session: Session,
    query: AdHocMatchIn,
    only_candidates: frozenset[int] | None = None,
) -> list[MatchItem]:
    """Match a free text that is not stored against candidates or vacancies (candidates
    limited to ``only_candidates`` when given: a caseload)."""
    vec: np.ndarray = state.encoder.embed([query.text]).vectors[0]
    location = resolve_location(state.locator, query.postcode, query.lat, query.lon)
    filters = MatchFilters(
        focus_only=query.focus_only,
        ladder_step_min=query.ladder_step_min,
        client_groups=tuple(query.client_group),
        max_distance_km=query.max_distance_km,
        min_score=query.min_score,
        kinds=tuple(query.kind),
        include_closed=query.include_closed,
        only_candidates=only_candidates,
    )

    def side(matcher: Matcher) -> Side:
        return make_side(
            occupations=query.occupations,
            skills=query.skills,
            text=query.text,
            location=location,
            focus=matcher.focus,  # the focus list of the same index state
        )

    if query.target == "candidates":
        (found, coll), version = state.index.search(
            session,
            lambda m: (m.candidates_for(vec, side(m), filters, query.limit), m.candidates),
        )
        texts = _texts(session, found, ("query", query.text), coll)
        return candidate_items(found, _record(state, version), texts)
    (hits, vcoll), version = state.index.search(
        session, lambda m: (m.vacancies_for(vec, side(m), filters, query.limit), m.vacancies)
    )
    texts = _texts(session, hits, ("query", query.text), vcoll)
    return vacancy_items(hits, _record(state, version), texts)
