"""The query planner of VectorIndex: exact scoring of few allowed rows vs a filtered scan.

Both paths are forced (``plan=``) on random data and compared with exact search over the stored
vectors; the planner's own choice is checked against its cost model; erased ids never come back.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching import index as index_module
from matching.index import IndexSpec, VectorIndex


def _clustered(rng: np.random.Generator, n: int, dim: int, centres: np.ndarray) -> np.ndarray:
    x = centres[rng.integers(0, len(centres), n)]
    x = x + 0.6 * rng.standard_normal((n, dim)) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def world() -> dict[str, object]:
    """One flat and one IVF index over the same 12,000 clustered vectors (ids 5..12004)."""
    rng = np.random.default_rng(13)
    dim = 32
    centres = _unit(rng, 150, dim)
    vecs = _clustered(rng, 12_000, dim, centres)
    ids = np.arange(5, 12_005, dtype=np.int64)
    return {
        "ids": ids,
        "vecs": vecs,
        "queries": _clustered(rng, 40, dim, centres),
        "flat": VectorIndex.build(dim, ids, vecs, IndexSpec(kind="flat")),
        "ivf": VectorIndex.build(dim, ids, vecs, IndexSpec(kind="ivf", nlist=64, nprobe=8)),
    }


def _stored(index: VectorIndex, ids: np.ndarray) -> np.ndarray:
    """The vectors the index holds (decoded SQ8 codes for IVF), row by row."""
    return np.stack([index.reconstruct(int(i)) for i in ids])


def _mask(ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
    m = np.zeros(int(ids.max()) + 1, dtype=bool)
    m[ids[keep]] = True
    return m


@pytest.mark.parametrize("kind", ["flat", "ivf"])
@pytest.mark.parametrize("share", [0.002, 0.01, 0.05])
def test_exact_path_returns_the_exact_top_k_of_the_stored_vectors(
    world: dict, kind: str, share: float
) -> None:
    index: VectorIndex = world[kind]
    ids, queries = world["ids"], world["queries"]
    rng = np.random.default_rng(int(share * 10_000))
    keep = rng.random(len(ids)) < share
    mask = _mask(ids, keep)
    allowed = ids[keep]
    stored = _stored(index, allowed)
    for q in queries:
        got = index.search(q, 20, mask, plan="exact")
        scores = stored @ q
        order = np.lexsort((allowed, -scores))[:20]
        assert [i for i, _ in got] == allowed[order].tolist()
        assert [s for _, s in got] == pytest.approx(scores[order].tolist(), abs=1e-5)
        # the same answer for the ids themselves and for the mask
        assert index.search(q, 20, allowed, plan="exact") == got


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_both_paths_agree_for_selective_masks(world: dict, kind: str) -> None:
    """A selective mask: the scan widens to every list, so it is exact too and both agree."""
    index: VectorIndex = world[kind]
    ids, queries = world["ids"], world["queries"]
    keep = np.random.default_rng(3).random(len(ids)) < 0.004  # ~48 rows: nprobe widens to all
    mask = _mask(ids, keep)
    for q in queries:
        exact = index.search(q, 20, mask, plan="exact")
        scan = index.search(q, 20, mask, plan="scan")
        assert {i for i, _ in exact} == {i for i, _ in scan}
        assert [s for _, s in exact] == pytest.approx([s for _, s in scan], abs=1e-5)


def test_ivf_scan_path_keeps_recall_for_a_wide_filter(world: dict) -> None:
    index: VectorIndex = world["ivf"]
    ids, vecs, queries = world["ids"], world["vecs"], world["queries"]
    keep = np.random.default_rng(4).random(len(ids)) < 0.3
    mask = _mask(ids, keep)
    found = 0
    for q in queries:
        hits = index.search(q, 20, mask, plan="scan")
        assert len(hits) == 20 and all(mask[i] for i, _ in hits)
        want = ids[keep][np.argsort(-(vecs[keep] @ q))[:20]]
        found += len({i for i, _ in hits} & set(want.tolist()))
    assert found / (20 * len(queries)) >= 0.9


def test_planner_chooses_by_the_number_of_allowed_rows(world: dict) -> None:
    ivf: VectorIndex = world["ivf"]
    flat: VectorIndex = world["flat"]
    total = len(ivf)
    assert ivf.plan(50, total) == "exact"
    assert ivf.plan(total // 2, total) == "scan"
    assert flat.plan(50, total) == "exact"
    assert flat.plan(total - 1, total) == "scan"
    # the crossing point follows the cost constants: exact while allowed·exact ≤ visited·scan
    crossing = next(n for n in range(1, total) if ivf.plan(n, total) == "scan")
    visited = total * ivf._widened_nprobe(crossing, total) / ivf.nlist
    exact, scan = index_module.EXACT_NS_PER_ROW["ivf"], index_module.SCAN_NS_PER_ROW["ivf"]
    assert crossing * exact > visited * scan
    assert (crossing - 1) * exact <= total * ivf._widened_nprobe(
        crossing - 1, total
    ) / ivf.nlist * scan
    # the default (planned) search equals the forced path it picks
    q = world["queries"][0]
    keep = np.zeros(len(world["ids"]), dtype=bool)
    keep[::400] = True
    mask = _mask(world["ids"], keep)
    assert ivf.search(q, 10, mask) == ivf.search(q, 10, mask, plan="exact")


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_erased_ids_never_come_back_from_either_path(kind: str) -> None:
    rng = np.random.default_rng(21)
    vecs = _unit(rng, 3000, 16)
    ids = np.arange(1, 3001, dtype=np.int64)
    spec = IndexSpec(kind=kind, nlist=16, nprobe=4)
    index = VectorIndex.build(16, ids, vecs, spec)
    erased = ids[::7]
    assert index.remove(erased.tolist()) == len(erased)
    everything = np.ones(3001, dtype=bool)
    few = np.zeros(3001, dtype=bool)
    few[erased] = True  # only erased ids allowed ...
    few[[2, 3, 4]] = True  # ... and three live ones
    gone = set(erased.tolist())
    for q in vecs[erased[:10]]:
        for plan in ("exact", "scan"):
            assert not gone & {i for i, _ in index.search(q, 50, everything, plan=plan)}
            assert {i for i, _ in index.search(q, 50, few, plan=plan)} == {2, 3, 4}
            assert {i for i, _ in index.search(q, 50, erased, plan=plan)} == set()
    # replaced rows are scored with their new vector on the exact path
    index.upsert([2], vecs[erased[0]][None, :])
    assert index.search(vecs[erased[0]], 1, few, plan="exact")[0][0] == 2


def test_exact_path_survives_a_round_trip_through_bytes(world: dict) -> None:
    for kind in ("flat", "ivf"):
        index: VectorIndex = world[kind]
        copy = VectorIndex.from_bytes(index.to_bytes(), index.dim)
        keep = np.random.default_rng(5).random(len(world["ids"])) < 0.01
        mask = _mask(world["ids"], keep)
        for q in world["queries"][:5]:
            assert copy.search(q, 20, mask, plan="exact") == index.search(q, 20, mask, plan="exact")


def test_lists_plan_scores_the_allowed_rows_of_the_best_lists(world: dict) -> None:
    """``lists`` scores the allowed rows of the nearest quarter of the lists exactly: every hit
    is allowed, carries its exact score, and the top 20 are nearly always the exact top 20."""
    index: VectorIndex = world["ivf"]
    ids, queries = world["ids"], world["queries"]
    keep = np.random.default_rng(8).random(len(ids)) < 0.3
    mask = _mask(ids, keep)
    found = 0
    for q in queries:
        exact = index.search(q, 100, mask, plan="exact")
        got = index.search(q, 100, mask, plan="lists")
        scores = dict(exact)
        assert len(got) == 100 and all(mask[i] for i, _ in got)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        for i, s in got:
            if i in scores:
                assert s == pytest.approx(scores[i], abs=1e-6)
        found += len({i for i, _ in got[:20]} & {i for i, _ in exact[:20]})
    assert found / (20 * len(queries)) >= 0.95
    # chosen for many allowed rows when scoring them beats the widened scan
    assert index.plan(11_000, 1_000_000) == "lists"
    assert index.plan(1_000, 1_000_000) == "exact"
