"""The index's ``post`` plan (filters as a :class:`matching.index.RowTest`): where the filters let
most rows through, the unfiltered search's allowed ids are the answer, equal to the scan with an
id selector over every allowed id; where they do not, the full filter pass runs as before."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from matching.columns import FilterColumns
from matching.index import IndexSpec, RowTest, VectorIndex
from matching.ranking import MatchFilters
from tests.matching.test_columns import _candidate, _filters, _side, _vacancy
from tests.matching.test_index_oracle import _same, _unit
from tests.oracle.index_oracle import exact_search


class _Counted:
    """A RowTest whose full pass is counted: zero calls means the post plan answered."""

    def __init__(self, rows: RowTest) -> None:
        self.full_passes = 0
        self._rows = rows

    def allowed(self) -> np.ndarray:
        self.full_passes += 1
        return self._rows.allowed()

    def test(self) -> RowTest:
        return RowTest(self._rows.test, self.allowed)


def _index(kind: str, seed: int) -> tuple[VectorIndex, np.ndarray, FilterColumns, random.Random]:
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    n, dim = 5000, 32
    ids = np.arange(1, n + 1, dtype=np.int64)
    # nprobe = nlist: the IVF scan visits every list however the filters widen it, so the
    # post plan and the scan see the same vectors
    index = VectorIndex.build(
        dim, ids, _unit(rng, n, dim), IndexSpec(kind=kind, nlist=16, nprobe=16)
    )
    index.remove(ids[::17].tolist())
    index.upsert(ids[3::19], _unit(rng, len(ids[3::19]), dim))
    cols = FilterColumns()
    cols.set_candidates([_candidate(r, int(i)) for i in ids])
    return index, ids, cols, r


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("seed", range(3))
def test_post_plan_equals_the_scan_and_brute_force_on_random_filters(kind: str, seed: int) -> None:
    index, _, cols, r = _index(kind, seed)
    rng = np.random.default_rng(100 + seed)
    answered_post = 0
    for i in range(40):
        q = _unit(rng, 1, index.dim)[0]
        # a third of the queries with the defaults only (most rows pass): the post plan's case
        filters = MatchFilters() if i % 3 == 0 else _filters(r)
        side, vacancy = _side(r), _vacancy(r, 1)
        counted = _Counted(cols.candidate_test(side, vacancy, filters))
        allowed = cols.candidate_allowed(side, vacancy, filters)
        k = r.choice((1, 20, 100))
        got = index.search(q, k, counted.test())
        _same(got, index.search(q, k, allowed, plan="scan"))
        _same(got, exact_search(index, q, k, allowed))
        answered_post += counted.full_passes == 0
    assert answered_post >= 10  # the defaults' queries at least


def test_selective_filters_fall_back_to_the_full_pass() -> None:
    index, ids, cols, r = _index("flat", 7)
    only = frozenset(int(i) for i in ids[:40:2])
    filters = MatchFilters(only_candidates=only)
    side, vacancy = _side(r), _vacancy(r, 1)
    counted = _Counted(cols.candidate_test(side, vacancy, filters))
    q = _unit(np.random.default_rng(7), 1, index.dim)[0]
    got = index.search(q, 20, counted.test())
    assert counted.full_passes == 1
    assert got and {i for i, _ in got} <= only
    _same(got, exact_search(index, q, 20, cols.candidate_allowed(side, vacancy, filters)))


def test_too_few_fetched_rows_passing_falls_back_and_stays_complete() -> None:
    """A filter whose sample share overstates the rows near the query: fewer than k of the
    fetched rows pass, and the full pass still finds k."""
    index = _index("flat", 3)[0]
    q = _unit(np.random.default_rng(3), 1, index.dim)[0]
    nearest = [i for i, _ in index.search(q, 600)]
    blocked = set(nearest)

    def test(rows: np.ndarray) -> np.ndarray:
        return np.array([int(x) not in blocked for x in rows], dtype=bool)

    def allowed() -> np.ndarray:
        stored = np.array(sorted(index.ids()), dtype=np.int64)
        return stored[test(stored)]

    counted = _Counted(RowTest(test, allowed))
    got = index.search(q, 20, counted.test())
    assert counted.full_passes == 1
    assert len(got) == 20 and not blocked & {i for i, _ in got}
    _same(got, exact_search(index, q, 20, allowed()))


def test_post_plan_on_an_empty_index_and_with_k_zero() -> None:
    empty = np.zeros(0, dtype=np.int64)
    index = VectorIndex.build(8, empty, np.zeros((0, 8), np.float32), IndexSpec(kind="flat"))
    rows = RowTest(lambda r: np.ones(len(r), dtype=bool), lambda: empty)
    q = np.ones(8, dtype=np.float32) / np.sqrt(8)
    assert index.search(q, 5, rows) == []
    full = _index("flat", 1)[0]
    assert full.search(q[:1].repeat(full.dim) / np.sqrt(full.dim), 0, rows) == []


def test_vacancy_test_equals_vacancy_allowed() -> None:
    r = random.Random(5)
    cols = FilterColumns()
    cols.set_vacancies([_vacancy(r, i) for i in range(1, 800)])
    for _ in range(20):
        side = _side(r)
        filters = replace(_filters(r), include_closed=r.random() < 0.5)
        rows = cols.vacancy_test(side, None, filters)
        ids = np.arange(0, 900, dtype=np.int64)  # beyond the columns' range: never allowed
        assert np.array_equal(np.flatnonzero(rows.test(ids)), rows.allowed())
        assert np.array_equal(rows.allowed(), cols.vacancy_allowed(side, None, filters))
