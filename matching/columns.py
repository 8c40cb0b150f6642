"""Columnar copies of the facts the hard filters read, for filtering a million rows per query.

:class:`FilterColumns` is the product's one implementation of the hard filters, for the
interactive search and the batch rematch alike (it lives in each :class:`matching.facts.FactStore`).
It holds the filter facts as numpy arrays indexed by database id and evaluates the rules for all
rows at once, returning the ascending ids that pass (``*_allowed``; ``*_mask`` is the same as a
boolean mask over the id range). The per-row statement of the same rules (``candidate_passes``
/ ``vacancy_passes`` in tests/oracle/ranking_oracle.py) is the test oracle they are checked
against.

Distances are compared as squared chords between points on the unit sphere (float32), which is
monotonic in the great-circle distance; the threshold for ``d`` km is ``(2·sin(d / 2R))²``. Away
from a boundary the result equals the reference filters; within about a metre of one, float32
rounding may decide either way.

A query with a distance limit only looks at the rows in nearby grid cells (``CELL_DEG`` degrees
of latitude and longitude, rows grouped by cell): at 1M rows a 25 km limit tests a few per cent
of them instead of all. The grid is rebuilt lazily after bulk loads; rows set since it was built
are tested as well, wherever they now are, until enough of them make a rebuild worthwhile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import partial

import numpy as np

from matching.categories import CLIENT_GROUPS, VACANCY_KINDS
from matching.geo import EARTH_RADIUS_KM
from matching.index import RowTest
from matching.profiles import CandidateFacts, Side, VacancyFacts
from matching.ranking import MatchFilters

_GROUP_CODE: dict[str, int] = {g: i for i, g in enumerate(CLIENT_GROUPS)}
_KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(VACANCY_KINDS)}
_GROW = 1.5
CELL_DEG = 0.1  # grid cell side (about 11 x 7 km in the Netherlands)
_LON_CELLS = round(360 / CELL_DEG)


def unit_xyz(lat: float, lon: float) -> tuple[float, float, float]:
    """A WGS 84 point as a unit vector (x, y, z)."""
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def chord2(km: float) -> float:
    """Squared chord length on the unit sphere for a great-circle distance of ``km``."""
    half = min(km / (2 * EARTH_RADIUS_KM), math.pi / 2)
    return (2 * math.sin(half)) ** 2


def _any_of(column: np.ndarray, codes: list[int]) -> np.ndarray:
    """``np.isin(column, codes)`` for a handful of codes: one comparison per code is about a
    hundred times faster than ``isin`` on a million int8 cells."""
    out = np.zeros(len(column), dtype=bool)
    for code in set(codes):
        out |= column == code
    return out


def as_mask(ids: np.ndarray, size: int) -> np.ndarray:
    """Boolean mask of length ``size`` that is True at ``ids`` (int64, each below ``size``)."""
    out = np.zeros(size, dtype=bool)
    out[ids] = True
    return out


def _cell_keys(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Grid cell of each unit vector (int64; rows without a location get -1)."""
    with np.errstate(invalid="ignore"):
        lat = np.degrees(np.arcsin(np.clip(z, -1, 1)))
        lon = np.degrees(np.arctan2(y, x))
        band = np.floor((lat + 90) / CELL_DEG)
        col = np.floor((lon + 180) / CELL_DEG) % _LON_CELLS
        keys = band * _LON_CELLS + col
    return np.where(np.isnan(keys), -1, keys).astype(np.int64)


class _Grid:
    """Rows grouped by grid cell, with copies of every filter column in that order, so a
    query's nearby cells are contiguous ranges (see the module docstring).

    ``cells`` are the sorted cell keys, ``bounds[j]`` the first position of ``cells[j]`` (plus
    the end), ``order`` the ids by position, ``pos`` each id's position (-1: none) and
    ``stale`` the positions whose row was set or removed since (their copies are out of date)
    and ``moved`` the ids set since, read from the columns themselves.
    """

    def __init__(self, columns: FilterColumns) -> None:
        keys = _cell_keys(columns.x, columns.y, columns.z)
        order = np.flatnonzero(keys >= 0)
        order = order[np.argsort(keys[order], kind="stable")]
        self.cells, first = np.unique(keys[order], return_index=True)
        self.bounds = np.append(first, len(order))
        self.order = order
        self.cols = {name: getattr(columns, name)[order] for name in columns._columns()}
        self.pos = np.full(columns.size, -1, dtype=np.int64)
        self.pos[order] = np.arange(len(order))
        self.stale = np.zeros(len(order), dtype=bool)
        self.moved: set[int] = set()

    def forget(self, ids: np.ndarray) -> None:
        ids = ids[ids < len(self.pos)]
        pos = self.pos[ids]
        self.stale[pos[pos >= 0]] = True


