"""The hybrid score of a whole re-rank pool at once, from the columns of a :class:`FactStore`.

The same score as :mod:`matching.ranking` describes (the per-pair ``score_pair`` of
tests/oracle/ranking_oracle.py is the reference this module is tested against), computed as
array arithmetic over the pool:

- lexical: the product of the pool's term-weight CSR rows with the query's term vector (plus
  one with their pattern for the query's key terms, which weigh 2 whatever the row says);
- occupation: the batch title similarity (``rapidfuzz.process.cdist``) between the query's
  titles and the distinct titles of the pool, the maximum per row; the ESCO match from
  interned URI and ISCO ids; the shared focus occupation from interned slug ids;
- semantic: the clipped cosine (rescaled above the model's floor when its calibration has one).

The weights and the floor are those of the :class:`~matching.ranking.Calibration` passed in:
the calibration of the model whose vectors gave the cosines.

Explanations are built afterwards, only for the rows an answer returns
(:func:`matching.ranking.explained`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from matching.facts import FactStore
from matching.focus import prepared_title, similarity_matrix
from matching.profiles import Side
from matching.ranking import (
    OCCUPATION_FLOOR,
    SAME_ISCO_FACTOR,
    SIGNALS,
    Calibration,
)


@dataclass(frozen=True)
class PoolScores:
    """Scores of a pool: one entry per pooled row, in the order the rows were given.

    Attributes:
        rows: int64 (n,), the row ids.
        signals: float64 (n, 3), semantic, lexical and occupation in [0, 1] (unrounded).
        score: float64 (n,), the weighted sum rounded to 4 decimals as ``round`` does.
    """

    rows: np.ndarray
    signals: np.ndarray
    score: np.ndarray

    def signal_dict(self, r: int) -> dict[str, float]:
        """Position ``r``'s signals by name (as the reference scorer returns them)."""
        return {name: float(self.signals[r, k]) for k, name in enumerate(SIGNALS)}


def _row_of_entry(indptr: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))


def lexical(store: FactStore[Any], rows: np.ndarray, query: Side) -> np.ndarray:
    """float64 (n,): ``1 − exp(−w/4)`` of the shared-term weight ``w`` of each row.

    A shared term weighs 0.25 when generic, else 2 when it is a key term on either side, else 1.
    ``w`` is the product of the pool's term-weight rows (:meth:`FactStore.term_matrix`) with the
    query's term vector, plus the product of their pattern with the query's non-generic key
    terms (which weigh 2 whatever the row says). Both are written out on the CSR arrays (gather
    by column index, sum per row): at pool size, building scipy matrices costs more than the
    products.
    """
    indptr, entries = store.terms.gather(rows)
    n_terms = max(len(store.term_vocab), 1)
    q_terms = np.zeros(n_terms)
    q_key = np.zeros(n_terms)  # query key terms that are not generic: weigh 2 on any row
    for t in query.terms:
        i = store.term_vocab.get(t)
        if i < 0:
            continue  # no stored row has it
        if t in query.key_terms and not store.term_generic[i]:
            q_key[i] = 2.0
        else:
            q_terms[i] = 1.0
    term = entries >> 1
    weight = np.where(store.term_generic[term], 0.25, 1.0 + (entries & 1))
    per_entry = weight * q_terms[term] + q_key[term]
    total = np.bincount(_row_of_entry(indptr), weights=per_entry, minlength=len(rows))
    # The weights are multiples of 0.25, so ``total`` is exact; the exponential is taken with
    # ``math.exp`` per distinct total so the result is bit-identical to the reference.
    distinct, inverse = np.unique(total, return_inverse=True)
    table = np.array([1.0 - math.exp(-float(w) / 4.0) if w else 0.0 for w in distinct])
    return table[inverse].reshape(len(rows))


