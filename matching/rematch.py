"""Batch rematching: top-k in both directions for many queries at once, no database.

A batch of query vectors is multiplied with the whole target matrix (one BLAS call), the hard
filters are applied as boolean masks from the targets' filter columns (the interactive search's
mask), and the ``pool_size(top_k)`` best allowed targets per query by cosine are scored at once
with the interactive re-ranker (:func:`matching.rerank.score_pool`). So a query gets the same
top-k here as from ``GET .../matches?limit=top_k`` with the default filters.

Everything a batch needs travels as numpy arrays, dataclasses and the targets'
:class:`~matching.facts.FactStore`, so a batch can run in this process or on a Dask worker
without a database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np

from matching.embedder import Embedded, load_encoder
from matching.facts import FactStore, Kind, build_store
from matching.matcher import pool_size
from matching.profiles import VacancyFacts
from matching.ranking import SIGNALS, WEIGHTS, MatchFilters
from matching.rerank import PoolScores, score_pool, top

Direction = Literal[0, 1]
FOR_VACANCY: Direction = 0  # queries are vacancies, results are candidates
FOR_CANDIDATE: Direction = 1  # queries are candidates, results are vacancies
DEFAULT_FILTERS = MatchFilters()  # what the interactive endpoints use without query parameters


class MatchRow(NamedTuple):
    """One stored match; ``semantic`` etc. are the weighted parts of ``score``."""

    vacancy_id: int
    candidate_id: int
    direction: int
    rank: int
    score: float
    semantic: float
    lexical: float
    occupation: float


@dataclass
class SideArrays:
    """One side's rows: ids, unit vectors, facts, and (built when first needed) their columns."""

    ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float32 (n, dim)
    facts: list[Any]  # CandidateFacts or VacancyFacts, aligned with ids

    def __post_init__(self) -> None:
        n = len(self.facts)
        if self.ids.shape != (n,) or self.vectors.shape[0] != n:
            raise ValueError("ids, vectors and facts must have the same length")

    def __len__(self) -> int:
        return len(self.facts)

    @cached_property
    def store(self) -> FactStore[Any]:
        """The rows as a :class:`FactStore` (the target side of a batch needs it)."""
        kind: Kind = (
            "vacancy" if self.facts and isinstance(self.facts[0], VacancyFacts) else "candidate"
        )
        return build_store(kind, self.facts)

    def take(self, idx: np.ndarray | slice) -> SideArrays:
        sel = np.arange(len(self))[idx]
        return SideArrays(
            self.ids[sel], np.ascontiguousarray(self.vectors[sel]), [self.facts[i] for i in sel]
        )


def allowed_mask(direction: int, queries: SideArrays, targets: SideArrays) -> np.ndarray:
    """(queries × targets) bool: the target passes the hard filters of the query's default
    interactive search, evaluated on the targets' filter columns (the interactive mask)."""
    columns = targets.store.filters
    out = np.zeros((len(queries), len(targets)), dtype=bool)
    for qi, q in enumerate(queries.facts):
        if direction == FOR_VACANCY:
            mask = columns.candidate_mask(q.side, q, DEFAULT_FILTERS)
        else:
            mask = columns.vacancy_mask(q.side, q, DEFAULT_FILTERS)
        out[qi] = mask[targets.ids]
    return out


def _rows(direction: int, query_id: int, pool: PoolScores, best: np.ndarray) -> list[MatchRow]:
    out = []
    for rank, r in enumerate(best.tolist(), start=1):
        target = int(pool.rows[r])
        parts = [
            round(WEIGHTS[name] * float(pool.signals[r, k]), 4) for k, name in enumerate(SIGNALS)
        ]
        vacancy_id, candidate_id = (
            (query_id, target) if direction == FOR_VACANCY else (target, query_id)
        )
        out.append(
            MatchRow(vacancy_id, candidate_id, direction, rank, float(pool.score[r]), *parts)
        )
    return out


def match_batch(
    direction: int,
    queries: SideArrays,
    targets: SideArrays,
    top_k: int,
    clock: dict[str, float] | None = None,
) -> list[MatchRow]:
    """Top-``top_k`` targets for each query of the batch, ranked like the interactive search.

    ``clock``, when given, gets the seconds spent in "search" (product, filters, pool) and
    "ranking" (hybrid re-ranking of the pool) added.
    """
    if len(queries) == 0 or len(targets) == 0:
        return []
    started = time.perf_counter()
    sims = queries.vectors @ targets.vectors.T  # float32 (b, n)
    sims[~allowed_mask(direction, queries, targets)] = -np.inf
    pool = min(pool_size(top_k), len(targets))
    if pool < len(targets):
        top_cols = np.argpartition(-sims, pool - 1, axis=1)[:, :pool]
    else:
        top_cols = np.broadcast_to(np.arange(len(targets)), (len(queries), len(targets)))
    searched = time.perf_counter()
    rows: list[MatchRow] = []
    for qi, q in enumerate(queries.facts):
        cols = top_cols[qi][np.isfinite(sims[qi, top_cols[qi]])]
        if not len(cols):
            continue
        # The float32 product only picks the pool; the cosines that enter the score are
        # recomputed in float64 so that a score does not depend on BLAS threading or batch
        # shape (the same run on a Dask worker or here gives identical scores).
        exact = (
            targets.vectors[cols].astype(np.float64) * queries.vectors[qi].astype(np.float64)
        ).sum(axis=1)
        scored = score_pool(targets.store, q.side, targets.ids[cols], exact)
        rows.extend(_rows(direction, q.id, scored, top(scored, top_k, None)))
    if clock is not None:
        clock["search"] = clock.get("search", 0.0) + searched - started
        clock["ranking"] = clock.get("ranking", 0.0) + time.perf_counter() - searched
    return rows