class FilterColumns:
    """The filter facts of one collection (candidates or vacancies) as id-indexed arrays."""

    def __init__(self, capacity: int = 1024) -> None:
        self._slugs: dict[str, int] = {}
        self._alloc(max(capacity, 16), words=1)
        self._grid: _Grid | None = None  # built on first use: see _cells

    # ------------------------------------------------------------ storage

    def _alloc(self, size: int, words: int) -> None:
        self.present = np.zeros(size, dtype=bool)
        # candidates
        self.active = np.zeros(size, dtype=bool)
        self.ladder = np.full(size, -1, dtype=np.int8)
        self.group = np.full(size, -1, dtype=np.int8)
        self.licence = np.zeros(size, dtype=bool)
        self.travel_c2 = np.full(size, np.inf, dtype=np.float32)
        # vacancies
        self.open = np.zeros(size, dtype=bool)
        self.kind = np.full(size, -1, dtype=np.int8)
        self.requires_licence = np.zeros(size, dtype=bool)
        # both
        # location as a unit vector, one array per axis: a query's distances are then three
        # contiguous passes (a (size, 3) array cost ten times as much per query at 1M rows)
        self.x = np.full(size, np.nan, dtype=np.float32)
        self.y = np.full(size, np.nan, dtype=np.float32)
        self.z = np.full(size, np.nan, dtype=np.float32)
        self.focus = np.zeros((size, words), dtype=np.uint64)

    def _columns(self) -> list[str]:
        return [
            "present",
            "active",
            "ladder",
            "group",
            "licence",
            "travel_c2",
            "open",
            "kind",
            "requires_licence",
            "x",
            "y",
            "z",
            "focus",
        ]

    def _ensure(self, max_id: int, words: int) -> None:
        size, have_words = len(self.present), self.focus.shape[1]
        if max_id < size and words <= have_words:
            return
        new_size = max(size, int(max_id * _GROW) + 1) if max_id >= size else size
        old = {name: getattr(self, name) for name in self._columns()}
        self._grid = None  # its copies have the old focus width
        self._alloc(new_size, max(words, have_words))
        for name, arr in old.items():
            if name == "focus":
                self.focus[: len(arr), : arr.shape[1]] = arr
            else:
                getattr(self, name)[: len(arr)] = arr

    def __len__(self) -> int:
        return int(self.present.sum())

    @property
    def size(self) -> int:
        """Length of the id range the masks cover."""
        return len(self.present)

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self._columns())

    def _focus_words(self, slugs: Iterable[str]) -> np.ndarray:
        for slug in slugs:
            self._slugs.setdefault(slug, len(self._slugs))
        words = np.zeros(max(1, math.ceil(len(self._slugs) / 64)), dtype=np.uint64)
        for slug in slugs:
            bit = self._slugs[slug]
            words[bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
        return words

    def _common(self, i: int, side: Side) -> None:
        words = self._focus_words([h.slug for h in side.focus])
        self._ensure(i, len(words))
        self.present[i] = True
        grid = self._grid
        if grid is not None:
            grid.forget(np.array([i]))
            grid.moved.add(i)
            if len(grid.moved) > max(4096, self.size // 64):
                self._grid = None
        self.x[i], self.y[i], self.z[i] = (
            unit_xyz(*side.location) if side.location else (np.nan,) * 3
        )
        self.focus[i] = 0
        self.focus[i, : len(words)] = words

    def set_candidates(self, facts: Sequence[CandidateFacts]) -> None:
        """Insert or replace candidate rows."""
        if not facts:
            return
        self._ensure(max(f.id for f in facts), 1)
        for f in facts:
            i = f.id
            self._common(i, f.side)
            self.active[i] = f.active
            self.ladder[i] = -1 if f.ladder_step is None else f.ladder_step
            self.group[i] = _GROUP_CODE.get(f.client_group or "", -1)
            self.licence[i] = f.driving_licence
            self.travel_c2[i] = np.inf if f.max_travel_km is None else chord2(f.max_travel_km)

    def set_vacancies(self, facts: Sequence[VacancyFacts]) -> None:
        """Insert or replace vacancy rows."""
        if not facts:
            return
        self._ensure(max(f.id for f in facts), 1)
        for f in facts:
            i = f.id
            self._common(i, f.side)
            self.open[i] = f.status == "open"
            self.kind[i] = _KIND_CODE.get(f.kind, -1)
            self.requires_licence[i] = f.requires_driving_licence

    def load_candidate_arrays(
        self,
        ids: np.ndarray,
        *,
        active: np.ndarray,
        ladder: np.ndarray,
        group: np.ndarray,
        licence: np.ndarray,
        max_travel_km: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        focus_slugs: Sequence[str],
        focus: np.ndarray,
    ) -> None:
        """Bulk-load candidate columns from arrays (one entry per id; NaN = unknown).

        ``group`` holds indexes into :data:`CLIENT_GROUPS` (-1 = none), ``ladder`` 1-6 or -1,
        ``focus`` one bit per entry of ``focus_slugs``; used for synthetic national-scale data.
        """
        ids = np.asarray(ids, dtype=np.int64)
        self._grid = None
        self._slugs = {slug: i for i, slug in enumerate(focus_slugs)}
        self._ensure(int(ids.max()), max(1, math.ceil(len(focus_slugs) / 64)))
        self.present[ids] = True
        self.active[ids] = active
        self.ladder[ids] = ladder
        self.group[ids] = group
        self.licence[ids] = licence
        travel = np.asarray(max_travel_km, dtype=np.float64)
        half = np.minimum(travel / (2 * EARTH_RADIUS_KM), math.pi / 2)
        self.travel_c2[ids] = np.where(np.isnan(travel), np.inf, (2 * np.sin(half)) ** 2)
        phi, lam = np.radians(lat), np.radians(lon)
        self.x[ids] = np.cos(phi) * np.cos(lam)
        self.y[ids] = np.cos(phi) * np.sin(lam)
        self.z[ids] = np.sin(phi)
        self.focus[ids, : focus.shape[1] if focus.ndim == 2 else 1] = focus.reshape(len(ids), -1)

    def remove(self, ids: Iterable[int]) -> None:
        idx = np.fromiter((i for i in ids if 0 <= i < self.size), dtype=np.int64)
        self.present[idx] = False
        if self._grid is not None:
            self._grid.forget(idx)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Copies of the columns by name, plus the focus slugs in bit order (``slugs.text``:
        UTF-8 joined by newlines; slugs hold none), for a snapshot."""
        out = {name: getattr(self, name).copy() for name in self._columns()}
        slugs = sorted(self._slugs, key=self._slugs.__getitem__)
        out["slugs.text"] = np.frombuffer("\n".join(slugs).encode(), dtype=np.uint8).copy()
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FilterColumns:
        """Columns from :meth:`to_arrays`; raises ValueError when they do not fit together."""
        out = cls(capacity=0)
        for name in out._columns():
            want = getattr(out, name)
            got = np.asarray(arrays[name])
            if got.dtype != want.dtype or got.ndim != want.ndim:
                raise ValueError(f"filter column {name}: {got.dtype}/{got.ndim}d")
            owned = got.flags.writeable and got.flags.owndata
            setattr(out, name, got if owned else np.array(got))
        text = np.asarray(arrays["slugs.text"]).tobytes().decode()
        out._slugs = {s: i for i, s in enumerate(text.split("\n"))} if text else {}
        size = len(out.present)
        if any(len(getattr(out, name)) != size for name in out._columns()):
            raise ValueError("filter columns of different lengths")
        if len(out._slugs) > out.focus.shape[1] * 64:
            raise ValueError("more focus slugs than focus bits")
        return out

    # ------------------------------------------------------------ vectorised filters

    def _query_bits(self, side: Side) -> np.ndarray:
        bits = np.zeros(self.focus.shape[1], dtype=np.uint64)
        for h in side.focus:
            b = self._slugs.get(h.slug)
            if b is not None and b // 64 < len(bits):
                bits[b // 64] |= np.uint64(1) << np.uint64(b % 64)
        return bits

    def _cells(self) -> _Grid:
        """The grid, built on first use after a bulk load or too many moves."""
        grid = self._grid
        if grid is None:
            grid = _Grid(self)
            self._grid = grid
        return grid

    def _near_ranges(self, grid: _Grid, side: Side, km: float) -> list[tuple[int, int]] | None:
        """Ranges of grid positions holding every row that may lie within ``km`` of ``side``;
        None when the box around it reaches a pole or the date line (then every row is
        tested)."""
        assert side.location is not None
        lat, lon = side.location
        dlat = math.degrees(km / EARTH_RADIUS_KM) + 0.01  # margin: a row's cell is float32
        top = abs(lat) + dlat
        if top >= 89 or km >= 2000:
            return None
        dlon = dlat / math.cos(math.radians(top))
        if lon - dlon < -180 or lon + dlon >= 180:
            return None
        c0 = math.floor((lon - dlon + 180) / CELL_DEG)
        c1 = math.floor((lon + dlon + 180) / CELL_DEG)
        b0, b1 = math.floor((lat - dlat + 90) / CELL_DEG), math.floor((lat + dlat + 90) / CELL_DEG)
        out = []
        for band in range(b0, b1 + 1):
            keys = [band * _LON_CELLS + c0, band * _LON_CELLS + c1 + 1]
            lo, hi = np.searchsorted(grid.cells, keys)
            if hi > lo:
                out.append((int(grid.bounds[lo]), int(grid.bounds[hi])))
        return out

    def _near(
        self, side: Side, km: float | None
    ) -> tuple[np.ndarray | None, np.ndarray | None, Callable[[str], np.ndarray]]:
        """The rows a query has to test (ids, None: all), their squared chords to ``side``
        (None: ``side`` has no location) and a column's values at those rows by name. With a
        distance limit ``km`` only rows within it are returned, read from the grid's copies
        plus the rows set since it was built."""
        whole: Callable[[str], np.ndarray] = lambda name: getattr(self, name)  # noqa: E731
        if side.location is None:
            return None, None, whole
        grid = self._cells() if km is not None else None
        ranges = None if grid is None or km is None else self._near_ranges(grid, side, km)
        qx, qy, qz = (np.float32(v) for v in unit_xyz(*side.location))

        def chords(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
            c2 = x - qx  # NaN where the row has no location
            c2 *= c2
            d = y - qy
            d *= d
            c2 += d
            np.subtract(z, qz, out=d)
            d *= d
            c2 += d
            return c2

        if ranges is None:
            return None, chords(self.x, self.y, self.z), whole
        assert km is not None and grid is not None
        limit = chord2(km)

        def cat(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a[lo:hi] for lo, hi in ranges]) if ranges else a[:0]

        c2 = chords(cat(grid.cols["x"]), cat(grid.cols["y"]), cat(grid.cols["z"]))
        with np.errstate(invalid="ignore"):
            sel = np.flatnonzero((c2 <= limit) & ~cat(grid.stale))
        moved = np.array(sorted(grid.moved), dtype=np.int64)
        c2_moved = chords(self.x[moved], self.y[moved], self.z[moved])
        with np.errstate(invalid="ignore"):
            near = c2_moved <= limit
        moved, c2_moved = moved[near], c2_moved[near]

        # grid positions of the rows within the limit: one gather per column from them
        at = np.concatenate([np.arange(lo, hi) for lo, hi in ranges])[sel] if ranges else sel

        def col(name: str) -> np.ndarray:
            return np.concatenate([grid.cols[name][at], getattr(self, name)[moved]])

        rows = np.concatenate([grid.order[at], moved])
        return rows, np.concatenate([c2[sel], c2_moved]), col

    def _at(self, rows: np.ndarray | None, name: str) -> np.ndarray:
        col: np.ndarray = getattr(self, name)
        return col if rows is None else col[rows]

    def _distance_c2(self, rows: np.ndarray | None, q: QueryRows) -> np.ndarray | None:
        """float32 (b, n) squared chords, NaN where either side has no location; None when no
        query has one (nothing to compute)."""
        if np.isnan(q.x).all():
            return None
        c2: np.ndarray = self._at(rows, "x")[None, :] - q.x[:, None]
        c2 *= c2
        d = self._at(rows, "y")[None, :] - q.y[:, None]
        d *= d
        c2 += d
        np.subtract(self._at(rows, "z")[None, :], q.z[:, None], out=d)
        d *= d
        c2 += d
        return c2

    def _common_mask(
        self,
        m: np.ndarray,
        col: Callable[[str], np.ndarray],
        q: QueryRows,
        c2: np.ndarray | None,
        filters: MatchFilters,
    ) -> None:
        if filters.max_distance_km is not None:
            if c2 is None:
                m[:] = False
                return
            with np.errstate(invalid="ignore"):
                m &= c2 <= np.float32(chord2(filters.max_distance_km))
        if filters.focus_only:
            focus = col("focus")
            words = focus.shape[1]
            for qi in range(len(q.x)):
                if q.has_focus[qi]:
                    qbits = np.zeros(words, dtype=np.uint64)
                    n = min(words, q.focus.shape[1])
                    qbits[:n] = q.focus[qi, :n]
                    m[qi] &= (focus & qbits).any(axis=1)
                else:
                    m[qi] &= focus.any(axis=1)

    def _candidate_base(
        self, rows: np.ndarray | None, col: Callable[[str], np.ndarray], filters: MatchFilters
    ) -> np.ndarray:
        """bool (n,): the candidate rows' own part of the hard filters (any query)."""
        base: np.ndarray = col("present") & col("active")
        if filters.only_candidates is not None:
            only = np.zeros(self.size, dtype=bool)
            ids = np.fromiter(filters.only_candidates, dtype=np.int64)
            only[ids[ids < len(only)]] = True
            base &= only if rows is None else only[rows]
        if filters.ladder_step_min is not None:
            base &= col("ladder") >= filters.ladder_step_min
        if filters.client_groups:
            base &= _any_of(
                col("group"),
                [_GROUP_CODE[g] for g in filters.client_groups if g in _GROUP_CODE],
            )
        return base

    def _vacancy_base(
        self, rows: np.ndarray | None, col: Callable[[str], np.ndarray], filters: MatchFilters
    ) -> np.ndarray:
        """bool (n,): the vacancy rows' own part of the hard filters (any query)."""
        base: np.ndarray = col("present")
        base = base.copy() if rows is None else base
        if not filters.include_closed:
            base &= col("open")
        if filters.kinds:
            base &= _any_of(col("kind"), [_KIND_CODE[k] for k in filters.kinds if k in _KIND_CODE])
        return base

    def candidate_rows(
        self,
        rows: np.ndarray | None,
        q: QueryRows,
        filters: MatchFilters,
        c2: np.ndarray | None = None,
        col: Callable[[str], np.ndarray] | None = None,
    ) -> np.ndarray:
        """bool (b, n): row ``rows[j]`` (all ids when None) passes query ``i``'s hard filters
        for candidates. ``c2``: the pairs' squared chords when the caller has them; ``col``: a
        column's values at ``rows`` by name when the caller has them gathered (the grid's
        copies)."""
        if col is None:
            col = partial(self._at, rows)
        base = self._candidate_base(rows, col, filters)
        m = np.empty((len(q.x), len(base)), dtype=bool)
        m[:] = base
        if q.requires_licence.any():
            m[q.requires_licence] &= col("licence")
        c2 = self._distance_c2(rows, q) if c2 is None else c2
        if c2 is not None:
            with np.errstate(invalid="ignore"):
                m &= ~(c2 > col("travel_c2"))  # unknown distance or no limit: passes
        self._common_mask(m, col, q, c2, filters)
        return m

    def vacancy_rows(
        self,
        rows: np.ndarray | None,
        q: QueryRows,
        filters: MatchFilters,
        c2: np.ndarray | None = None,
        col: Callable[[str], np.ndarray] | None = None,
    ) -> np.ndarray:
        """bool (b, n): row ``rows[j]`` (all ids when None) passes query ``i``'s hard filters
        for vacancies. ``c2``: the pairs' squared chords when the caller has them; ``col``: a
        column's values at ``rows`` by name when the caller has them gathered (the grid's
        copies)."""
        if col is None:
            col = partial(self._at, rows)
        base = self._vacancy_base(rows, col, filters)
        m = np.empty((len(q.x), len(base)), dtype=bool)
        m[:] = base
        if not q.has_licence.all():
            m[~q.has_licence] &= ~col("requires_licence")
        c2 = self._distance_c2(rows, q) if c2 is None else c2
        if c2 is not None and np.isfinite(q.travel_c2).any():
            with np.errstate(invalid="ignore"):
                m &= ~(c2 > q.travel_c2[:, None])  # unknown distance or no limit: passes
        self._common_mask(m, col, q, c2, filters)
        return m

    @staticmethod
    def _ids(m: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        return np.flatnonzero(m) if rows is None else np.sort(rows[m])

    def candidate_allowed(
        self, query: Side, vacancy: VacancyFacts | None, filters: MatchFilters
    ) -> np.ndarray:
        """Ascending ids (int64) of the candidates that pass the hard filters of ``query``."""
        rows, c2, col = self._near(query, filters.max_distance_km)
        q = QueryRows.of_side(self, query, vacancy=vacancy)
        m = self.candidate_rows(rows, q, filters, None if c2 is None else c2[None, :], col)[0]
        return self._ids(m, rows)

    def vacancy_allowed(
        self, query: Side, cand: CandidateFacts | None, filters: MatchFilters
    ) -> np.ndarray:
        """Ascending ids (int64) of the vacancies that pass the hard filters of ``query``."""
        rows, c2, col = self._near(query, filters.max_distance_km)
        q = QueryRows.of_side(self, query, candidate=cand)
        m = self.vacancy_rows(rows, q, filters, None if c2 is None else c2[None, :], col)[0]
        return self._ids(m, rows)

    def candidate_test(
        self, query: Side, vacancy: VacancyFacts | None, filters: MatchFilters
    ) -> RowTest:
        """:meth:`candidate_allowed` as a test of given rows (for the index's ``post`` plan),
        with the full pass on demand."""
        q = QueryRows.of_side(self, query, vacancy=vacancy)
        return self._row_test(
            lambda rows: self.candidate_rows(rows, q, filters)[0],
            lambda: self.candidate_allowed(query, vacancy, filters),
        )

    def vacancy_test(
        self, query: Side, cand: CandidateFacts | None, filters: MatchFilters
    ) -> RowTest:
        """:meth:`vacancy_allowed` as a test of given rows (for the index's ``post`` plan),
        with the full pass on demand."""
        q = QueryRows.of_side(self, query, candidate=cand)
        return self._row_test(
            lambda rows: self.vacancy_rows(rows, q, filters)[0],
            lambda: self.vacancy_allowed(query, cand, filters),
        )

    def _row_test(
        self, passes: Callable[[np.ndarray], np.ndarray], allowed: Callable[[], np.ndarray]
    ) -> RowTest:
        def test(rows: np.ndarray) -> np.ndarray:
            inside = rows < self.size  # ids past the columns' range have no facts: not allowed
            out = np.zeros(len(rows), dtype=bool)
            out[inside] = passes(rows[inside])
            return out

        return RowTest(test, allowed)

    def candidate_mask(
        self, query: Side, vacancy: VacancyFacts | None, filters: MatchFilters
    ) -> np.ndarray:
        """:meth:`candidate_allowed` as a boolean mask over the id range."""
        return as_mask(self.candidate_allowed(query, vacancy, filters), self.size)

    def vacancy_mask(
        self, query: Side, cand: CandidateFacts | None, filters: MatchFilters
    ) -> np.ndarray:
        """:meth:`vacancy_allowed` as a boolean mask over the id range."""
        return as_mask(self.vacancy_allowed(query, cand, filters), self.size)


@dataclass(frozen=True)
class QueryRows:
    """The facts of ``b`` asking rows that the hard filters read.

    Attributes:
        x, y, z: float32 (b,), the location as a unit vector (NaN: none).
        requires_licence: bool (b,), a vacancy query that requires a driving licence.
        has_licence: bool (b,), False for a candidate query without a driving licence.
        travel_c2: float32 (b,), a candidate query's maximum travel as a squared chord (inf: none).
        has_focus: bool (b,), the query is in some focus occupation.
        focus: uint64 (b, words), those focus occupations in the searched columns' bit order.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    requires_licence: np.ndarray
    has_licence: np.ndarray
    travel_c2: np.ndarray
    has_focus: np.ndarray
    focus: np.ndarray

    @classmethod
    def of_side(
        cls,
        searched: FilterColumns,
        side: Side,
        *,
        vacancy: VacancyFacts | None = None,
        candidate: CandidateFacts | None = None,
    ) -> QueryRows:
        """One query (an interactive search) from its side and facts."""
        xyz = unit_xyz(*side.location) if side.location else (np.nan,) * 3
        x, y, z = (np.array([v], dtype=np.float32) for v in xyz)
        travel = candidate.max_travel_km if candidate is not None else None
        return cls(
            x=x,
            y=y,
            z=z,
            requires_licence=np.array([vacancy is not None and vacancy.requires_driving_licence]),
            has_licence=np.array([candidate is None or candidate.driving_licence]),
            travel_c2=np.array([np.inf if travel is None else chord2(travel)], dtype=np.float32),
            has_focus=np.array([bool(side.focus)]),
            focus=searched._query_bits(side)[None, :],
        )

    @classmethod
    def of_rows(
        cls, searched: FilterColumns, asking: FilterColumns, asking_kind: str, ids: np.ndarray
    ) -> QueryRows:
        """Stored rows ``ids`` of ``asking`` (``"vacancy"`` or ``"candidate"`` columns) as
        queries of ``searched``; the columns hold exactly what :meth:`of_side` reads from the
        facts."""
        ids = np.asarray(ids, dtype=np.int64)
        vacancy = asking_kind == "vacancy"
        qfocus = asking.focus[ids]
        focus = np.zeros((len(ids), searched.focus.shape[1]), dtype=np.uint64)
        one = np.uint64(1)
        for slug, qb in asking._slugs.items():
            sb = searched._slugs.get(slug)
            if sb is None or sb // 64 >= focus.shape[1]:
                continue
            hit = (qfocus[:, qb // 64] >> np.uint64(qb % 64)) & one
            focus[:, sb // 64] |= hit << np.uint64(sb % 64)
        return cls(
            x=asking.x[ids],
            y=asking.y[ids],
            z=asking.z[ids],
            requires_licence=asking.requires_licence[ids] if vacancy else np.zeros(len(ids), bool),
            has_licence=np.ones(len(ids), bool) if vacancy else asking.licence[ids],
            travel_c2=np.full(len(ids), np.inf, np.float32) if vacancy else asking.travel_c2[ids],
            has_focus=qfocus.any(axis=1),
            focus=focus,
        )


def pair_mask(
    searched: FilterColumns,
    searched_kind: str,
    rows: np.ndarray,
    asking: FilterColumns,
    query_ids: np.ndarray,
    filters: MatchFilters,
) -> np.ndarray:
    """bool (len(query_ids), len(rows)): stored row ``rows[j]`` of ``searched`` (``"candidate"``
    or ``"vacancy"`` columns) passes the hard filters of stored row ``query_ids[i]`` of
    ``asking``, exactly as :meth:`FilterColumns.candidate_mask` / ``vacancy_mask`` decide for that
    query's interactive search with ``filters``."""
    asking_kind = "vacancy" if searched_kind == "candidate" else "candidate"
    q = QueryRows.of_rows(searched, asking, asking_kind, query_ids)
    rows = np.asarray(rows, dtype=np.int64)
    if searched_kind == "candidate":
        return searched.candidate_rows(rows, q, filters)
    return searched.vacancy_rows(rows, q, filters)


def pair_masks(
    vacancies: FilterColumns,
    vacancy_ids: np.ndarray,
    candidates: FilterColumns,
    candidate_ids: np.ndarray,
    filters: MatchFilters,
) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of a block at once: bool (v, c), vacancy ``i``'s search passes candidate
    ``j``, and bool (c, v), candidate ``j``'s search passes vacancy ``i`` (each as
    :func:`pair_mask`); the distances are computed once (a squared chord is symmetric, bit for
    bit: the differences only change sign)."""
    v_ids = np.asarray(vacancy_ids, dtype=np.int64)
    c_ids = np.asarray(candidate_ids, dtype=np.int64)
    as_vac = QueryRows.of_rows(candidates, vacancies, "vacancy", v_ids)
    c2 = candidates._distance_c2(c_ids, as_vac)
    for_vac = candidates.candidate_rows(c_ids, as_vac, filters, c2)
    as_cand = QueryRows.of_rows(vacancies, candidates, "candidate", c_ids)
    if c2 is None:
        c2 = vacancies._distance_c2(v_ids, as_cand)
        for_cand = vacancies.vacancy_rows(v_ids, as_cand, filters, c2)
    else:
        for_cand = vacancies.vacancy_rows(v_ids, as_cand, filters, c2.T)
    return for_vac, for_cand


@dataclass(frozen=True)
class BlockRules:
    """The hard filters of a block of vacancies × candidates in both directions at once, for
    filters whose pair rules are symmetric (everything but ``focus_only``): vacancy ``i``'s
    search passes candidate ``j`` iff ``candidate_ok[j]`` and not ``fails(i, j)``; candidate
    ``j``'s search passes vacancy ``i`` iff ``vacancy_ok[i]`` and not ``fails(i, j)``. The pair
    rules (licence, travel limit, distance) read the same columns and the same squared chord
    from both sides, so they are one mask (checked against :func:`pair_masks` in the tests).

    Attributes:
        candidate_ok: bool (c,), the candidates' own rules (status, caseload, ladder, group).
        vacancy_ok: bool (v,), the vacancies' own rules (status, kind).
    """

    candidate_ok: np.ndarray
    vacancy_ok: np.ndarray
    requires_licence: np.ndarray  # bool (v,)
    lacks_licence: np.ndarray  # bool (c,)
    travel_c2: np.ndarray  # float32 (c,), inf: no limit
    as_vacancy: QueryRows  # the vacancies as queries of the candidate columns
    candidates: FilterColumns
    candidate_ids: np.ndarray  # int64 (c,)
    max_c2: np.float32 | None  # the filters' distance limit as a squared chord

    def fails(self, a: int, b: int) -> np.ndarray | None:
        """bool (b - a, c): vacancy ``a + i`` and candidate ``j`` fail the pair rules; None when
        no pair of these rows can (no licence or distance rule applies)."""
        req = self.requires_licence[a:b]
        need_c2 = self.max_c2 is not None or bool(np.isfinite(self.travel_c2).any())
        if not need_c2 and not (req.any() and self.lacks_licence.any()):
            return None
        q = self.as_vacancy
        part = QueryRows(
            *(getattr(q, f.name)[a:b] for f in fields(QueryRows))
        )  # fmt: skip
        c2 = self.candidates._distance_c2(self.candidate_ids, part) if need_c2 else None
        if c2 is None:
            out = np.zeros((b - a, len(self.candidate_ids)), dtype=bool)
            if self.max_c2 is not None:  # no location in these vacancies: no distance passes
                out[:] = True
        else:
            with np.errstate(invalid="ignore"):
                out = c2 > self.travel_c2  # NaN (unknown distance): passes
                if self.max_c2 is not None:
                    out |= ~(c2 <= self.max_c2)
        if req.any():
            out[req] |= self.lacks_licence
        return out


def block_rules(
    vacancies: FilterColumns,
    vacancy_ids: np.ndarray,
    candidates: FilterColumns,
    candidate_ids: np.ndarray,
    filters: MatchFilters,
) -> BlockRules | None:
    """:class:`BlockRules` of a block (the masks of :func:`pair_masks`, factored); None when the
    filters' pair rules are not symmetric (``focus_only``): use :func:`pair_masks`."""
    if filters.focus_only:
        return None
    v_ids = np.asarray(vacancy_ids, dtype=np.int64)
    c_ids = np.asarray(candidate_ids, dtype=np.int64)
    max_km = filters.max_distance_km
    return BlockRules(
        candidate_ok=candidates._candidate_base(c_ids, partial(candidates._at, c_ids), filters),
        vacancy_ok=vacancies._vacancy_base(v_ids, partial(vacancies._at, v_ids), filters),
        requires_licence=vacancies.requires_licence[v_ids],
        lacks_licence=~candidates.licence[c_ids],
        travel_c2=candidates.travel_c2[c_ids],
        as_vacancy=QueryRows.of_rows(candidates, vacancies, "vacancy", v_ids),
        candidates=candidates,
        candidate_ids=c_ids,
        max_c2=None if max_km is None else np.float32(chord2(max_km)),
    )