def title_signal(
    store: FactStore[Any], rows: np.ndarray, query_titles: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The best title similarity per row (0 below the floor), and the pieces behind it.

    Returns:
        best: float64 (n,); sim: float64 (len(query_titles), u), the similarity of each query
        title to each distinct pool title; indptr: int64 (n+1,) and col: int64 (entries,), the
        row's titles as columns of ``sim``.
    """
    indptr, title_ids = store.titles.gather(rows)
    distinct, col = np.unique(title_ids, return_inverse=True)
    sim = similarity_matrix(
        [prepared_title(t) for t in query_titles],
        [store.title_prepared[int(t)] for t in distinct],
    )
    best = np.zeros(len(rows))
    if sim.size and len(col):
        np.maximum.at(best, _row_of_entry(indptr), sim.max(axis=0)[col])
    best[best < OCCUPATION_FLOOR] = 0.0
    return best, sim, indptr, col.astype(np.int64)


def esco_signal(store: FactStore[Any], rows: np.ndarray, query: Side) -> np.ndarray:
    """float64 (n,): the best ESCO match of each row with the query's links.

    Same ESCO occupation: the weaker link's score; same ISCO-08 unit group:
    ``SAME_ISCO_FACTOR`` times that; otherwise 0.
    """
    best = np.zeros(len(rows))
    if not query.esco:
        return best
    indptr, links = store.esco.gather(rows)
    if not len(links):
        return best
    uri, isco, score = store.link_uri[links], store.link_isco[links], store.link_score[links]
    owner = _row_of_entry(indptr)
    for q in query.esco:
        strength = np.minimum(q.score, score)
        same_uri = uri == store.uris.get(q.uri)
        q_isco = store.iscos.get(q.isco_code) if q.isco_code else -1
        same_isco = (isco == q_isco) & (q_isco >= 0)
        value = np.where(same_uri, strength, np.where(same_isco, strength * SAME_ISCO_FACTOR, 0.0))
        np.maximum.at(best, owner, value)
    return best


def focus_signal(store: FactStore[Any], rows: np.ndarray, query: Side) -> np.ndarray:
    """float64 (n,): the score of each row's first focus hit in a focus occupation the query
    is in too (0 when none, and always 0 when the query is in no focus occupation)."""
    out = np.zeros(len(rows))
    slugs = [store.slugs.get(h.slug) for h in query.focus]
    slugs = [s for s in slugs if s >= 0]
    if not slugs:
        return out
    indptr, hits = store.focus.gather(rows)
    shared = np.isin(store.hit_slug[hits], np.asarray(slugs, dtype=np.int32))
    pos = np.where(shared, np.arange(len(hits)), len(hits))
    first = np.full(len(rows), len(hits))
    np.minimum.at(first, _row_of_entry(indptr), pos)
    found = first < len(hits)
    out[found] = store.hit_score[hits[first[found]]]
    return out


def score_pool(
    store: FactStore[Any],
    query: Side,
    rows: np.ndarray,
    cosines: np.ndarray,
    calibration: Calibration,
) -> PoolScores:
    """The hybrid score of every pooled row against one query side.

    Args:
        store: the collection the rows are in (the result side).
        query: the asking side (a vacancy's, a candidate's or a free text's).
        rows: int64 (n,), ids of stored rows.
        cosines: float64 (n,), cosine of each row's vector with the query's.
        calibration: weights and semantic floor of the model the vectors are from.
    Returns:
        the pool's signals and rounded scores, aligned with ``rows``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    semantic = calibration.semantic(cosines)
    lex = lexical(store, rows, query)
    occupation, *_ = title_signal(store, rows, query.occupations)
    occupation = np.maximum(occupation, esco_signal(store, rows, query))
    focus = focus_signal(store, rows, query)
    occupation = np.where(focus > occupation, focus, occupation)
    signals = np.stack([semantic, lex, occupation], axis=1)
    w = [calibration.weights[name] for name in SIGNALS]
    raw = w[0] * semantic + w[1] * lex + w[2] * occupation
    # ``round`` (correctly rounded) rather than ``np.round`` (scaled), so ties and the
    # ``min_score`` cut fall exactly as in the reference; n is the pool size, about 100.
    score = np.array([round(x, 4) for x in raw.tolist()], dtype=np.float64)
    return PoolScores(rows=rows, signals=signals, score=score)


def top(pool: PoolScores, limit: int, min_score: float | None) -> np.ndarray:
    """Positions in the pool of the best ``limit`` rows, best first (ties by id), at least
    ``min_score``: int64 (≤ limit,)."""
    keep = np.arange(len(pool.rows))
    if min_score is not None:
        keep = keep[pool.score >= min_score]
    order = np.lexsort((pool.rows[keep], -pool.score[keep]))
    return keep[order[:limit]]