@dataclass(frozen=True)
class BatchSpec:
    """A batch of queries: positions ``start:stop`` in the query side's arrays."""

    direction: int
    start: int
    stop: int


def plan_batches(
    direction: int,
    query_ids: np.ndarray,
    done: Sequence[tuple[int, int]],
    n_targets: int,
    cells: int,
    max_queries: int,
) -> list[BatchSpec]:
    """Split the queries not covered by a committed (lo_id, hi_id) range into batches.

    Batch size keeps queries × targets near ``cells`` (bounds the similarity matrix's memory).
    ``query_ids`` must be sorted, so every batch covers an id range no other batch touches.
    """
    covered = np.zeros(len(query_ids), dtype=bool)
    for lo, hi in done:
        covered |= (query_ids >= lo) & (query_ids <= hi)
    size = int(max(1, min(max_queries, cells // max(n_targets, 1))))
    specs: list[BatchSpec] = []
    start = 0
    n = len(query_ids)
    while start < n:
        if covered[start]:
            start += 1
            continue
        stop = start
        while stop < n and not covered[stop] and stop - start < size:
            stop += 1
        specs.append(BatchSpec(direction, start, stop))
        start = stop
    return specs


# ---------------------------------------------------------------- executors

BatchResult = tuple[BatchSpec, list[MatchRow], dict[str, float]]


class Executor(Protocol):
    """Runs batches and embeddings here or on a cluster."""

    def run_batches(
        self,
        sides: dict[int, tuple[SideArrays, SideArrays]],
        specs: Sequence[BatchSpec],
        top_k: int,
    ) -> Iterator[BatchResult]: ...

    def embed(self, texts: Sequence[str]) -> Embedded: ...


def _run_one(queries: SideArrays, targets: SideArrays, spec: BatchSpec, top_k: int) -> BatchResult:
    clock: dict[str, float] = {}
    part = queries.take(slice(spec.start, spec.stop))
    return spec, match_batch(spec.direction, part, targets, top_k, clock), clock


class LocalExecutor:
    """Everything in this process, batches in order."""

    def __init__(self, embed: Callable[[Sequence[str]], Embedded]) -> None:
        self._embed = embed

    def run_batches(
        self,
        sides: dict[int, tuple[SideArrays, SideArrays]],
        specs: Sequence[BatchSpec],
        top_k: int,
    ) -> Iterator[BatchResult]:
        for spec in specs:
            queries, targets = sides[spec.direction]
            yield _run_one(queries, targets, spec, top_k)

    def embed(self, texts: Sequence[str]) -> Embedded:
        return self._embed(texts)


def _embed_on_worker(encoder_args: tuple[Any, ...], texts: list[str]) -> Embedded:
    # load_encoder is cached per process: each worker loads the model once. The driver's whole
    # argument tuple travels, so workers use the same backend and produce the same model id.
    return load_encoder(*encoder_args).embed(texts)


class DaskExecutor:
    """Batches and embedding spread over a dask.distributed cluster.

    The target side of each direction is scattered to every worker once; a task gets only its
    slice of query arrays. Workers need the project installed (and the model for embedding),
    not the database. Results come back as they complete; callers store them in any order.
    """

    EMBED_CHUNK = 128

    def __init__(self, client: Any, encoder_args: tuple[Any, ...], max_in_flight: int = 64) -> None:
        """``encoder_args``: what :func:`matching.embedder.load_encoder` gets on the driver."""
        self.client = client
        self.encoder_args = encoder_args
        self.max_in_flight = max_in_flight

    def run_batches(
        self,
        sides: dict[int, tuple[SideArrays, SideArrays]],
        specs: Sequence[BatchSpec],
        top_k: int,
    ) -> Iterator[BatchResult]:
        from distributed import as_completed

        if not specs:
            return
        remote: dict[int, tuple[Any, Any]] = {}
        for direction, (queries, targets) in sides.items():
            remote[direction] = (
                queries,
                self.client.scatter(targets, broadcast=True, hash=False),
            )
        pending = list(specs)
        spec_of: dict[str, BatchSpec] = {}

        def submit(spec: BatchSpec) -> Any:
            queries, targets = remote[spec.direction]
            part = queries.take(slice(spec.start, spec.stop))
            rebased = BatchSpec(spec.direction, 0, spec.stop - spec.start)
            fut = self.client.submit(_run_one, part, targets, rebased, top_k, pure=False)
            spec_of[fut.key] = spec
            return fut

        first = [submit(pending.pop(0)) for _ in range(min(self.max_in_flight, len(pending)))]
        flight = as_completed(first)
        for fut in flight:
            _, rows, clock = fut.result()
            yield spec_of.pop(fut.key), rows, clock
            if pending:
                flight.add(submit(pending.pop(0)))

    def embed(self, texts: Sequence[str]) -> Embedded:
        chunks = [
            list(texts[i : i + self.EMBED_CHUNK]) for i in range(0, len(texts), self.EMBED_CHUNK)
        ]
        futures = [
            self.client.submit(_embed_on_worker, self.encoder_args, c, pure=False) for c in chunks
        ]
        parts = self.client.gather(futures)
        if not parts:
            return Embedded(np.zeros((0, 0), dtype=np.float32), [])
        return Embedded(
            np.concatenate([p.vectors for p in parts]), [n for p in parts for n in p.chunks]
        )
