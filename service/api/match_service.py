"""Glue between the HTTP layer and the matcher: look up the query side, search, shape items.

Every item carries its record: the explanation, the model id and the index version it was
computed at (:meth:`service.state.index_state.IndexState.search`), so the answer can be reproduced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
from fastapi import Response
from pydantic_core import to_json
from sqlmodel import Session

from matching.facts import Kind
from matching.matcher import CandidateMatch, Collection, Matcher, VacancyMatch
from matching.profiles import CandidateFacts, Side, VacancyFacts, make_side, resolve_location
from matching.ranking import MatchFilters, Scored
from matching.text import TermLocator
from service.api.deps import AppState
from service.api.schemas import MAX_HIGHLIGHTS_PER_SIDE, AdHocMatchIn
from service.errors import WerkmatchError
from service.store.models import Candidate, Vacancy
from service.store.row_texts import texts_by_id

Q = TypeVar("Q", CandidateFacts, VacancyFacts)
R = TypeVar("R", CandidateFacts, VacancyFacts)


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


def _candidate_fields(f: CandidateFacts) -> MatchItem:
    """The fields a ``CandidateMatchItem`` adds to the scored ones."""
    return {
        "candidate_id": f.external_id,
        "summary": {
            "desired_occupations": list(f.side.occupations),
            "participation_ladder_step": f.ladder_step,
            "client_group": f.client_group,
        },
    }


def _vacancy_fields(f: VacancyFacts) -> MatchItem:
    """The fields a ``VacancyMatchItem`` adds to the scored ones."""
    return {
        "employer_id": f.employer_id,
        "vacancy_id": f.external_id,
        "summary": {
            "title": f.title,
            "occupation": f.occupation,
            "kind": f.kind,
            "status": f.status,
            "hours_per_week": f.hours,
            "closes_on": f.closes_on.isoformat() if f.closes_on is not None else None,
        },
    }


@dataclass(frozen=True)
class _Direction(Generic[Q, R]):
    """What differs between asking for candidates and asking for vacancies; everything else
    is :func:`_matches_of_row` and :func:`ad_hoc`, once for both."""

    query_kind: Kind
    """The kind of a stored query row (its collection, and the words of :class:`NotIndexed`)."""
    query_text_side: str
    """The highlight side of a stored query row's text."""
    search: Callable[[Matcher, np.ndarray, Side, MatchFilters, int, Q | None], list[Any]]
    """``Matcher.candidates_for`` or ``Matcher.vacancies_for``, the query row's facts last."""
    results: Callable[[Matcher], Collection[R]]
    """The collection the results are rows of."""
    fields: Callable[[R], MatchItem]
    """A result's identifying and summary fields."""

    def queries(self, matcher: Matcher) -> Collection[Q]:
        """The collection a stored query row is a row of."""
        c: Collection[Any] = (
            matcher.vacancies if self.query_kind == "vacancy" else matcher.candidates
        )
        return c

    def items(
        self, matches: Sequence[Any], record: MatchRecord, texts: _Texts | None = None
    ) -> list[MatchItem]:
        """The item objects of ``matches`` (rows of :attr:`results`), in their order."""
        return [
            _scored_fields(
                m.scored, record, texts.highlights(m.facts.id, m.scored) if texts else []
            )
            | self.fields(m.facts)
            for m in matches
        ]


FOR_VACANCY: _Direction[VacancyFacts, CandidateFacts] = _Direction(
    "vacancy", "vacancy",
    lambda m, vec, side, f, n, facts: m.candidates_for(vec, side, f, n, vacancy=facts),
    lambda m: m.candidates, _candidate_fields,
)  # fmt: skip
"""Candidates for a vacancy (or for a free text)."""

FOR_CANDIDATE: _Direction[CandidateFacts, VacancyFacts] = _Direction(
    "candidate", "cv",
    lambda m, vec, side, f, n, facts: m.vacancies_for(vec, side, f, n, candidate=facts),
    lambda m: m.vacancies, _vacancy_fields,
)  # fmt: skip
"""Vacancies for a candidate (or for a free text)."""


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


def _matches_of_row(
    state: AppState,
    session: Session,
    direction: _Direction[Any, Any],
    row_id: int,
    text: str,
    filters: MatchFilters,
    limit: int,
) -> list[MatchItem]:
    """The matches of the stored row ``row_id`` (its ``text`` for the highlights)."""

    def query(matcher: Matcher) -> tuple[list[Any], Collection[Any]]:
        rows = direction.queries(matcher)
        facts, vec = rows.facts.get(row_id), rows.index.reconstruct(row_id)
        if facts is None or vec is None:
            raise NotIndexed(
                f"this {direction.query_kind} has no vector in the index yet; retry shortly"
            )
        found = direction.search(matcher, vec, facts.side, filters, limit, facts)
        return found, direction.results(matcher)

    (matches, coll), version = state.index.search(session, query)
    texts = _texts(session, matches, (direction.query_text_side, text), coll)
    return direction.items(matches, _record(state, version), texts)


def candidates_for_vacancy(
    state: AppState, session: Session, row: Vacancy, filters: MatchFilters, limit: int
) -> list[MatchItem]:
    assert row.id is not None
    return _matches_of_row(state, session, FOR_VACANCY, row.id, row.description, filters, limit)


def vacancies_for_candidate(
    state: AppState, session: Session, row: Candidate, filters: MatchFilters, limit: int
) -> list[MatchItem]:
    assert row.id is not None
    return _matches_of_row(state, session, FOR_CANDIDATE, row.id, row.cv_text, filters, limit)


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

    direction = FOR_VACANCY if query.target == "candidates" else FOR_CANDIDATE
    (found, coll), version = state.index.search(
        session,
        lambda m: (
            direction.search(m, vec, side(m), filters, query.limit, None),
            direction.results(m),
        ),
    )
    texts = _texts(session, found, ("query", query.text), coll)
    return direction.items(found, _record(state, version), texts)
