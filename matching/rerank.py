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
import weakref
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


def score_pool(
    store: FactStore[Any],
    query: Side,
    rows: np.ndarray,
    cosines: np.ndarray,
    calibration: Calibration,
) -> PoolScores:
    """The hybrid score of every pooled row against one query side.

    Against candidates, the similarities of the query's titles (a vacancy's, or a free text's
    occupations) to the candidates' titles are kept with the store for later pools
    (:class:`TitleSimilarities`); a candidate's titles, the query against vacancies, are never
    kept. The scores are the same either way.

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
    owner = np.zeros(len(rows), dtype=np.int64)
    titles = kept_titles(store) if store.kind == "candidate" else None
    signals, score = score_pools(store, [query], owner, rows, cosines, calibration, titles)
    return PoolScores(rows=rows, signals=signals, score=score)


def top(pool: PoolScores, limit: int, min_score: float | None) -> np.ndarray:
    """Positions in the pool of the best ``limit`` rows, best first (ties by id), at least
    ``min_score``: int64 (≤ limit,)."""
    keep = np.arange(len(pool.rows))
    if min_score is not None:
        keep = keep[pool.score >= min_score]
    order = np.lexsort((pool.rows[keep], -pool.score[keep]))
    return keep[order[:limit]]


# ---------------------------------------------------------------- many pools at once


def round4(x: np.ndarray) -> np.ndarray:
    """``round(v, 4)`` of every value (Python's correctly rounded result), as array arithmetic.

    ``rint(v·10⁴)/10⁴`` is the same number unless ``v·10⁴`` lies so near a half that the
    float product may have crossed it; those few values go through ``round`` itself.
    """
    x = np.asarray(x, dtype=np.float64)
    y = x * 1e4
    out: np.ndarray = np.rint(y) / 1e4
    near = np.abs(np.abs(y - np.floor(y)) - 0.5) < 1e-6
    near |= ~np.isfinite(y)
    for i in np.flatnonzero(near).tolist():
        out.flat[i] = round(float(x.flat[i]), 4)
    return out


TITLE_CELLS_MIN = 1 << 16  # a query chunk's title similarity cells allowed whatever the waste
TITLE_WASTE = 4  # a chunk computes at most this many times the cells its queries need alone


def _owner_lookup(owner: np.ndarray, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position in ``keys`` (sorted distinct int64) of each ``owner·K + value``, or -1."""
    if not len(keys):
        return np.full(len(values), -1, dtype=np.int64)
    return _find(keys, owner * _KEY_BASE + values)


_KEY_BASE = np.int64(1) << 32


def _find(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, at, -1)


def _lexical_many(
    store: FactStore[Any], owner: np.ndarray, rows: np.ndarray, queries: list[Side]
) -> np.ndarray:
    """float64 (n,): the lexical signal of every pair (``queries[owner[i]]``, ``rows[i]``):
    ``1 − exp(−w/4)`` of the pair's shared-term weight ``w``.

    A shared term weighs 0.25 when generic, else 2 when it is a key term on either side, else 1.
    ``w`` is the product of the pool's term-weight rows (:meth:`FactStore.term_matrix`) with the
    query's term vector, plus the product of their pattern with the query's non-generic key
    terms (which weigh 2 whatever the row says). Both are written out on the CSR arrays (gather
    by column index, sum per row): at pool size, building scipy matrices costs more than the
    products.
    """
    indptr, entries = store.terms.gather(rows)
    q_keys: list[int] = []
    q_vals: list[tuple[float, float]] = []
    for qi, query in enumerate(queries):
        for t in query.terms:
            i = store.term_vocab.get(t)
            if i < 0:
                continue
            key = t in query.key_terms and not store.term_generic[i]
            q_keys.append(qi * int(_KEY_BASE) + i)
            q_vals.append((0.0, 2.0) if key else (1.0, 0.0))
    keys = np.asarray(q_keys, dtype=np.int64)
    vals = np.asarray(q_vals, dtype=np.float64).reshape(-1, 2)
    keys, first = np.unique(keys, return_index=True)
    vals = vals[first]
    pair = _row_of_entry(indptr)
    term = entries >> 1
    at = _owner_lookup(owner[pair], term.astype(np.int64), keys)
    found = at >= 0
    q_terms = np.where(found, vals[at, 0], 0.0) if len(keys) else np.zeros(len(term))
    q_key = np.where(found, vals[at, 1], 0.0) if len(keys) else np.zeros(len(term))
    weight = np.where(store.term_generic[term], 0.25, 1.0 + (entries & 1))
    per_entry = weight * q_terms + q_key
    total = np.bincount(pair, weights=per_entry, minlength=len(rows))
    distinct, inverse = np.unique(total, return_inverse=True)
    table = np.array([1.0 - math.exp(-float(w) / 4.0) if w else 0.0 for w in distinct])
    return table[inverse].reshape(len(rows))


def _title_chunks(
    n_queries: int, q_titles: list[list[int]], pair_lo: np.ndarray, entry_title: np.ndarray,
    entry_lo: np.ndarray, n_titles: int,
) -> list[tuple[int, int]]:  # fmt: skip
    """Query ranges whose title similarities are computed as one matrix: a range grows while
    its cells stay within ``TITLE_WASTE`` times what its queries need alone (or
    ``TITLE_CELLS_MIN``)."""
    chunks = []
    start = 0
    seen_t = np.zeros(n_titles, dtype=bool)
    seen_q: set[int] = set()
    union_t = 0
    alone = 0
    for qi in range(n_queries):
        mine = np.unique(entry_title[entry_lo[pair_lo[qi]] : entry_lo[pair_lo[qi + 1]]])
        need = len(mine) * len(set(q_titles[qi]))
        new_t = union_t + int(np.count_nonzero(~seen_t[mine]))
        new_q = len(seen_q | set(q_titles[qi]))
        if qi > start and new_t * new_q > max(TITLE_CELLS_MIN, TITLE_WASTE * (alone + need)):
            chunks.append((start, qi))
            start, alone = qi, 0
            seen_t[:] = False
            seen_q = set()
            new_t, new_q = len(mine), len(set(q_titles[qi]))
        seen_t[mine] = True
        seen_q |= set(q_titles[qi])
        union_t, alone = new_t, alone + need
    if n_queries > start:
        chunks.append((start, n_queries))
    return chunks


class TitleSimilarities:
    """Title similarities computed against one store's titles, kept for later pools:
    (query title, title id) → ``title_similarity`` of the pair (a pure function of the two
    titles; a store's title ids are never handed out again, so an entry never goes stale).

    Bounded: past ``limit`` pairs (about 150 bytes each: 7 MB) it starts again empty. Its keys hold
    the query titles, so it is only for queries whose titles are no candidate's (see
    :func:`score_pool`).
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._sims: dict[tuple[str, int], float] = {}

    def __len__(self) -> int:
        return len(self._sims)

    def matrix(
        self, store: FactStore[Any], names: list[str], prepared: list[Any], ids: np.ndarray
    ) -> np.ndarray:
        """float64 (len(names), len(ids)): ``similarity_matrix`` of the query titles
        ``names`` (prepared as ``prepared``) and the store's titles ``ids``; only the titles
        not seen with every name yet are computed."""
        sims = self._sims
        title_ids = ids.tolist()
        got = [[sims.get((n, t)) for t in title_ids] for n in names]
        missing = [j for j, t in enumerate(title_ids) if any(row[j] is None for row in got)]
        if missing:
            fresh = similarity_matrix(
                prepared, [store.title_prepared[title_ids[j]] for j in missing]
            ).tolist()
            if len(sims) + len(names) * len(missing) > self.limit:
                sims.clear()
            for n, row, new in zip(names, got, fresh, strict=True):
                for j, v in zip(missing, new, strict=True):
                    row[j] = sims[(n, title_ids[j])] = v
        return np.array(got, dtype=np.float64).reshape(len(names), len(title_ids))


_KEPT_TITLES: weakref.WeakKeyDictionary[FactStore[Any], TitleSimilarities] = (
    weakref.WeakKeyDictionary()
)


def kept_titles(store: FactStore[Any]) -> TitleSimilarities:
    """The title similarities kept for ``store`` (they go with it)."""
    titles = _KEPT_TITLES.get(store)
    if titles is None:
        titles = _KEPT_TITLES.setdefault(store, TitleSimilarities())
    return titles


def _title_many(
    store: FactStore[Any], owner: np.ndarray, rows: np.ndarray, queries: list[Side],
    pair_lo: np.ndarray, titles: TitleSimilarities | None = None,
) -> np.ndarray:  # fmt: skip
    """float64 (n,): the best similarity of each pair's row titles to its query's titles (0
    below ``OCCUPATION_FLOOR``); pairs are grouped by query, query
    ``qi``'s being ``pair_lo[qi]:pair_lo[qi + 1]``."""
    indptr, title_ids = store.titles.gather(rows)
    best = np.zeros(len(rows))
    if not len(title_ids):
        return best
    names: dict[str, int] = {}
    q_titles = [[names.setdefault(t, len(names)) for t in q.occupations] for q in queries]
    prepared = [prepared_title(t) for t in names]
    by_id = list(names)
    pair = _row_of_entry(indptr)
    entry_title = title_ids.astype(np.int64)
    n_titles = int(entry_title.max()) + 1
    for a, b in _title_chunks(len(queries), q_titles, pair_lo, entry_title, indptr, n_titles):
        e0, e1 = int(indptr[pair_lo[a]]), int(indptr[pair_lo[b]])
        if e0 == e1:
            continue
        distinct, col = np.unique(entry_title[e0:e1], return_inverse=True)
        q_names = sorted({t for qi in range(a, b) for t in q_titles[qi]})
        if not q_names:
            continue
        q_row = {t: r for r, t in enumerate(q_names)}
        q_prepared = [prepared[t] for t in q_names]
        if titles is None:
            sim = similarity_matrix(q_prepared, [store.title_prepared[int(t)] for t in distinct])
        else:
            sim = titles.matrix(store, [by_id[t] for t in q_names], q_prepared, distinct)
        # each entry against each of its query's titles: the best of them
        e_owner = owner[pair[e0:e1]]
        q_count = np.array([len(q_titles[qi]) for qi in range(a, b)], dtype=np.int64)
        q_start = np.concatenate([[0], np.cumsum(q_count)[:-1]])
        q_flat = np.array([q_row[t] for qi in range(a, b) for t in q_titles[qi]], dtype=np.int64)
        reps = q_count[e_owner - a]
        e_rep = np.repeat(np.arange(e1 - e0), reps)
        offset = np.arange(len(e_rep)) - np.repeat(np.cumsum(reps) - reps, reps)
        q_of = q_flat[q_start[e_owner[e_rep] - a] + offset]
        value = np.zeros(e1 - e0)
        np.maximum.at(value, e_rep, sim[q_of, col[e_rep]])
        np.maximum.at(best, pair[e0:e1], value)
    best[best < OCCUPATION_FLOOR] = 0.0
    return best


def _esco_many(
    store: FactStore[Any], owner: np.ndarray, rows: np.ndarray, queries: list[Side]
) -> np.ndarray:
    """float64 (n,): the best ESCO match of every pair's row with its query's links.

    Same ESCO occupation: the weaker link's score; same ISCO-08 unit group:
    ``SAME_ISCO_FACTOR`` times that; otherwise 0.
    """
    best = np.zeros(len(rows))
    links_of = [q.esco for q in queries]
    q_count = np.array([len(x) for x in links_of], dtype=np.int64)
    if not q_count.sum():
        return best
    indptr, links = store.esco.gather(rows)
    if not len(links):
        return best
    q_uri = np.array([store.uris.get(q.uri) for x in links_of for q in x], dtype=np.int64)
    q_isco = np.array(
        [store.iscos.get(q.isco_code) if q.isco_code else -1 for x in links_of for q in x],
        dtype=np.int64,
    )
    q_score = np.array([q.score for x in links_of for q in x], dtype=np.float64)
    q_start = np.concatenate([[0], np.cumsum(q_count)[:-1]])
    pair = _row_of_entry(indptr)
    reps = q_count[owner[pair]]
    e_rep = np.repeat(np.arange(len(links)), reps)
    offset = np.arange(len(e_rep)) - np.repeat(np.cumsum(reps) - reps, reps)
    q = q_start[owner[pair[e_rep]]] + offset
    lk = links[e_rep]
    uri, isco, score = store.link_uri[lk], store.link_isco[lk], store.link_score[lk]
    strength = np.minimum(q_score[q], score)
    same_uri = uri == q_uri[q]
    same_isco = (isco == q_isco[q]) & (q_isco[q] >= 0)
    value = np.where(same_uri, strength, np.where(same_isco, strength * SAME_ISCO_FACTOR, 0.0))
    np.maximum.at(best, pair[e_rep], value)
    return best


def _focus_many(
    store: FactStore[Any], owner: np.ndarray, rows: np.ndarray, queries: list[Side]
) -> np.ndarray:
    """float64 (n,): the score of each pair's row's first focus hit in a focus occupation its
    query is in too (0 when none, and always 0 when the query is in no focus occupation)."""
    out = np.zeros(len(rows))
    keys_l = [
        qi * int(_KEY_BASE) + s
        for qi, q in enumerate(queries)
        for s in (store.slugs.get(h.slug) for h in q.focus)
        if s >= 0
    ]
    if not keys_l:
        return out
    keys = np.unique(np.asarray(keys_l, dtype=np.int64))
    indptr, hits = store.focus.gather(rows)
    pair = _row_of_entry(indptr)
    shared = _owner_lookup(owner[pair], store.hit_slug[hits].astype(np.int64), keys) >= 0
    pos = np.where(shared, np.arange(len(hits)), len(hits))
    first = np.full(len(rows), len(hits))
    np.minimum.at(first, pair, pos)
    found = first < len(hits)
    out[found] = store.hit_score[hits[first[found]]]
    return out


def score_pools(
    store: FactStore[Any],
    queries: list[Side],
    owner: np.ndarray,
    rows: np.ndarray,
    cosines: np.ndarray,
    calibration: Calibration,
    titles: TitleSimilarities | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`score_pool` of many pools at once: pair ``i`` is row ``rows[i]`` in the pool of
    ``queries[owner[i]]``; ``owner`` is non-decreasing (pairs grouped by query).

    Returns:
        signals: float64 (n, 3) and score: float64 (n,), each pair's exactly as
        :func:`score_pool` gives it for the pair's pool alone (every signal depends only on
        the pair).
    """
    rows = np.asarray(rows, dtype=np.int64)
    owner = np.asarray(owner, dtype=np.int64)
    pair_lo = np.searchsorted(owner, np.arange(len(queries) + 1))
    semantic = calibration.semantic(cosines)
    lex = _lexical_many(store, owner, rows, queries)
    occupation = _title_many(store, owner, rows, queries, pair_lo, titles)
    occupation = np.maximum(occupation, _esco_many(store, owner, rows, queries))
    focus = _focus_many(store, owner, rows, queries)
    occupation = np.where(focus > occupation, focus, occupation)
    signals = np.stack([semantic, lex, occupation], axis=1)
    w = [calibration.weights[name] for name in SIGNALS]
    raw = w[0] * semantic + w[1] * lex + w[2] * occupation
    return signals, round4(raw)
