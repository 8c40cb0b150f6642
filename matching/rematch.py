"""Batch rematching: every vacancy's top-k candidates and every candidate's top-k vacancies.

The whole computation is driven by one float32 matrix product per block of vacancies ×
candidates (:data:`BLOCK_ROWS` × :data:`BLOCK_COLS`, bounded memory), which feeds both
directions at once:

1. *Scan.* Each block's cosines, with the hard filters of both directions applied in place
   (:func:`matching.columns.block_rules`, the interactive search's rules), update a per-row pool of
   each vacancy's best candidates and a running per-column pool of each candidate's best
   vacancies (``np.argpartition``, merged across blocks). A pool keeps :func:`window` entries,
   a few more than the re-rank pool :func:`matching.matcher.pool_size` needs.
2. *Exact pools.* The re-rank pool is the ``pool_size(top_k)`` allowed targets with the largest
   float64 cosine (ties: smaller id). The float32 product decides it when it can prove it: every
   float32 cosine is within ``eps`` of the float64 one (:func:`error_bound`), so the true pool is
   among the kept entries whose float32 cosine is at least the pool boundary minus ``2·eps``;
   those get their float64 cosine and the pool is picked from them. When the kept window lies
   entirely inside that band (no proof), the row gets a second float32 pass over all targets
   that keeps the whole band, however wide.
3. *Re-rank.* The pools are scored :data:`RERANK_CHUNK` queries at a time with
   :func:`matching.rerank.score_pools`, which gives every pair the score
   :func:`matching.rerank.score_pool` (the scorer of the interactive endpoints) gives it, on
   the same float64 cosines, so a pair gets the same score here as from ``GET .../matches``.

:func:`rematch_incremental` redoes only what can have changed after some rows changed or went
(see its docstring) and gives exactly :func:`rematch_full`'s result.

Blocks travel as :class:`Tile` ranges, so an :class:`Executor` can compute them here or on a
Dask cluster (:class:`DaskExecutor`: each worker gets both sides once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np

from matching.columns import BlockRules, FilterColumns, block_rules, pair_mask, pair_masks
from matching.embedder import Embedded, load_encoder
from matching.facts import FactStore, Kind, build_store
from matching.matcher import pool_size
from matching.profiles import VacancyFacts
from matching.ranking import SIGNALS, Calibration, MatchFilters, calibration_for
from matching.rerank import PoolScores, round4, score_pools

Direction = Literal[0, 1]
FOR_VACANCY: Direction = 0  # queries are vacancies, results are candidates
FOR_CANDIDATE: Direction = 1  # queries are candidates, results are vacancies
DEFAULT_FILTERS = MatchFilters()  # what the interactive endpoints use without query parameters

BLOCK_ROWS = 2048  # vacancies per product block
BLOCK_COLS = 8192  # candidates per product block: a block's float32 cosines take 64 MiB
TILE_ROWS = 16384  # vacancies per tile (the unit an executor distributes)
TILE_COLS = 65536  # candidates per tile
EXACT_BYTES = 1 << 22  # float64 pair products computed at once (kept in cache)


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


def match_rows(
    direction: int, query_id: int, pool: PoolScores, best: np.ndarray, calibration: Calibration
) -> list[MatchRow]:
    """The stored rows of one query: its pool's positions ``best``, best first (the parts
    weighted by ``calibration``, the one the pool was scored with)."""
    out = []
    for rank, r in enumerate(best.tolist(), start=1):
        target = int(pool.rows[r])
        parts = [
            round(calibration.weights[name] * float(pool.signals[r, k]), 4)
            for k, name in enumerate(SIGNALS)
        ]
        vacancy_id, candidate_id = (
            (query_id, target) if direction == FOR_VACANCY else (target, query_id)
        )
        out.append(
            MatchRow(vacancy_id, candidate_id, direction, rank, float(pool.score[r]), *parts)
        )
    return out


# ---------------------------------------------------------------- sides


@dataclass
class SideColumns:
    """One side's rows as a rematch reads them.

    Attributes:
        ids: int64 (n,), distinct row ids.
        vectors: float32 (n, dim), unit vectors aligned with ``ids``.
        store: the rows' facts (it may hold more rows than ``ids``; only these take part).
        model_id: the encoder the vectors are from; it decides the scores' calibration, and
            the two sides of a rematch must have the same one.
    """

    ids: np.ndarray
    vectors: np.ndarray
    store: FactStore[Any]
    model_id: str

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64)
        if self.vectors.shape[0] != len(self.ids) or self.vectors.dtype != np.float32:
            raise ValueError("vectors must be float32 with one row per id")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def kind(self) -> Kind:
        return self.store.kind

    def take(self, idx: np.ndarray | slice) -> SideColumns:
        """The rows at positions ``idx`` (same store, same model)."""
        return SideColumns(
            self.ids[idx], np.ascontiguousarray(self.vectors[idx]), self.store, self.model_id
        )

    @cached_property
    def calibration(self) -> Calibration:
        """How scores of these vectors fuse: :func:`matching.ranking.calibration_for` of the
        model (read once per side; it travels with the side to workers)."""
        return calibration_for(self.model_id)

    @cached_property
    def max_norm(self) -> float:
        if not len(self):
            return 0.0
        return float(np.sqrt((self.vectors.astype(np.float64) ** 2).sum(axis=1).max()))


@dataclass
class SideArrays:
    """One side's rows as facts objects (what the database loader produces)."""

    ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float32 (n, dim)
    facts: list[Any]  # CandidateFacts or VacancyFacts, aligned with ids
    model_id: str  # the encoder the vectors are from

    def __post_init__(self) -> None:
        n = len(self.facts)
        if self.ids.shape != (n,) or self.vectors.shape[0] != n:
            raise ValueError("ids, vectors and facts must have the same length")

    def __len__(self) -> int:
        return len(self.facts)

    @cached_property
    def columns(self) -> SideColumns:
        kind: Kind = (
            "vacancy" if self.facts and isinstance(self.facts[0], VacancyFacts) else "candidate"
        )
        return SideColumns(self.ids, self.vectors, build_store(kind, self.facts), self.model_id)


def error_bound(dim: int, norm_a: float, norm_b: float) -> float:
    """A bound on |float32 dot − exact dot| for vectors of these norms, whatever the BLAS
    summation order: ``γ_dim · Σ|aᵢbᵢ| ≤ dim·u/(1 − dim·u) · ‖a‖‖b‖`` with u = 2⁻²⁴ (each
    float32 product of float32 inputs is then rounded once per addition, fused or not)."""
    u = 2.0**-24
    return (dim + 2) * u / (1 - (dim + 2) * u) * norm_a * norm_b + 1e-12


