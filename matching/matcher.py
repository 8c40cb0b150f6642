"""The matcher: two vector indexes with their facts, filtered retrieval and hybrid re-ranking.

The hard filters are evaluated for all rows at once on columnar copies of the facts
(:mod:`matching.columns`); the resulting mask goes into FAISS as an id selector, so filtered
queries stay complete. FAISS returns the best ``max(5·limit, 100)`` allowed ids, which are
re-ranked by the hybrid score of :mod:`matching.ranking`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from matching.columns import FilterColumns
from matching.focus import FocusMatcher, FocusOccupation, LinkedOccupation
from matching.index import IndexSpec, VectorIndex
from matching.profiles import CandidateFacts, Side, VacancyFacts
from matching.ranking import MatchFilters, Scored, rank, score_only, score_pair
from matching.rwlock import ReadWriteLock

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
    """A vector index plus the facts of every indexed row (as objects and as columns), in step."""

    def __init__(self, dim: int, spec: IndexSpec | None = None) -> None:
        self.spec = spec or IndexSpec()
        self.index = VectorIndex(dim)
        self.facts: dict[int, F] = {}
        self.columns = FilterColumns()
        self._lock = ReadWriteLock()

    def __len__(self) -> int:
        return len(self.facts)

    def _set_columns(self, facts: Sequence[F]) -> None:
        if facts and isinstance(facts[0], CandidateFacts):
            self.columns.set_candidates(facts)  # type: ignore[arg-type]
        else:
            self.columns.set_vacancies(facts)  # type: ignore[arg-type]

    def upsert(self, items: Sequence[tuple[F, np.ndarray]]) -> None:
        if not items:
            return
        with self._lock.write():
            self.index.upsert([f.id for f, _ in items], np.stack([v for _, v in items]))
            for f, _ in items:
                self.facts[f.id] = f
            self._set_columns([f for f, _ in items])

    def remove(self, ids: Sequence[int]) -> None:
        with self._lock.write():
            self.index.remove(ids)
            for i in ids:
                self.facts.pop(i, None)
            self.columns.remove(ids)

    def replace_facts(self, facts: Sequence[F]) -> None:
        """Swap in re-derived facts for rows already indexed (vectors unchanged)."""
        with self._lock.write():
            for f in facts:
                self.facts[f.id] = f
            self._set_columns(facts)

    def install(self, index: VectorIndex, facts: Mapping[int, F]) -> None:
        """Take over a loaded index and its facts (a snapshot); the columns follow the facts."""
        with self._lock.write():
            self.index = index
            self.facts = dict(facts)
            self.columns = FilterColumns(capacity=max(self.facts, default=0) + 1)
            self._set_columns(list(self.facts.values()))

    def clear(self) -> None:
        with self._lock.write():
            self.index = VectorIndex(self.index.dim)
            self.facts = {}
            self.columns = FilterColumns()

    def relayout(self) -> None:
        """Rebuild the index in the layout the spec picks for the current size.

        Called after a bulk load: a large collection is retrained as IVF from its own vectors.
        """
        with self._lock.write():
            kind, _, _ = self.spec.resolve(len(self.index))
            if kind == self.index.kind and kind == "flat":
                return
            ids = np.fromiter(sorted(self.index.ids()), dtype=np.int64)
            vecs = (
                np.stack([self.index.reconstruct(int(i)) for i in ids])
                if len(ids)
                else np.zeros((0, self.index.dim), dtype=np.float32)
            )
            self.index = VectorIndex.build(self.index.dim, ids, vecs, self.spec)

    def search(self, query: np.ndarray, limit: int, allowed: np.ndarray) -> list[tuple[F, float]]:
        """The best allowed rows by cosine, enough of them for re-ranking ``limit`` results."""
        with self._lock.read():
            k = pool_size(limit)
            hits = self.index.search(query, k, allowed)
            return [(self.facts[i], cos) for i, cos in hits if i in self.facts]


class Matcher:
    """Candidates and vacancies, searchable in both directions."""

    def __init__(
        self, dim: int, focus: FocusMatcher | None = None, spec: IndexSpec | None = None
    ) -> None:
        self.dim = dim
        self.candidates: Collection[CandidateFacts] = Collection(dim, spec)
        self.vacancies: Collection[VacancyFacts] = Collection(dim, spec)
        self.focus = focus or FocusMatcher([])

    def set_focus(self, occupations: Sequence[FocusOccupation], threshold: float) -> None:
        """Replace the focus-occupation list and re-derive every row's focus hits."""
        self.focus = FocusMatcher(occupations, threshold=threshold)
        for coll in (self.candidates, self.vacancies):
            with coll._lock.read():
                current = list(coll.facts.values())
            refreshed = [dataclasses.replace(f, side=self._refocus(f.side)) for f in current]
            coll.replace_facts(refreshed)  # type: ignore[arg-type]

    def _refocus(self, side: Side) -> Side:
        return dataclasses.replace(side, focus=self.focus_hits(side.occupations, side.esco))

    def focus_hits(
        self, occupations: Sequence[str], esco: Sequence[LinkedOccupation] = ()
    ) -> tuple:
        return tuple(self.focus.match(occupations, esco))

    def candidates_for(
        self,
        query_vec: np.ndarray,
        query: Side,
        filters: MatchFilters,
        limit: int,
        vacancy: VacancyFacts | None = None,
    ) -> list[CandidateMatch]:
        """Ranked candidates for a vacancy (or a free-text query side)."""
        allowed = self.candidates.columns.candidate_mask(query, vacancy, filters)
        hits = self.candidates.search(query_vec, limit, allowed)
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
        allowed = self.vacancies.columns.vacancy_mask(query, candidate, filters)
        hits = self.vacancies.search(query_vec, limit, allowed)
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
