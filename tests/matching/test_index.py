"""VectorIndex: upsert, remove, exact and filtered search."""

from __future__ import annotations

import numpy as np
import pytest

from matching.index import IndexSpec, VectorIndex


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


# ---------------------------------------------------------------- approximate (IVF) layout


def _clustered(rng: np.random.Generator, n: int, dim: int, centres: np.ndarray) -> np.ndarray:
    """Unit vectors around random centres: structured like real embeddings, unlike uniform noise."""
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, dim)) / np.sqrt(
        dim
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def ivf_case() -> tuple[VectorIndex, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    dim = 32
    centres = _unit(rng, 200, dim)
    vecs = _clustered(rng, 20_000, dim, centres)
    ids = np.arange(1, 20_001, dtype=np.int64)
    queries = _clustered(rng, 100, dim, centres)
    index = VectorIndex.build(dim, ids, vecs, IndexSpec(kind="ivf", nlist=128, nprobe=16))
    return index, ids, vecs, queries


def _exact(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int, keep=None) -> list[int]:
    scores = vecs @ q
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    return ids[np.argsort(-scores)[:k]].tolist()


def test_spec_picks_the_layout_by_size() -> None:
    spec = IndexSpec(ivf_threshold=1000)
    assert spec.resolve(999)[0] == "flat"
    kind, nlist, nprobe = spec.resolve(1_000_000)
    assert (kind, nlist, nprobe) == ("ivf", 4096, 64)
    assert IndexSpec(kind="ivf", nlist=100, nprobe=500).resolve(10) == ("ivf", 100, 100)


def test_ivf_recall_at_20_against_exact(ivf_case) -> None:
    index, ids, vecs, queries = ivf_case
    assert index.kind == "ivf" and index.nlist == 128
    recall = np.mean(
        [
            len({i for i, _ in index.search(q, 20)} & set(_exact(ids, vecs, q, 20))) / 20
            for q in queries
        ]
    )
    assert recall >= 0.95


@pytest.mark.parametrize("share", [0.3, 0.02, 0.001])
def test_ivf_filtered_search_honours_the_filter_and_fills_k(ivf_case, share: float) -> None:
    index, ids, vecs, queries = ivf_case
    rng = np.random.default_rng(int(share * 1000))
    keep = rng.random(len(ids)) < share
    mask = np.zeros(int(ids.max()) + 1, dtype=bool)
    mask[ids[keep]] = True
    found, hits_total = 0, 0
    for q in queries[:30]:
        hits = index.search(q, 20, mask)
        assert all(mask[i] for i, _ in hits)
        assert len(hits) == min(20, int(keep.sum()))
        hits_total += len(hits)
        found += len({i for i, _ in hits} & set(_exact(ids, vecs, q, 20, keep)))
    # the scan widens as the filter narrows, so recall does not collapse for selective filters
    assert found / hits_total >= 0.9
    as_ids = index.search(queries[0], 20, ids[keep])
    assert as_ids == index.search(queries[0], 20, mask)


def test_ivf_never_returns_removed_ids_and_takes_upserts() -> None:
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 2000, 16)
    index = VectorIndex.build(16, np.arange(2000), vecs, IndexSpec(kind="ivf", nlist=16))
    q = vecs[5]
    assert index.search(q, 1)[0][0] == 5
    assert index.remove([5, 6, 7]) == 3
    assert all(i not in (5, 6, 7) for i, _ in index.search(q, 50))
    assert index.reconstruct(5) is None
    index.upsert([5000], q[None, :])
    assert index.search(q, 1)[0] == (5000, pytest.approx(1.0, abs=0.02))
    assert index.reconstruct(5000) == pytest.approx(q, abs=0.02)
    assert len(index) == 1998


def test_ivf_with_too_few_vectors_uses_fewer_lists() -> None:
    rng = np.random.default_rng(4)
    index = VectorIndex.build(8, np.arange(100), _unit(rng, 100, 8), IndexSpec(kind="ivf"))
    assert index.kind == "ivf" and index.nlist == 2  # derived nlist: >= 39 points per list
    explicit = IndexSpec(kind="ivf", nlist=8)
    assert VectorIndex.build(8, np.arange(100), _unit(rng, 100, 8), explicit).nlist == 8
    empty = VectorIndex.build(8, np.arange(0), np.zeros((0, 8)), IndexSpec(kind="ivf"))
    assert empty.kind == "flat" and len(empty) == 0


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


def test_ivf_round_trip_through_bytes_keeps_layout_ids_and_answers() -> None:
    rng = np.random.default_rng(8)
    vecs = _unit(rng, 3000, 16)
    original = VectorIndex.build(
        16, np.arange(3000), vecs, IndexSpec(kind="ivf", nlist=16, nprobe=4)
    )
    original.remove([0, 1])
    copy = VectorIndex.from_bytes(original.to_bytes(), 16)
    assert (copy.kind, copy.nlist, copy.nprobe) == ("ivf", 16, 4)
    assert copy.ids() == original.ids() and 0 not in copy
    assert copy.search(vecs[7], 5) == original.search(vecs[7], 5)
    assert copy.remove([7]) == 1 and all(i != 7 for i, _ in copy.search(vecs[7], 20))
