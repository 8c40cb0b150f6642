"""The matcher: two vector indexes with their facts, filtered retrieval and hybrid re-ranking.

The facts of each collection are columns (:mod:`matching.facts`). The hard filters are
evaluated for all rows at once (:mod:`matching.columns`); the resulting mask goes into FAISS as
an id selector, so filtered queries stay complete. FAISS returns the best
``max(5·limit, 100)`` allowed ids, whose hybrid scores (:mod:`matching.ranking`) are computed
for the whole pool at once (:mod:`matching.rerank`); only the returned rows are explained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from matching.columns import FilterColumns
from matching.facts import FactStore, FactsView, Kind
from matching.focus import FocusHit, FocusMatcher, FocusOccupation, LinkedOccupation
from matching.index import IndexSpec, RowTest, VectorIndex
from matching.profiles import CandidateFacts, Side, VacancyFacts
from matching.ranking import SIGNALS, UNCALIBRATED, Calibration, MatchFilters, Scored, explained
from matching.rerank import score_pool, top
from matching.rwlock import ReadWriteLock
from matching.text import Span, SpanCache

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
    """A vector index plus the facts of every indexed row, as columns (:class:`FactStore`),
    and the term spans of the texts of the rows answers returned lately (:class:`SpanCache`)."""

    def __init__(self, dim: int, spec: IndexSpec | None = None, kind: Kind = "candidate") -> None:
        self.spec = spec or IndexSpec()
        self.kind: Kind = kind
        self.index = VectorIndex(dim)
        self.store: FactStore[F] = FactStore(kind)
        self._spans = SpanCache()
        self._lock = ReadWriteLock()

    def __len__(self) -> int:
        return len(self.store)

    @property
    def facts(self) -> FactsView[F]:
        """The rows as a read-only mapping id → facts; each read rebuilds one object."""
        return self.store.facts(self._lock)

    @property
    def columns(self) -> FilterColumns:
        """The hard-filter columns of the store."""
        return self.store.filters

    def reading(self) -> AbstractContextManager[None]:
        """The read side of the collection's lock: index and store stay still while held."""
        return self._lock.read()

    def upsert(self, items: Sequence[tuple[F, np.ndarray]]) -> None:
        if not items:
            return
        with self._lock.write():
            self.index.upsert([f.id for f, _ in items], np.stack([v for _, v in items]))
            self.store.upsert([f for f, _ in items])
            self._spans.discard(f.id for f, _ in items)

    def remove(self, ids: Sequence[int]) -> None:
        with self._lock.write():
            self.index.remove(ids)
            self.store.remove(ids)
            self._spans.discard(ids)

    def replace_facts(self, facts: Sequence[F]) -> None:
        """Swap in re-derived facts for rows already indexed (vectors unchanged)."""
        with self._lock.write():
            self.store.upsert(facts)

    def install(self, index: VectorIndex, store: FactStore[F]) -> None:
        """Take over a loaded index and its fact store (a snapshot)."""
        with self._lock.write():
            self.index = index
            self.store = store
            self._spans.clear()

    def clear(self) -> None:
        with self._lock.write():
            self.index = VectorIndex(self.index.dim)
            self.store = FactStore(self.kind)
            self._spans.clear()

    @property
    def kept_spans(self) -> SpanCache:
        """The term spans kept for the highlights of recently returned rows."""
        return self._spans

    def term_spans(self, row: int, text: str, terms: Iterable[str], limit: int) -> list[Span]:
        """``matching.text.term_spans(text, terms, limit)`` of row ``row``'s stored text.

        What was found is kept for the row's next answers (:class:`SpanCache`) only while the
        row is stored: checked under the read lock, which a removal's write lock excludes, so
        nothing of an erased row is kept after its removal.
        """
        with self._lock.read():
            return self._spans.spans(row, text, terms, limit, keep=row in self.store)

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
                np.stack([self.index.stored(int(i)) for i in ids])
                if len(ids)
                else np.zeros((0, self.index.dim), dtype=np.float32)
            )
            self.index = VectorIndex.build(self.index.dim, ids, vecs, self.spec)

    def ranked(
        self,
        query_vec: np.ndarray,
        query: Side,
        allowed: np.ndarray | RowTest,
        limit: int,
        min_score: float | None,
        calibration: Calibration,
    ) -> list[tuple[F, dict[str, float], float]]:
        """The best allowed rows by the hybrid score, with their signals and score, best first.

        The ``pool_size(limit)`` nearest allowed rows by cosine are scored at once
        (:func:`matching.rerank.score_pool`, with ``calibration``); only the returned rows
        become facts objects.
        """
        with self._lock.read():
            hits = self.index.search(query_vec, pool_size(limit), allowed)
            rows = np.fromiter((i for i, _ in hits), dtype=np.int64, count=len(hits))
            cosines = np.fromiter((c for _, c in hits), dtype=np.float64, count=len(hits))
            present = self.store.present
            stored = (rows >= 0) & (rows < len(present))
            stored[stored] = present[rows[stored]]
            rows, cosines = rows[stored], cosines[stored]
            if not len(rows):
                return []
            pool = score_pool(self.store, query, rows, cosines, calibration)
            best = top(pool, limit, min_score)
            found = self.store.get_many(pool.rows[best])  # stored: held under the read lock
            signals = pool.signals[best].tolist()
            return [
                (f, dict(zip(SIGNALS, s, strict=True)), score)
                for f, s, score in zip(found, signals, pool.score[best].tolist(), strict=True)
            ]