def depth(pool: int) -> int:
    """Exact entries kept per row for a re-rank pool of ``pool``: the extra ones let an
    incremental run drop changed rows from a pool and still know its first ``pool``."""
    return pool + max(16, pool // 8)


def window(pool: int) -> int:
    """Entries a scan keeps per row for a re-rank pool of ``pool``: the extra ones beyond
    :func:`depth` are what lets the float32 product prove the boundary."""
    d = depth(pool)
    return d + max(32, d // 4)


# ---------------------------------------------------------------- scan


@dataclass
class Pools:
    """Running top-``w`` float32 cosines of some query rows (one side of a scan).

    Attributes:
        vals: float32 (n, w), -inf where fewer targets were allowed.
        pos: int32 (n, w), the targets' positions in the target side.
        allowed: int64 (n,), how many targets passed the filters.
    """

    vals: np.ndarray
    pos: np.ndarray
    allowed: np.ndarray

    @classmethod
    def empty(cls, n: int, w: int) -> Pools:
        return cls(
            np.full((n, w), -np.inf, dtype=np.float32),
            np.full((n, w), -1, dtype=np.int32),
            np.zeros(n, dtype=np.int64),
        )

    def offer(
        self,
        sims: np.ndarray,
        offset: int,
        allowed: np.ndarray,
        rows: slice,
        shift: float,
        *,
        by_column: bool = False,
        excluded: np.ndarray | None = None,
    ) -> None:
        """Merge a block's cosines into rows ``rows``.

        Args:
            sims: float32, lowered by ``shift`` (:func:`drop_shift`) where a pair is not
                allowed, so below every allowed cosine but still distinct (a partition among
                many equal values is several times slower); (r, m) with row ``i`` for pool row
                ``rows.start + i`` and column ``j`` for target position ``offset + j``, or with
                ``by_column`` the other way round, (m, r) (the block as computed, not copied).
            allowed: int (r,), how many of the block's targets each row allows.
            excluded: bool (m,), targets no row allows (not lowered in ``sims`` because the
                other direction reads them), or None.

        A pool that is not full yet takes the block's best ``w`` allowed entries (one
        partition of those rows); a full pool takes the entries at or above its lowest value,
        so most entries are rejected by one comparison and the few hits are merged by one
        partition of old + new.
        """
        w = self.vals.shape[1]
        self.allowed[rows] += allowed
        floor = np.float32(-shift / 2)
        m = sims.shape[0] if by_column else sims.shape[1]
        thr = self.vals[rows].min(axis=1)
        filling = np.flatnonzero(thr == -np.inf)
        if len(filling):
            part = _transposed(sims, filling) if by_column else sims[filling]
            if excluded is not None:
                part[:, excluded] -= shift
            if m > w:
                keep = np.argpartition(part, m - w, axis=1)[:, m - w :]
                v = np.take_along_axis(part, keep, axis=1)
            else:
                keep, v = np.broadcast_to(np.arange(m), part.shape), part
            p = (keep + offset).astype(np.int32)
            dropped = v < floor  # fewer than w allowed
            v[dropped], p[dropped] = -np.inf, -1
            self._merge_at(filling + rows.start, v, p)
            thr[filling] = np.inf  # done
        if len(filling) == len(thr):
            return
        hit = sims >= (thr[None, :] if by_column else thr[:, None])
        if excluded is not None:
            hit[(excluded, slice(None)) if by_column else (slice(None), excluded)] = False
        flat = np.flatnonzero(hit)
        if not len(flat):
            return
        i, j = np.divmod(flat, hit.shape[1])
        hit_v = sims[i, j]
        r_hit, c_hit = (j, i) if by_column else (i, j)
        if by_column:  # group by row (an int16 key sorts by radix)
            key = r_hit.astype(np.int16) if len(thr) <= np.iinfo(np.int16).max else r_hit
            order = np.argsort(key, kind="stable")
            r_hit, c_hit, hit_v = r_hit[order], c_hit[order], hit_v[order]
        counts = np.bincount(r_hit, minlength=len(thr))
        k = int(counts.max())
        # the hits as a (rows, k) block padded with -inf, then one partition of old + new
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        col = np.arange(len(r_hit)) - starts[r_hit]
        new_v = np.full((len(thr), k), -np.inf, dtype=np.float32)
        new_p = np.full((len(thr), k), -1, dtype=np.int32)
        new_v[r_hit, col] = hit_v
        new_p[r_hit, col] = c_hit + offset
        got = np.flatnonzero(counts)
        self._merge_at(got + rows.start, new_v[got], new_p[got])

    def _merge_at(self, at: np.ndarray, vals: np.ndarray, pos: np.ndarray) -> None:
        """Merge entries (float32 (r, m), int (r, m)) into the pools of rows ``at``."""
        w = self.vals.shape[1]
        old_v = self.vals[at]
        empty = old_v.max(axis=1, initial=-np.inf) == -np.inf
        if vals.shape[1] <= w and empty.any():  # nothing to merge with: the entries as they are
            e = at[empty]
            self.vals[e], self.pos[e] = -np.inf, -1
            self.vals[e, : vals.shape[1]], self.pos[e, : vals.shape[1]] = vals[empty], pos[empty]
            at, old_v, vals, pos = at[~empty], old_v[~empty], vals[~empty], pos[~empty]
        if not len(at):
            return
        v = np.concatenate([old_v, vals], axis=1)
        p = np.concatenate([self.pos[at], pos.astype(np.int32)], axis=1)
        keep = np.argpartition(v, v.shape[1] - w, axis=1)[:, v.shape[1] - w :]
        self.vals[at] = np.take_along_axis(v, keep, axis=1)
        self.pos[at] = np.take_along_axis(p, keep, axis=1)

    def merge(self, vals: np.ndarray, pos: np.ndarray, allowed: np.ndarray, rows: slice) -> None:
        """Merge candidates (float32 (r, m), int32 (r, m)) into rows ``rows``."""
        self._merge_at(np.arange(rows.start, rows.stop), vals, pos)
        self.allowed[rows] += allowed


TRANSPOSE_STEP = 64  # rows of a block transposed at once (the slabs stay in cache)


def _transposed(sims: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """float32 (len(cols), m): columns ``cols`` of float32 (m, n) as rows, copied a slab of
    rows at a time (a plain transposed copy strides through memory and is several times
    slower)."""
    m = sims.shape[0]
    out = np.empty((len(cols), m), dtype=sims.dtype)
    every = len(cols) == sims.shape[1]
    for a in range(0, m, TRANSPOSE_STEP):
        slab = sims[a : a + TRANSPOSE_STEP]
        out[:, a : a + TRANSPOSE_STEP] = (slab if every else slab[:, cols]).T
    return out


@dataclass(frozen=True)
class Tile:
    """Vacancies ``v0:v1`` × candidates ``c0:c1`` (positions), and which pools to fill."""

    v0: int
    v1: int
    c0: int
    c1: int
    rows: bool = True  # the vacancies' pools of candidates
    cols: bool = True  # the candidates' pools of vacancies


@dataclass
class TilePools:
    tile: Tile
    rows: Pools | None  # the tile's vacancies, targets as candidate positions
    cols: Pools | None  # the tile's candidates, targets as vacancy positions
    seconds: dict[str, float] = field(default_factory=dict)


def scan_tile(
    vacs: SideColumns,
    cands: SideColumns,
    tile: Tile,
    w_rows: int,
    w_cols: int,
    filters: MatchFilters = DEFAULT_FILTERS,
) -> TilePools:
    """One tile's float32 products, block by block, into both directions' pools."""
    clock = {"product": 0.0, "filters": 0.0, "pools": 0.0}
    shift = drop_shift(vacs, cands)
    rows = Pools.empty(tile.v1 - tile.v0, w_rows) if tile.rows else None
    cols = Pools.empty(tile.c1 - tile.c0, w_cols) if tile.cols else None
    for a in range(tile.v0, tile.v1, BLOCK_ROWS):
        b = min(a + BLOCK_ROWS, tile.v1)
        for c in range(tile.c0, tile.c1, BLOCK_COLS):
            d = min(c + BLOCK_COLS, tile.c1)
            t = time.perf_counter()
            sims = vacs.vectors[a:b] @ cands.vectors[c:d].T  # float32 (b-a, d-c)
            clock["product"] += time.perf_counter() - t
            t = time.perf_counter()
            v_ids, c_ids = vacs.ids[a:b], cands.ids[c:d]
            vf, cf = vacs.store.filters, cands.store.filters
            rules = block_rules(vf, v_ids, cf, c_ids, filters)
            at_rows, at_cols = slice(a - tile.v0, b - tile.v0), slice(c - tile.c0, d - tile.c0)
            if rules is None:  # pair rules not symmetric: each direction's mask
                _offer_masked(sims, shift, vf, v_ids, cf, c_ids, filters, rows, cols, c, a,
                              at_rows, at_cols, clock, t)  # fmt: skip
                continue
            n_rows, fail_cols = _fail_in_place(
                sims, rules, shift, rows is not None, cols is not None
            )
            clock["filters"] += time.perf_counter() - t
            t = time.perf_counter()
            if rows is not None:
                ok = rules.candidate_ok
                rows.offer(sims, c, n_rows, at_rows, shift, excluded=None if ok.all() else ~ok)
            if cols is not None:
                ok = rules.vacancy_ok
                n_cols = int(ok.sum()) - fail_cols
                cols.offer(sims, a, n_cols, at_cols, shift, by_column=True,
                           excluded=None if ok.all() else ~ok)  # fmt: skip
            clock["pools"] += time.perf_counter() - t
    return TilePools(tile, rows, cols, clock)


FILTER_ROWS = 128  # vacancies whose pair rules are evaluated at once (temporaries in cache)


def drop_shift(vacs: SideColumns, cands: SideColumns) -> float:
    """What a pair's cosine is lowered by when the filters drop it: it then lies below
    ``-shift / 2``, under every cosine of these sides' vectors (``|cos| ≤`` the norms'
    product), and dropped pairs keep distinct values."""
    return 2.0 * vacs.max_norm * cands.max_norm + 2.0


def _fail_in_place(
    sims: np.ndarray, rules: BlockRules, shift: float, rows: bool, cols: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Lower ``sims`` (float32 (v, c)) by ``shift`` where a pair fails ``rules``' pair rules, a few
    vacancies at a time; returns int (v,), how many candidates each vacancy's search allows,
    and int (c,), how many of the allowed vacancies fail each candidate's pair rules."""
    n_rows = np.full(sims.shape[0], int(rules.candidate_ok.sum()), dtype=np.int64)
    fail_cols = np.zeros(sims.shape[1], dtype=np.int64)
    for a in range(0, sims.shape[0], FILTER_ROWS):
        b = min(a + FILTER_ROWS, sims.shape[0])
        fails = rules.fails(a, b)
        if fails is None:
            continue
        np.subtract(sims[a:b], np.float32(shift), out=sims[a:b], where=fails)
        if rows:
            n_rows[a:b] -= np.count_nonzero(fails & rules.candidate_ok, axis=1)
        if cols:
            fail_cols += np.count_nonzero(fails[rules.vacancy_ok[a:b]], axis=0)
    return n_rows, fail_cols


def _offer_masked(
    sims: np.ndarray,
    shift: float,
    vf: FilterColumns,
    v_ids: np.ndarray,
    cf: FilterColumns,
    c_ids: np.ndarray,
    filters: MatchFilters,
    rows: Pools | None,
    cols: Pools | None,
    c: int,
    a: int,
    at_rows: slice,
    at_cols: slice,
    clock: dict[str, float],
    t: float,
) -> None:
    """A block's offers with each direction's own mask (filters whose pair rules differ
    between the directions)."""
    if rows is not None and cols is not None:
        ok_v, ok_c = pair_masks(vf, v_ids, cf, c_ids, filters)
    elif rows is not None:
        ok_v = pair_mask(cf, "candidate", c_ids, vf, v_ids, filters)
    else:
        ok_c = pair_mask(vf, "vacancy", v_ids, cf, c_ids, filters)
    clock["filters"] += time.perf_counter() - t
    t = time.perf_counter()
    if rows is not None:
        masked = np.where(ok_v, sims, sims - np.float32(shift))
        rows.offer(masked, c, ok_v.sum(axis=1), at_rows, shift)
    if cols is not None:
        masked = np.where(ok_c.T, sims, sims - np.float32(shift))  # (vacancies, candidates)
        cols.offer(masked, a, ok_c.sum(axis=1), at_cols, shift, by_column=True)
    clock["pools"] += time.perf_counter() - t


def plan_tiles(n_vacs: int, n_cands: int, rows: bool = True, cols: bool = True) -> list[Tile]:
    return [
        Tile(v0, min(v0 + TILE_ROWS, n_vacs), c0, min(c0 + TILE_COLS, n_cands), rows, cols)
        for v0 in range(0, n_vacs, TILE_ROWS)
        for c0 in range(0, n_cands, TILE_COLS)
    ]


# ---------------------------------------------------------------- exact pools


@dataclass
class ExactPools:
    """Each row's best allowed targets by float64 cosine (descending, then id ascending); the
    re-rank pool is the first ``pool_size(top_k)`` of them.

    Attributes:
        ids: int64 (n, d), target ids, -1 past ``size``.
        cos: float64 (n, d), their cosines (-inf past ``size``).
        size: int64 (n,), entries known.
        complete: bool (n,), the entries are all the allowed targets (else there are more, all
            after the last entry).
    """

    ids: np.ndarray
    cos: np.ndarray
    size: np.ndarray
    complete: np.ndarray

    @classmethod
    def empty(cls, n: int, d: int) -> ExactPools:
        return cls(
            np.full((n, d), -1, dtype=np.int64),
            np.full((n, d), -np.inf),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=bool),
        )

    def put(self, i: int, ids: np.ndarray, cos: np.ndarray, complete: bool, keep: int) -> None:
        """Row ``i``: the best ``min(keep, width)`` of (ids, cos); ``complete``: those are all
        the allowed targets."""
        order = np.lexsort((ids, -cos))
        n = min(len(order), keep, self.ids.shape[1])
        order = order[:n]
        self.ids[i], self.cos[i] = -1, -np.inf
        self.ids[i, :n], self.cos[i, :n], self.size[i] = ids[order], cos[order], n
        self.complete[i] = complete and n == len(ids)

    def take(self, idx: np.ndarray) -> ExactPools:
        return ExactPools(self.ids[idx], self.cos[idx], self.size[idx], self.complete[idx])

    def assign(self, idx: np.ndarray, other: ExactPools) -> None:
        self.ids[idx], self.cos[idx] = other.ids, other.cos
        self.size[idx], self.complete[idx] = other.size, other.complete


def exact_cosines(query: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """float64 (n,): cosines of float32 (dim,) with float32 (n, dim), summed in float64 the
    same way whatever ``n`` (so a pair's cosine does not depend on its batch)."""
    cosines: np.ndarray = (targets.astype(np.float64) * query.astype(np.float64)).sum(axis=1)
    return cosines


def row_cosines(
    queries: np.ndarray, targets: np.ndarray, pos: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """float64 (n, m): :func:`exact_cosines` of each query row with its kept targets (``pos``
    int (n, m) where ``keep``), -inf elsewhere: the same numbers (each pair summed alone in
    float64, the same way), computed a few rows at a time so the float64 copies stay in cache,
    each row's kept entries moved to the front first."""
    n, m = pos.shape
    out = np.full((n, m), -np.inf)
    front = np.argsort(~keep, axis=1, kind="stable")  # kept first, in window order
    count = keep.sum(axis=1)
    step = max(1, EXACT_BYTES // max(1, m * queries.shape[1] * 8))
    for a in range(0, n, step):
        b = min(a + step, n)
        width = int(count[a:b].max(initial=0))
        if not width:
            continue
        cols = front[a:b, :width]
        at = np.take_along_axis(pos[a:b], cols, axis=1)
        prod = targets[at].astype(np.float64)
        prod *= queries[a:b].astype(np.float64)[:, None, :]
        cos = prod.sum(axis=2)
        live = np.arange(width)[None, :] < count[a:b, None]
        np.put_along_axis(out[a:b], cols, np.where(live, cos, -np.inf), axis=1)
    return out


def _put_kept(
    out: ExactPools,
    queries: SideColumns,
    targets: SideColumns,
    keep: np.ndarray,
    pos: np.ndarray,
    complete: np.ndarray,
) -> None:
    """:meth:`ExactPools.put` for every row with a kept entry at once: row ``i``'s entries are
    the targets ``pos[i][keep[i]]`` by float64 cosine (then id), ``complete[i]`` as there."""
    had = keep.any(axis=1)
    if not had.any():
        return
    cos = np.full(keep.shape, -np.inf)
    at = np.flatnonzero(had)
    cos[at] = row_cosines(queries.vectors[at], targets.vectors, np.maximum(pos[at], 0), keep[at])
    ids = np.where(keep, targets.ids[np.maximum(pos, 0)], np.iinfo(np.int64).max)
    order = np.lexsort((ids, -cos), axis=1)[:, : out.ids.shape[1]]
    ids, cos = np.take_along_axis(ids, order, axis=1), np.take_along_axis(cos, order, axis=1)
    count = keep.sum(axis=1)
    n = np.minimum(count, out.ids.shape[1])
    live = np.arange(ids.shape[1])[None, :] < n[:, None]
    out.ids[had], out.cos[had] = -1, -np.inf
    width = ids.shape[1]
    out.ids[:, :width][live], out.cos[:, :width][live] = ids[live], cos[live]
    out.size[had] = n[had]
    out.complete[had] = complete[had] & (n[had] == count[had])


def exact_pools(
    queries: SideColumns,
    targets: SideColumns,
    pools: Pools,
    p: int,
    filters: MatchFilters = DEFAULT_FILTERS,
) -> tuple[ExactPools, int]:
    """The exact :func:`depth` best targets of ``queries`` from their float32 scan ``pools``
    (aligned rows); returns them and how many rows needed a second pass over all targets."""
    eps = error_bound(queries.vectors.shape[1], queries.max_norm, targets.max_norm)
    d = depth(p)
    out = ExactPools.empty(len(queries), d)
    vals, pos, allowed = pools.vals, pools.pos, pools.allowed
    w = vals.shape[1]
    size = np.minimum(allowed, d)
    # boundary: the size-th largest float32 cosine of each row
    srt = -np.sort(-vals, axis=1)
    bound = srt[np.arange(len(vals)), np.maximum(size - 1, 0)].astype(np.float64)
    low = srt[:, -1].astype(np.float64)
    # no proof when the window is full of allowed targets and all of it is inside the band
    unproven = (allowed > w) & (low >= bound - 2 * eps) & (size > 0)
    out.complete[size == 0] = True
    proven = (size > 0) & ~unproven
    keep = (
        proven[:, None]
        & np.isfinite(vals)
        & (vals.astype(np.float64) >= (bound - 2 * eps)[:, None])
    )
    _put_kept(out, queries, targets, keep, pos, allowed <= d)
    again = np.flatnonzero(unproven)
    # rows whose window lies inside the band: one more float32 pass over all targets, keeping
    # every target at or above the boundary minus 2·eps (a target of the float64 pool has a
    # true cosine of at least the boundary minus eps, so any float32 cosine of it is at least
    # that), a few rows at a time (bounded memory)
    chunk = max(1, BLOCK_ROWS * BLOCK_COLS // max(len(targets), 1))
    for start in range(0, len(again), chunk):
        rows = again[start : start + chunk]
        part_q = queries.take(rows)
        q_at, t_pos = _band(part_q, targets, bound[rows] - 2 * eps, filters)
        counts = np.bincount(q_at, minlength=len(rows))
        order = np.argsort(q_at, kind="stable")
        q_at, t_pos = q_at[order], t_pos[order]
        col = np.arange(len(q_at)) - (np.cumsum(counts) - counts)[q_at]
        at = np.zeros((len(rows), int(counts.max(initial=0))), dtype=np.int64)
        keep = np.zeros(at.shape, dtype=bool)
        at[q_at, col], keep[q_at, col] = t_pos, True
        part = ExactPools.empty(len(rows), d)
        _put_kept(part, part_q, targets, keep, at, np.zeros(len(rows), dtype=bool))
        out.assign(rows, part)
    return out, len(again)


def _band(
    queries: SideColumns, targets: SideColumns, low: np.ndarray, filters: MatchFilters
) -> tuple[np.ndarray, np.ndarray]:
    """Every allowed pair whose float32 cosine is at least ``low`` (float64 (n,), per query):
    int64 query rows and target positions, block by block as the scan computes them."""
    vac_q = queries.kind == "vacancy"
    vacs, cands = (queries, targets) if vac_q else (targets, queries)
    vf, cf = vacs.store.filters, cands.store.filters
    shift = drop_shift(vacs, cands)
    found_q, found_t = [], []
    for a in range(0, len(vacs), BLOCK_ROWS):
        b = min(a + BLOCK_ROWS, len(vacs))
        for c in range(0, len(cands), BLOCK_COLS):
            d = min(c + BLOCK_COLS, len(cands))
            sims = vacs.vectors[a:b] @ cands.vectors[c:d].T  # float32 (b-a, d-c)
            v_ids, c_ids = vacs.ids[a:b], cands.ids[c:d]
            rules = block_rules(vf, v_ids, cf, c_ids, filters)
            if rules is None:
                ok_v, ok_c = pair_masks(vf, v_ids, cf, c_ids, filters)
                hit = ok_v if vac_q else ok_c.T
            else:
                _fail_in_place(sims, rules, shift, False, False)
                hit = np.ones(sims.shape, dtype=bool)
                if vac_q:
                    hit[:, ~rules.candidate_ok] = False
                else:
                    hit[~rules.vacancy_ok] = False
            hit &= sims >= (low[a:b, None] if vac_q else low[None, c:d])
            i, j = np.divmod(np.flatnonzero(hit), d - c)
            found_q.append(a + i if vac_q else c + j)
            found_t.append(c + j if vac_q else a + i)
    if not found_q:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_q), np.concatenate(found_t)


# ---------------------------------------------------------------- re-rank


@dataclass
class TopK:
    """Each query's best ``k`` targets, best first.

    Attributes:
        ids: int64 (n, k), target ids, -1 past the row's count.
        scores: float64 (n, k), the hybrid score (rounded to 4 decimals as the endpoints do).
        parts: float64 (n, k, 3), the weighted semantic, lexical and occupation parts (rounded).
    """

    ids: np.ndarray
    scores: np.ndarray
    parts: np.ndarray

    @classmethod
    def empty(cls, n: int, k: int) -> TopK:
        return cls(
            np.full((n, k), -1, dtype=np.int64),
            np.full((n, k), np.nan),
            np.full((n, k, 3), np.nan),
        )

    def take(self, idx: np.ndarray) -> TopK:
        return TopK(self.ids[idx], self.scores[idx], self.parts[idx])

    def rows(self, direction: int, query_ids: np.ndarray) -> list[MatchRow]:
        """As stored match rows (``query_ids`` aligned with the rows)."""
        out = []
        for qi, q in enumerate(query_ids.tolist()):
            for r in range(self.ids.shape[1]):
                t = int(self.ids[qi, r])
                if t < 0:
                    break
                v, c = (q, t) if direction == FOR_VACANCY else (t, q)
                s, l_, o = self.parts[qi, r].tolist()
                out.append(MatchRow(v, c, direction, r + 1, float(self.scores[qi, r]), s, l_, o))
        return out


def shared_calibration(queries: SideColumns, targets: SideColumns) -> Calibration:
    """The calibration both sides' vectors are scored with.

    Raises:
        ValueError: the sides' vectors come from different models (their cosines mean nothing).
    """
    if queries.model_id != targets.model_id:
        raise ValueError(
            f"the two sides' vectors come from different models: {queries.model_id} and "
            f"{targets.model_id}"
        )
    return queries.calibration


RERANK_CHUNK = 512  # queries scored by one score_pools call (bounds the pairs' entries)


def rerank(
    queries: SideColumns, targets: SideColumns, pools: ExactPools, p: int, top_k: int
) -> TopK:
    """Score each re-rank pool (the first ``p`` of ``pools``) with the endpoints' scorer, under
    the calibration of the sides' model, and keep the best ``top_k`` (ties by id).

    The pools are scored :data:`RERANK_CHUNK` queries at a time by
    :func:`matching.rerank.score_pools`, which gives every pair :func:`score_pool`'s score.

    Raises:
        ValueError: the two sides' model ids differ.
    """
    calibration = shared_calibration(queries, targets)
    out = TopK.empty(len(queries), top_k)
    weights = np.array([calibration.weights[name] for name in SIGNALS])
    n = np.minimum(pools.size, p)
    for a in range(0, len(queries), RERANK_CHUNK):
        b = min(a + RERANK_CHUNK, len(queries))
        live = np.arange(pools.ids.shape[1])[None, :p] < n[a:b, None]
        q_at, col = np.nonzero(live)  # row-major: grouped by query, pool order
        if not len(q_at):
            continue
        sides = [queries.store.side(q) for q in queries.ids[a:b].tolist()]
        rows = pools.ids[a + q_at, col]
        signals, score = score_pools(
            targets.store, sides, q_at, rows, pools.cos[a + q_at, col], calibration
        )
        # best first, ties by id, per query; then each query's first top_k
        order = np.lexsort((rows, -score, q_at))
        q_sorted = q_at[order]
        first = np.searchsorted(q_sorted, np.arange(b - a))
        rank = np.arange(len(order)) - first[q_sorted]
        keep = rank < top_k
        at, r, pick = a + q_sorted[keep], rank[keep], order[keep]
        out.ids[at, r] = rows[pick]
        out.scores[at, r] = score[pick]
        out.parts[at, r] = round4(signals[pick] * weights)
    return out


# ---------------------------------------------------------------- executors


RankPart = tuple[np.ndarray, "Pools | ExactPools"]  # query positions, their pools
Ranked = tuple[np.ndarray, ExactPools, TopK, int, dict[str, float]]


def rank_part(
    queries: SideColumns,
    targets: SideColumns,
    positions: np.ndarray,
    pools: Pools | ExactPools,
    p: int,
    top_k: int,
) -> Ranked:
    """Exact pools (unless given) and re-ranked top-k of the queries at ``positions``."""
    part = queries.take(positions)
    clock: dict[str, float] = {}
    t = time.perf_counter()
    searched = 0
    if isinstance(pools, Pools):
        pools, searched = exact_pools(part, targets, pools, p)
    clock["exact"] = time.perf_counter() - t
    t = time.perf_counter()
    ranked = rerank(part, targets, pools, p, top_k)
    clock["rerank"] = time.perf_counter() - t
    return positions, pools, ranked, searched, clock


class Executor(Protocol):
    """Runs scan tiles, re-rank parts and embeddings here or on a cluster."""

    def scan_parts(
        self, vacs: SideColumns, cands: SideColumns, tiles: Sequence[Tile], w_rows: int, w_cols: int
    ) -> Iterator[TilePools]: ...

    def rerank_parts(
        self,
        queries: SideColumns,
        targets: SideColumns,
        parts: Sequence[RankPart],
        p: int,
        top_k: int,
    ) -> Iterator[Ranked]: ...

    def embed(self, texts: Sequence[str]) -> Embedded: ...

    def release(self) -> None:
        """Forget data sent for the run that just ended (its sides may change before the
        next)."""


def _no_embed(texts: Sequence[str]) -> Embedded:
    raise RuntimeError("this executor was made without an encoder")


class LocalExecutor:
    """Everything in this process, in order."""

    def __init__(self, embed: Callable[[Sequence[str]], Embedded] = _no_embed) -> None:
        self._embed = embed

    def scan_parts(
        self, vacs: SideColumns, cands: SideColumns, tiles: Sequence[Tile], w_rows: int, w_cols: int
    ) -> Iterator[TilePools]:
        for tile in tiles:
            yield scan_tile(vacs, cands, tile, w_rows, w_cols)

    def rerank_parts(
        self,
        queries: SideColumns,
        targets: SideColumns,
        parts: Sequence[RankPart],
        p: int,
        top_k: int,
    ) -> Iterator[Ranked]:
        for positions, pools in parts:
            yield rank_part(queries, targets, positions, pools, p, top_k)

    def embed(self, texts: Sequence[str]) -> Embedded:
        return self._embed(texts)

    def release(self) -> None:
        pass


def _embed_on_worker(encoder_args: tuple[Any, ...], texts: list[str]) -> Embedded:
    # load_encoder is cached per process: each worker loads the model once. The driver's whole
    # argument tuple travels, so workers use the same backend and produce the same model id.
    return load_encoder(*encoder_args).embed(texts)


class DaskExecutor:
    """Tiles, re-rank parts and embedding spread over a dask.distributed cluster.

    Both sides are scattered to every worker once per executor (a task then names a tile or a
    range of positions, a few bytes); results come back as they complete. Workers need the
    project installed (and the model for embedding), not the database.
    """

    EMBED_CHUNK = 128

    def __init__(
        self, client: Any, encoder_args: tuple[Any, ...] = (), max_in_flight: int = 64
    ) -> None:
        """``encoder_args``: what :func:`matching.embedder.load_encoder` gets on the driver."""
        self.client = client
        self.encoder_args = encoder_args
        self.max_in_flight = max_in_flight
        self._remote: dict[int, tuple[Any, Any]] = {}  # id(side) -> (side, its future)
        self.scattered = 0  # sides sent to the workers

    def _scattered(self, side: SideColumns) -> Any:
        got = self._remote.get(id(side))
        if got is None or got[0] is not side:
            got = (side, self.client.scatter(side, broadcast=True, hash=False))
            self._remote[id(side)] = got
            self.scattered += 1
        return got[1]

    def release(self) -> None:
        self._remote.clear()

    def _stream(self, calls: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        from distributed import as_completed

        pending = iter(calls)
        first = []
        for call in pending:
            first.append(self.client.submit(*call, pure=False))
            if len(first) >= self.max_in_flight:
                break
        if not first:
            return
        flight = as_completed(first)
        for fut in flight:
            yield fut.result()
            nxt = next(pending, None)
            if nxt is not None:
                flight.add(self.client.submit(*nxt, pure=False))

    def scan_parts(
        self, vacs: SideColumns, cands: SideColumns, tiles: Sequence[Tile], w_rows: int, w_cols: int
    ) -> Iterator[TilePools]:
        rv, rc = self._scattered(vacs), self._scattered(cands)
        yield from self._stream((scan_tile, rv, rc, t, w_rows, w_cols) for t in tiles)

    def rerank_parts(
        self,
        queries: SideColumns,
        targets: SideColumns,
        parts: Sequence[RankPart],
        p: int,
        top_k: int,
    ) -> Iterator[Ranked]:
        rq, rt = self._scattered(queries), self._scattered(targets)
        yield from self._stream(
            (rank_part, rq, rt, positions, pools, p, top_k) for positions, pools in parts
        )

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


# ---------------------------------------------------------------- full and incremental runs


@dataclass
class RematchState:
    """What an incremental run needs from the previous one (positions follow ``*_ids``)."""

    top_k: int
    vacancy_ids: np.ndarray  # int64 (nv,)
    candidate_ids: np.ndarray  # int64 (nc,)
    vacancy_pools: ExactPools  # candidates per vacancy
    candidate_pools: ExactPools  # vacancies per candidate
    for_vacancy: TopK
    for_candidate: TopK


@dataclass
class RematchResult:
    """Both directions' top-k (rows aligned with the sides' ids), the state for the next
    incremental run, counts and seconds per phase (summed over workers)."""

    for_vacancy: TopK
    for_candidate: TopK
    state: RematchState
    counts: dict[str, int]
    seconds: dict[str, float]

    def rows(self) -> list[MatchRow]:
        return self.for_vacancy.rows(FOR_VACANCY, self.state.vacancy_ids) + self.for_candidate.rows(
            FOR_CANDIDATE, self.state.candidate_ids
        )


def _add(clock: dict[str, float], more: dict[str, float]) -> None:
    for k, v in more.items():
        clock[k] = clock.get(k, 0.0) + v


def _scan(
    executor: Executor,
    vacs: SideColumns,
    cands: SideColumns,
    w: int,
    clock: dict[str, float],
    rows: bool = True,
    cols: bool = True,
) -> tuple[Pools, Pools]:
    """Both sides' float32 pools over all of ``vacs`` × ``cands`` (merged across tiles)."""
    vp, cp = Pools.empty(len(vacs), w), Pools.empty(len(cands), w)
    if not len(vacs) or not len(cands):
        return vp, cp
    t = time.perf_counter()
    for part in executor.scan_parts(
        vacs, cands, plan_tiles(len(vacs), len(cands), rows, cols), w, w
    ):
        _add(clock, part.seconds)
        tile = part.tile
        if part.rows is not None:
            vp.merge(part.rows.vals, part.rows.pos, part.rows.allowed, slice(tile.v0, tile.v1))
        if part.cols is not None:
            cp.merge(part.cols.vals, part.cols.pos, part.cols.allowed, slice(tile.c0, tile.c1))
    clock["scan_wall"] = clock.get("scan_wall", 0.0) + time.perf_counter() - t
    return vp, cp


RANK_PART = 2048  # queries per re-rank part


def _rank(
    executor: Executor,
    queries: SideColumns,
    targets: SideColumns,
    positions: np.ndarray,
    pools: Callable[[np.ndarray], Pools | ExactPools],
    p: int,
    top_k: int,
    into: tuple[ExactPools, TopK],
    clock: dict[str, float],
    counts: dict[str, int],
) -> None:
    """Re-rank the queries at ``positions`` (pools: their pools, given positions in
    ``positions``' order) into ``into``'s rows of the same positions."""
    if not len(positions) or not len(targets):
        return
    t = time.perf_counter()
    parts = [
        (positions[i : i + RANK_PART], pools(np.arange(i, min(i + RANK_PART, len(positions)))))
        for i in range(0, len(positions), RANK_PART)
    ]
    ex_all, top_all = into
    for pos, ex, ranked, searched, part_clock in executor.rerank_parts(
        queries, targets, parts, p, top_k
    ):
        _add(clock, part_clock)
        counts["band_rescans"] = counts.get("band_rescans", 0) + searched
        ex_all.assign(pos, ex)
        top_all.ids[pos], top_all.scores[pos], top_all.parts[pos] = (
            ranked.ids,
            ranked.scores,
            ranked.parts,
        )
    clock["rank_wall"] = clock.get("rank_wall", 0.0) + time.perf_counter() - t


def _sub(pools: Pools, idx: np.ndarray) -> Pools:
    return Pools(pools.vals[idx], pools.pos[idx], pools.allowed[idx])


def _take_at(pools: ExactPools, at: np.ndarray, idx: np.ndarray) -> ExactPools:
    return pools.take(at[idx])


def rematch_full(
    vacs: SideColumns, cands: SideColumns, top_k: int, executor: Executor | None = None
) -> RematchResult:
    """Every vacancy's top-``top_k`` candidates and every candidate's top-``top_k`` vacancies,
    each as its default interactive search ranks them (see the module docstring)."""
    shared_calibration(vacs, cands)  # refused before any work
    executor = executor or LocalExecutor()
    try:
        return _full(vacs, cands, top_k, executor)
    finally:
        executor.release()


def _full(vacs: SideColumns, cands: SideColumns, top_k: int, executor: Executor) -> RematchResult:
    clock: dict[str, float] = {}
    counts: dict[str, int] = {"vacancies": len(vacs), "candidates": len(cands)}
    p = pool_size(top_k)
    vp, cp = _scan(executor, vacs, cands, window(p), clock)
    vex, cex = ExactPools.empty(len(vacs), depth(p)), ExactPools.empty(len(cands), depth(p))
    vtop, ctop = TopK.empty(len(vacs), top_k), TopK.empty(len(cands), top_k)
    _rank(executor, vacs, cands, np.arange(len(vacs)), lambda i: _sub(vp, i), p, top_k,
          (vex, vtop), clock, counts)  # fmt: skip
    _rank(executor, cands, vacs, np.arange(len(cands)), lambda i: _sub(cp, i), p, top_k,
          (cex, ctop), clock, counts)  # fmt: skip
    counts["reranked"] = len(vacs) + len(cands)
    state = RematchState(top_k, vacs.ids.copy(), cands.ids.copy(), vex, cex, vtop, ctop)
    return RematchResult(vtop, ctop, state, counts, clock)


def _positions(ids: np.ndarray, among: np.ndarray) -> np.ndarray:
    """int64: the position of each of ``ids`` in ``among`` (-1: absent)."""
    if not len(among):
        return np.full(len(ids), -1, dtype=np.int64)
    order = np.argsort(among, kind="stable")
    at = np.minimum(np.searchsorted(among, ids, sorter=order), len(among) - 1)
    found = among[order[at]] == ids
    return np.where(found, order[at], -1)


def _merge_entrants(
    queries: SideColumns,
    entrants: SideColumns,
    scan: Pools,
    rows: np.ndarray,
    old: ExactPools,
    dirty: np.ndarray,
    p: int,
) -> tuple[ExactPools, np.ndarray, np.ndarray]:
    """Drop the ``dirty`` targets (changed or removed) from the old pools of the query positions
    ``rows`` and merge in the changed targets (``entrants``, scanned over all queries: ``scan``).

    Returns the merged pools (aligned with ``rows``); per row whether its re-rank pool (the first
    ``p``) must be scored again; per row whether what is known no longer determines the first
    ``p`` (the row must be searched in full).
    """
    merged = old.take(np.arange(len(rows)))
    moved = np.zeros(len(rows), dtype=bool)
    lost = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return merged, moved, lost
    eps = error_bound(queries.vectors.shape[1], queries.max_norm, entrants.max_norm)
    dirty_at = np.isin(old.ids, dirty) & (old.ids >= 0)
    touched = np.flatnonzero(dirty_at.any(axis=1) | (scan.allowed[rows] > 0))
    for a in range(0, len(touched), max(1, MERGE_ROWS)):
        at = touched[a : a + MERGE_ROWS]
        part, moved[at], lost[at] = _merge_rows(
            queries.vectors[rows[at]], entrants, _sub(scan, rows[at]), old.take(at),
            dirty_at[at], dirty, p, eps,
        )  # fmt: skip
        merged.assign(at, part)
    return merged, moved, lost


MERGE_ROWS = 2048  # rows merged at once by _merge_entrants (bounds its (rows, depth + window))


def _merge_rows(
    vectors: np.ndarray,
    entrants: SideColumns,
    scan: Pools,
    old: ExactPools,
    dirty_at: np.ndarray,
    dirty: np.ndarray,
    p: int,
    eps: float,
) -> tuple[ExactPools, np.ndarray, np.ndarray]:
    """:func:`_merge_entrants` for some rows at once (``vectors``: the query rows, ``scan``,
    ``old`` and ``dirty_at`` (old entry is dirty) aligned with them): each row's clean old
    entries and its entrants as one array sorted by (-cosine, id), then the known prefix of
    each. Returns the rows' merged pools (a lost row's old pool as it was), moved, lost."""
    n, width = old.ids.shape
    merged = old.take(np.arange(n))
    vals, pos, allowed = scan.vals, scan.pos, scan.allowed
    w = vals.shape[1]
    o_ids, o_cos, complete = old.ids, old.cos, old.complete
    clean = (np.arange(width)[None, :] < old.size[:, None]) & ~dirty_at
    n_clean = clean.sum(axis=1)
    has_clean = n_clean > 0
    last = width - 1 - np.argmax(clean[:, ::-1], axis=1)  # the last clean entry
    l_cos = np.where(has_clean, o_cos[np.arange(n), last], -np.inf)
    l_id = np.where(has_clean, o_ids[np.arange(n), last], -1)
    # entrants that can rank before the last clean entry (all, when the old row was complete)
    cut = np.where(complete, -np.inf, l_cos - 2 * eps)
    fin = np.isfinite(vals) & (vals.astype(np.float64) >= cut[:, None])
    e_pos = np.maximum(pos, 0)
    e_cos = np.full(vals.shape, -np.inf)
    some = np.flatnonzero(fin.any(axis=1))
    if len(some):
        e_cos[some] = row_cosines(vectors[some], entrants.vectors, e_pos[some], fin[some])
    big = np.iinfo(np.int64).max
    e_ids = entrants.ids[e_pos] if len(entrants) else np.full(vals.shape, big)
    u_ids = np.concatenate([np.where(clean, o_ids, big), np.where(fin, e_ids, big)], axis=1)
    u_cos = np.concatenate([np.where(clean, o_cos, -np.inf), e_cos], axis=1)
    order = np.lexsort((u_ids, -u_cos), axis=1)
    u_ids, u_cos = (
        np.take_along_axis(u_ids, order, axis=1),
        np.take_along_axis(u_cos, order, axis=1),
    )
    count = n_clean + fin.sum(axis=1)
    # the known prefix: what ranks before every target not looked at
    certain = np.arange(u_ids.shape[1])[None, :] < count[:, None]
    # clean targets not kept rank after the last kept one
    certain &= (
        complete[:, None]
        | (u_cos > l_cos[:, None])
        | ((u_cos == l_cos[:, None]) & (u_ids <= l_id[:, None]))
    )
    # entrants past the window: float32 ≤ its lowest, so true ≤ that + eps
    window_full = allowed > w
    low = vals.min(axis=1).astype(np.float64) + eps
    certain &= ~window_full[:, None] | (u_cos > low[:, None])
    known = np.where(certain.all(axis=1), certain.shape[1], np.argmin(certain, axis=1))
    now_complete = complete & ~window_full & (known == count)
    lost = (~complete & ~has_clean) | ((known < p) & ~now_complete)
    ok = ~lost
    keep = np.minimum(known, width)
    live = np.arange(width)[None, :] < keep[:, None]
    new_ids = np.where(live, u_ids[:, :width], -1)
    new_cos = np.where(live, u_cos[:, :width], -np.inf)
    merged.ids[ok], merged.cos[ok] = new_ids[ok], new_cos[ok]
    merged.size[ok] = keep[ok]
    merged.complete[ok] = (now_complete & (known <= width))[ok]
    first = np.arange(min(p, width))[None, :]
    old_first = np.where(first < np.minimum(old.size, p)[:, None], o_ids[:, : first.shape[1]], -1)
    new_first = np.where(first < np.minimum(keep, p)[:, None], new_ids[:, : first.shape[1]], -1)
    entered = (np.isin(new_first, dirty) & (new_first >= 0)).any(axis=1)
    moved = ((old_first != new_first).any(axis=1) | entered) & ok
    return merged, moved, lost


def rematch_incremental(
    vacs: SideColumns,
    cands: SideColumns,
    top_k: int,
    previous: RematchState,
    changed_vacancy_ids: Iterable[int],
    changed_candidate_ids: Iterable[int],
    removed_vacancy_ids: Iterable[int] = (),
    removed_candidate_ids: Iterable[int] = (),
    executor: Executor | None = None,
) -> RematchResult:
    """:func:`rematch_full`'s result for the sides as they are now, from the previous run's
    state and what changed since.

    ``changed_*``: rows whose vector or facts (text, filters, status) changed; rows not in the
    previous run count as changed, rows of the previous run absent now as removed. Then:

    - a changed row's own pool is searched in full;
    - an unchanged row whose old pool held a changed or removed row is searched in full;
    - every other row gets the changed rows merged into its old pool (one product of all rows ×
      the changed rows), and only a row whose pool changed is re-ranked.

    A pair's score depends only on the pair, so the result equals a full run's.
    """
    if previous.top_k != top_k:
        raise ValueError("top_k differs from the previous run's: run in full")
    shared_calibration(vacs, cands)  # refused before any work
    executor = executor or LocalExecutor()
    try:
        return _incremental(
            vacs, cands, top_k, previous, changed_vacancy_ids, changed_candidate_ids,
            removed_vacancy_ids, removed_candidate_ids, executor,
        )  # fmt: skip
    finally:
        executor.release()


def _incremental(
    vacs: SideColumns,
    cands: SideColumns,
    top_k: int,
    previous: RematchState,
    changed_vacancy_ids: Iterable[int],
    changed_candidate_ids: Iterable[int],
    removed_vacancy_ids: Iterable[int],
    removed_candidate_ids: Iterable[int],
    executor: Executor,
) -> RematchResult:
    clock: dict[str, float] = {}
    p = pool_size(top_k)
    w = window(p)
    ch_v = np.fromiter(changed_vacancy_ids, dtype=np.int64)
    ch_c = np.fromiter(changed_candidate_ids, dtype=np.int64)
    gone_v = np.concatenate([
        np.fromiter(removed_vacancy_ids, dtype=np.int64),
        previous.vacancy_ids[_positions(previous.vacancy_ids, vacs.ids) < 0], ch_v,
    ])  # fmt: skip
    gone_c = np.concatenate([
        np.fromiter(removed_candidate_ids, dtype=np.int64),
        previous.candidate_ids[_positions(previous.candidate_ids, cands.ids) < 0], ch_c,
    ])  # fmt: skip
    old_v = _positions(vacs.ids, previous.vacancy_ids)
    old_c = _positions(cands.ids, previous.candidate_ids)
    new_v = np.flatnonzero((old_v < 0) | np.isin(vacs.ids, ch_v))
    new_c = np.flatnonzero((old_c < 0) | np.isin(cands.ids, ch_c))
    same_v = np.setdiff1d(np.arange(len(vacs)), new_v)
    same_c = np.setdiff1d(np.arange(len(cands)), new_c)
    vac_new, cand_new = vacs.take(new_v), cands.take(new_c)

    # the products: all vacancies × changed candidates, changed vacancies × all candidates
    entrants_v, full_c = _scan(executor, vacs, cand_new, w, clock)
    full_v, entrants_c = _scan(executor, vac_new, cands, w, clock)

    t = time.perf_counter()
    mv, moved_v, lost_v = _merge_entrants(
        vacs, cand_new, entrants_v, same_v, previous.vacancy_pools.take(old_v[same_v]), gone_c, p
    )
    mc, moved_c, lost_c = _merge_entrants(
        cands, vac_new, entrants_c, same_c, previous.candidate_pools.take(old_c[same_c]), gone_v, p
    )
    clock["merge"] = time.perf_counter() - t
    redo_v, redo_c = same_v[lost_v], same_c[lost_c]
    vac_redo, cand_redo = vacs.take(redo_v), cands.take(redo_c)
    again_v, _ = _scan(executor, vac_redo, cands, w, clock, cols=False)
    _, again_c = _scan(executor, vacs, cand_redo, w, clock, rows=False)

    vex, cex = ExactPools.empty(len(vacs), depth(p)), ExactPools.empty(len(cands), depth(p))
    vtop, ctop = TopK.empty(len(vacs), top_k), TopK.empty(len(cands), top_k)
    counts: dict[str, int] = {
        "vacancies": len(vacs),
        "candidates": len(cands),
        "changed_vacancies": len(new_v),
        "changed_candidates": len(new_c),
        "recomputed_vacancies": len(redo_v),
        "recomputed_candidates": len(redo_c),
    }
    sides = (
        (vacs, cands, new_v, same_v, old_v, mv, moved_v, lost_v, full_v, again_v, vex, vtop,
         previous.for_vacancy),
        (cands, vacs, new_c, same_c, old_c, mc, moved_c, lost_c, full_c, again_c, cex, ctop,
         previous.for_candidate),
    )  # fmt: skip
    for queries, targets, new, same, old, merged, moved, lost, full, again, ex, tk, pt in sides:
        ok = ~lost
        ex.assign(same[ok], merged.take(np.flatnonzero(ok)))
        kept = same[ok & ~moved]  # re-rank pool as before: top-k as before
        tk.ids[kept], tk.scores[kept], tk.parts[kept] = (
            pt.ids[old[kept]],
            pt.scores[old[kept]],
            pt.parts[old[kept]],
        )
        redo = same[lost]
        _rank(executor, queries, targets, new, partial(_sub, full), p, top_k,
              (ex, tk), clock, counts)  # fmt: skip
        _rank(executor, queries, targets, redo, partial(_sub, again), p, top_k,
              (ex, tk), clock, counts)  # fmt: skip
        idx = np.flatnonzero(ok & moved)
        _rank(executor, queries, targets, same[idx], partial(_take_at, merged, idx), p,
              top_k, (ex, tk), clock, counts)  # fmt: skip
        counts["reranked"] = counts.get("reranked", 0) + len(new) + len(redo) + len(idx)
    state = RematchState(top_k, vacs.ids.copy(), cands.ids.copy(), vex, cex, vtop, ctop)
    return RematchResult(vtop, ctop, state, counts, clock)
