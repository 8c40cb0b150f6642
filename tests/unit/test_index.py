"""VectorIndex: upsert, remove, exact and filtered search."""

from __future__ import annotations

import numpy as np
import pytest

from matching.index import VectorIndex


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_search_is_exact_and_best_first() -> None:
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 200, 16)
    ids = np.arange(1000, 1200)
    index = VectorIndex(16)
    index.upsert(ids, vecs)
    q = vecs[17]
    hits = index.search(q, 10)
    expected = ids[np.argsort(-(vecs @ q))[:10]]
    assert [i for i, _ in hits] == expected.tolist()
    assert hits[0] == (1017, pytest.approx(1.0, abs=1e-5))


def test_filtered_search_returns_k_allowed_ids() -> None:
    rng = np.random.default_rng(2)
    vecs = _unit(rng, 500, 8)
    index = VectorIndex(8)
    index.upsert(range(500), vecs)
    allowed = np.arange(0, 500, 7, dtype=np.int64)  # 72 ids, mostly far from the query
    hits = index.search(vecs[1], 50, allowed)
    assert len(hits) == 50
    assert {i for i, _ in hits} <= set(allowed.tolist())
    exact = allowed[np.argsort(-(vecs[allowed] @ vecs[1]))[:50]]
    assert [i for i, _ in hits] == exact.tolist()
    assert index.search(vecs[1], 5, np.array([], dtype=np.int64)) == []


def test_upsert_replaces_and_remove_forgets() -> None:
    index = VectorIndex(4)
    eye = np.eye(4, dtype=np.float32)
    index.upsert([1, 2], eye[:2])
    index.upsert([1], eye[3:4])
    assert len(index) == 2
    assert index.search(eye[3], 1) == [(1, pytest.approx(1.0))]
    assert index.remove([1, 99]) == 1
    assert 1 not in index and len(index) == 1
    assert all(i != 1 for i, _ in index.search(eye[3], 5))
    assert index.reconstruct(1) is None


def test_bad_upserts_raise() -> None:
    index = VectorIndex(4)
    with pytest.raises(ValueError, match="ids for"):
        index.upsert([1, 2], np.eye(4, dtype=np.float32)[:1])
    with pytest.raises(ValueError, match="duplicate"):
        index.upsert([1, 1], np.eye(4, dtype=np.float32)[:2])
    assert len(index) == 0


def test_round_trip_through_bytes_keeps_ids_and_vectors() -> None:
    import gc

    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(5, 16)).astype("f4")
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    original = VectorIndex(16)
    original.upsert([10, 20, 30, 40, 50], vecs)
    copy = VectorIndex.from_bytes(original.to_bytes(), 16)
    gc.collect()  # the copy must own its FAISS object
    assert copy.ids() == {10, 20, 30, 40, 50}
    assert copy.search(vecs[2], 1)[0][0] == 30
    copy.upsert([60], vecs[:1])  # still writable
    assert copy.search(vecs[0], 2)[0][0] in (10, 60) and len(copy) == 6
    with pytest.raises(ValueError, match="dimension"):
        VectorIndex.from_bytes(original.to_bytes(), 8)