class Matcher:
    """Candidates and vacancies, searchable in both directions.

    ``calibration`` is that of the encoder whose vectors the matcher holds
    (:func:`matching.ranking.calibration_for` of its model id); every score it computes uses
    it. Without one, the weights file's top-level weights with no semantic rescaling.
    """

    def __init__(
        self,
        dim: int,
        focus: FocusMatcher | None = None,
        spec: IndexSpec | None = None,
        calibration: Calibration = UNCALIBRATED,
    ) -> None:
        self.dim = dim
        self.calibration = calibration
        self.candidates: Collection[CandidateFacts] = Collection(dim, spec, "candidate")
        self.vacancies: Collection[VacancyFacts] = Collection(dim, spec, "vacancy")
        self.focus = focus or FocusMatcher([])

    def set_focus(self, occupations: Sequence[FocusOccupation], threshold: float) -> None:
        """Replace the focus-occupation list and re-derive every row's focus hits."""
        self.focus = FocusMatcher(occupations, threshold=threshold)
        self._refocus_all(self.candidates)
        self._refocus_all(self.vacancies)

    def _refocus_all(self, coll: Collection[F]) -> None:
        current = list(coll.facts.values())  # each row read under the read lock
        coll.replace_facts([dataclasses.replace(f, side=self._refocus(f.side)) for f in current])

    def _refocus(self, side: Side) -> Side:
        # side.esco holds the stated links, then the inferred ones (with their evidence)
        stated = [x for x in side.esco if x.evidence is None]
        inferred = [x for x in side.esco if x.evidence is not None]
        return dataclasses.replace(side, focus=self.focus_hits(side.occupations, stated, inferred))

    def focus_hits(
        self,
        occupations: Sequence[str],
        esco: Sequence[LinkedOccupation] = (),
        inferred: Sequence[LinkedOccupation] = (),
    ) -> tuple[FocusHit, ...]:
        return tuple(self.focus.match(occupations, esco, inferred))

    def candidates_for(
        self,
        query_vec: np.ndarray,
        query: Side,
        filters: MatchFilters,
        limit: int,
        vacancy: VacancyFacts | None = None,
    ) -> list[CandidateMatch]:
        """Ranked candidates for a vacancy (or a free-text query side), explained."""
        with self.candidates.reading():  # the filters' grid is built lazily
            allowed = self.candidates.columns.candidate_test(query, vacancy, filters)
        found = self.candidates.ranked(
            query_vec, query, allowed, limit, filters.min_score, self.calibration
        )
        return [
            CandidateMatch(
                c,
                explained(
                    signals,
                    score=score,
                    vacancy_side=query,
                    cand_side=c.side,
                    query_is_vacancy=True,
                    calibration=self.calibration,
                    vacancy=vacancy,
                    cand=c,
                ),
            )
            for c, signals, score in found
        ]

    def vacancies_for(
        self,
        query_vec: np.ndarray,
        query: Side,
        filters: MatchFilters,
        limit: int,
        candidate: CandidateFacts | None = None,
    ) -> list[VacancyMatch]:
        """Ranked vacancies for a candidate (or a free-text query side), explained."""
        with self.vacancies.reading():  # the filters' grid is built lazily
            allowed = self.vacancies.columns.vacancy_test(query, candidate, filters)
        found = self.vacancies.ranked(
            query_vec, query, allowed, limit, filters.min_score, self.calibration
        )
        return [
            VacancyMatch(
                v,
                explained(
                    signals,
                    score=score,
                    vacancy_side=v.side,
                    cand_side=query,
                    query_is_vacancy=False,
                    calibration=self.calibration,
                    vacancy=v,
                    cand=candidate,
                ),
            )
            for v, signals, score in found
        ]


def pool_size(limit: int) -> int:
    """How many nearest neighbours (by cosine) are re-ranked to find the best ``limit``."""
    return max(limit * RERANK_POOL_FACTOR, RERANK_POOL_MIN)
