"""The exact path of VectorIndex equals brute force over the stored vectors
(tests/oracle/index_oracle.py) on random data and random filters, for both layouts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from matching.columns import FilterColumns
from matching.index import IndexSpec, VectorIndex
from matching.ranking import MatchFilters
from tests.matching.test_columns import _candidate, _filters, _side, _vacancy
from tests.oracle.index_oracle import exact_search


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _same(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    """Same ids in the same order, scores within 1e-6 (a near-tie may swap two rows whose
    scores differ by less than that)."""
    assert len(got) == len(want)
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6)
    for (gi, gs), (wi, ws) in zip(got, want, strict=True):
        assert gi == wi or abs(gs - ws) < 1e-6


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("seed", range(3))
def test_exact_plan_equals_brute_force_on_random_filters(kind: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    n, dim = 6000, 48
    ids = np.arange(1, n + 1, dtype=np.int64)
    vecs = _unit(rng, n, dim)
    index = VectorIndex.build(dim, ids, vecs, IndexSpec(kind=kind, nlist=32, nprobe=4))
    # churn: removals and replacements move rows between lists and FAISS rows
    index.remove(ids[::11].tolist())
    index.upsert(ids[5::13], _unit(rng, len(ids[5::13]), dim))
    cols = FilterColumns()
    cols.set_candidates([_candidate(r, int(i)) for i in ids])
    for _ in range(25):
        q = _unit(rng, 1, dim)[0]
        filters = _filters(r)
        if r.random() < 0.5:
            filters = MatchFilters(**{**filters.__dict__, "max_distance_km": r.uniform(5, 80)})
        allowed = cols.candidate_allowed(_side(r), _vacancy(r, 1), filters)
        k = r.choice((1, 20, 100))
        _same(index.search(q, k, allowed, plan="exact"), exact_search(index, q, k, allowed))
        mask = cols.candidate_mask(_side(r), None, filters)
        _same(index.search(q, k, mask, plan="exact"), exact_search(index, q, k, mask))


def test_exact_plan_equals_brute_force_after_a_round_trip() -> None:
    rng = np.random.default_rng(9)
    ids = np.arange(0, 9000, 3, dtype=np.int64)
    index = VectorIndex.build(32, ids, _unit(rng, len(ids), 32), IndexSpec(kind="ivf", nlist=16))
    copy = VectorIndex.from_bytes(index.to_bytes(), 32)
    for q in _unit(rng, 10, 32):
        allowed = ids[rng.random(len(ids)) < 0.05]
        _same(copy.search(q, 20, allowed, plan="exact"), exact_search(index, q, 20, allowed))
