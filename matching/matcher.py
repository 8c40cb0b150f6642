"""The matcher: two vector indexes with their facts, filtered retrieval and hybrid re-ranking.

Retrieval asks FAISS for the best ``max(5·limit, 100)`` ids among those that pass the hard
filters (an id selector, so filtered queries stay complete); those are re-ranked by the hybrid
score of :mod:`matching.ranking`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from matching.focus import FocusMatcher, FocusOccupation
from matching.index import VectorIndex
from matching.profiles import CandidateFacts, Side, VacancyFacts
from matching.ranking import (
    MatchFilters,
    Scored,
    candidate_passes,
    rank,
    score_only,
    score_pair,
    vacancy_passes,
)

RERANK_POOL_MIN = 100
RERANK_POOL_FACTOR = 5

F = TypeVar("F", CandidateFacts, VacancyFacts)


@dataclass(frozen=True)
class CandidateMatch:
    facts: CandidateFacts
    scored: Scored


@dataclass(frozen=True)
class VacancyMatch:
    facts: VacancyFacts
    scored: Scored


class Collection(Generic[F]):
    """A vector index plus the facts of every indexed row, kept in step."""

    def __init__(self, dim: int) -> None:
        self.index = VectorIndex(dim)
        self.facts: dict[int, F] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.facts)

    def upsert(self, items: Sequence[tuple[F, np.ndarray]]) -> None:
        if not items:
            return
        with self._lock:
            self.index.upsert([f.id for f, _ in items], np.stack([v for _, v in items]))
            for f, _ in items:
                self.facts[f.id] = f

    def remove(self, ids: Sequence[int]) -> None:
        with self._lock:
            self.index.remove(ids)
            for i in ids:
                self.facts.pop(i, None)

    def clear(self) -> None:
        with self._lock:
            self.index = VectorIndex(self.index.dim)
            self.facts = {}

    def search(
        self, query: np.ndarray, limit: int, passes: Callable[[F], bool]
    ) -> list[tuple[F, float]]:
        with self._lock:
            allowed = np.fromiter((i for i, f in self.facts.items() if passes(f)), dtype=np.int64)
            k = pool_size(limit)
            hits = self.index.search(query, k, allowed)
            return [(self.facts[i], cos) for i, cos in hits if i in self.facts]


class Matcher:
    """Candidates and vacancies, searchable in both directions."""

    def __init__(self, dim: int, focus: FocusMatcher | None = None) -> None:
        self.dim = dim
        self.candidates: Collection[CandidateFacts] = Collection(dim)
        self.vacancies: Collection[VacancyFacts] = Collection(dim)
        self.focus = focus or FocusMatcher([])

    def set_focus(self, occupations: Sequence[FocusOccupation], threshold: float) -> None:
        """Replace the focus-occupation list and re-derive every row's focus hits."""
        self.focus = FocusMatcher(occupations, threshold=threshold)
        for coll in (self.candidates, self.vacancies):
            with coll._lock:
                for id_, f in list(coll.facts.items()):
                    side = dataclasses.replace(f.side, focus=self.focus_hits(f.side.occupations))
                    coll.facts[id_] = dataclasses.replace(f, side=side)  # type: ignore[arg-type]

    def focus_hits(self, occupations: Sequence[str]) -> tuple:
        return tuple(self.focus.match(occupations)) if occupations else ()

    def candidates_for(
        self,
        query_vec: np.ndarray,
        query: Side,
        filters: MatchFilters,
        limit: int,
        vacancy: VacancyFacts | None = None,
    ) -> list[CandidateMatch]:
        """Ranked candidates for a vacancy (or a free-text query side)."""
        hits = self.candidates.search(
            query_vec, limit, lambda c: candidate_passes(query, vacancy, c, filters)
        )
        return rank_candidates(query, vacancy, hits, limit, filters.min_score)

    def vacancies_for(
        self,
        query_vec: np.ndarray,
        query: Side,
        filters: MatchFilters,
        limit: int,
        candidate: CandidateFacts | None = None,
    ) -> list[VacancyMatch]:
        """Ranked vacancies for a candidate (or a free-text query side)."""
        hits = self.vacancies.search(
            query_vec, limit, lambda v: vacancy_passes(query, candidate, v, filters)
        )
        return rank_vacancies(query, candidate, hits, limit, filters.min_score)


def pool_size(limit: int) -> int:
    """How many nearest neighbours (by cosine) are re-ranked to find the best ``limit``."""
    return max(limit * RERANK_POOL_FACTOR, RERANK_POOL_MIN)


def rank_candidates(
    query: Side,
    vacancy: VacancyFacts | None,
    hits: Sequence[tuple[CandidateFacts, float]],
    limit: int,
    min_score: float | None,
    explain: bool = True,
) -> list[CandidateMatch]:
    """Re-rank retrieved (candidate, cosine) hits of a vacancy (or text) by the hybrid score.

    Shared by the interactive endpoints and the nightly rematch, so both rank identically;
    ``explain=False`` leaves the explanation out (same scores, less work).
    """
    scored = [
        (
            c.id,
            score_pair(
                vacancy_side=query,
                cand_side=c.side,
                cosine=cos,
                query_is_vacancy=True,
                vacancy=vacancy,
                cand=c,
            )
            if explain
            else score_only(
                vacancy_side=query, cand_side=c.side, cosine=cos, query_is_vacancy=True
            ),
        )
        for c, cos in hits
    ]
    by_id = {c.id: c for c, _ in hits}
    return [CandidateMatch(by_id[i], s) for i, s in rank(scored, limit, min_score)]


def rank_vacancies(
    query: Side,
    candidate: CandidateFacts | None,
    hits: Sequence[tuple[VacancyFacts, float]],
    limit: int,
    min_score: float | None,
    explain: bool = True,
) -> list[VacancyMatch]:
    """Re-rank retrieved (vacancy, cosine) hits of a candidate (or text) by the hybrid score."""
    scored = [
        (
            v.id,
            score_pair(
                vacancy_side=v.side,
                cand_side=query,
                cosine=cos,
                query_is_vacancy=False,
                vacancy=v,
                cand=candidate,
            )
            if explain
            else score_only(
                vacancy_side=v.side, cand_side=query, cosine=cos, query_is_vacancy=False
            ),
        )
        for v, cos in hits
    ]
    by_id = {v.id: v for v, _ in hits}
    return [VacancyMatch(by_id[i], s) for i, s in rank(scored, limit, min_score)]
