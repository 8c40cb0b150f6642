"""The batch rematch as it was before the block core (matching/rematch.py): one direction per
call, the hard filters as a per-query mask over the whole id range, the pool picked from the
float32 product. Kept as the test oracle of :func:`matching.rematch.rematch_full`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from matching.facts import FactStore, Kind, build_store
from matching.matcher import pool_size
from matching.profiles import VacancyFacts
from matching.ranking import SIGNALS, calibration_for
from matching.rematch import (
    DEFAULT_FILTERS,
    FOR_VACANCY,
    ExactPools,
    MatchRow,
    SideColumns,
    TopK,
    match_rows,
    shared_calibration,
)
from matching.rerank import score_pool, top


@dataclass
class SideArrays:
    """One side's rows: ids, unit vectors, facts, and (built when first needed) their columns."""

    ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float32 (n, dim)
    facts: list[Any]  # CandidateFacts or VacancyFacts, aligned with ids
    model_id: str  # the encoder the vectors are from: it decides the calibration

    def __len__(self) -> int:
        return len(self.facts)

    @cached_property
    def store(self) -> FactStore[Any]:
        kind: Kind = (
            "vacancy" if self.facts and isinstance(self.facts[0], VacancyFacts) else "candidate"
        )
        return build_store(kind, self.facts)


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


def match_batch(
    direction: int, queries: SideArrays, targets: SideArrays, top_k: int
) -> list[MatchRow]:
    """Top-``top_k`` targets for each query, ranked like the interactive search."""
    if queries.model_id != targets.model_id:
        raise ValueError("the two sides' vectors come from different models")
    calibration = calibration_for(queries.model_id)
    if len(queries) == 0 or len(targets) == 0:
        return []
    sims = queries.vectors @ targets.vectors.T  # float32 (b, n)
    sims[~allowed_mask(direction, queries, targets)] = -np.inf
    pool = min(pool_size(top_k), len(targets))
    if pool < len(targets):
        top_cols = np.argpartition(-sims, pool - 1, axis=1)[:, :pool]
    else:
        top_cols = np.broadcast_to(np.arange(len(targets)), (len(queries), len(targets)))
    rows: list[MatchRow] = []
    for qi, q in enumerate(queries.facts):
        cols = top_cols[qi][np.isfinite(sims[qi, top_cols[qi]])]
        if not len(cols):
            continue
        exact = (
            targets.vectors[cols].astype(np.float64) * queries.vectors[qi].astype(np.float64)
        ).sum(axis=1)
        scored = score_pool(targets.store, q.side, targets.ids[cols], exact, calibration)
        rows.extend(match_rows(direction, q.id, scored, top(scored, top_k, None), calibration))
    return rows


def rerank_per_query(
    queries: SideColumns, targets: SideColumns, pools: ExactPools, p: int, top_k: int
) -> TopK:
    """:func:`matching.rematch.rerank` as it was: one query at a time with
    :func:`score_pool` (the reference the batched re-rank is tested against)."""
    calibration = shared_calibration(queries, targets)
    out = TopK.empty(len(queries), top_k)
    weights = np.array([calibration.weights[name] for name in SIGNALS])
    for i, q in enumerate(queries.ids.tolist()):
        n = min(int(pools.size[i]), p)
        if n == 0:
            continue
        scored = score_pool(
            targets.store, queries.store.side(q), pools.ids[i, :n], pools.cos[i, :n], calibration
        )
        best = top(scored, top_k, None)
        m = len(best)
        out.ids[i, :m] = scored.rows[best]
        out.scores[i, :m] = scored.score[best]
        # round() per value, as the stored rows always had
        out.parts[i, :m] = [
            [round(x, 4) for x in row] for row in (scored.signals[best] * weights).tolist()
        ]
    return out
