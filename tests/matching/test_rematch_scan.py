"""The rematch scan's pieces against brute force: the factored block filters
(:func:`matching.columns.block_rules`) against :func:`matching.columns.pair_masks`, and the
running pools (:meth:`matching.rematch.Pools.offer`, both orientations) and a whole tile
(:func:`matching.rematch.scan_tile`) against a top-w of every allowed pair."""

from __future__ import annotations

import numpy as np
import pytest

import matching.rematch as rematch
from matching.columns import block_rules, pair_masks
from matching.ranking import MatchFilters
from matching.rematch import Pools, Tile, scan_tile
from tests.matching.test_rematch_block import World

FILTERS = [
    MatchFilters(),
    MatchFilters(max_distance_km=40.0),
    MatchFilters(include_closed=True, ladder_step_min=3),
    MatchFilters(only_candidates=frozenset(range(1, 400, 3)), kinds=("regular",)),
    MatchFilters(focus_only=True),  # pair rules differ between the directions: no factoring
]


@pytest.mark.parametrize("filters", FILTERS)
def test_block_rules_equal_the_pair_masks(filters: MatchFilters) -> None:
    """Factored into own rules and one symmetric pair mask, the filters pass exactly the pairs
    each direction's own mask passes (rows without a location, travel limits, licences)."""
    vacs, cands = World(150, 400, seed=21).sides()
    vf, cf = vacs.store.filters, cands.store.filters
    v_ids, c_ids = vacs.ids[7:140], cands.ids[3:390]
    ok_v, ok_c = pair_masks(vf, v_ids, cf, c_ids, filters)
    rules = block_rules(vf, v_ids, cf, c_ids, filters)
    if filters.focus_only:
        assert rules is None
        return
    assert rules is not None
    fails = np.zeros(ok_v.shape, dtype=bool)
    for a in range(0, len(v_ids), 50):  # in pieces, as the scan asks for them
        f = rules.fails(a, min(a + 50, len(v_ids)))
        if f is not None:
            fails[a : a + 50] = f
    assert np.array_equal(ok_v, ~fails & rules.candidate_ok[None, :])
    assert np.array_equal(ok_c, (~fails & rules.vacancy_ok[:, None]).T)


def test_block_rules_without_any_location() -> None:
    """No vacancy has a location: a distance limit fails every pair, travel limits none."""
    vacs, cands = World(40, 120, seed=22).sides()
    vf, cf = vacs.store.filters, cands.store.filters
    vf.x[:], vf.y[:], vf.z[:] = np.nan, np.nan, np.nan
    for filters in (MatchFilters(), MatchFilters(max_distance_km=30.0)):
        ok_v, ok_c = pair_masks(vf, vacs.ids, cf, cands.ids, filters)
        rules = block_rules(vf, vacs.ids, cf, cands.ids, filters)
        assert rules is not None
        f = rules.fails(0, len(vacs.ids))
        fails = np.zeros(ok_v.shape, dtype=bool) if f is None else f
        assert np.array_equal(ok_v, ~fails & rules.candidate_ok[None, :])
        assert np.array_equal(ok_c, (~fails & rules.vacancy_ok[:, None]).T)


def _top_values(sims: np.ndarray, ok: np.ndarray, w: int) -> np.ndarray:
    """Per row: the best ``w`` allowed values, descending, padded with -inf."""
    vals = np.where(ok, sims, -np.inf)
    srt = -np.sort(-vals, axis=1)[:, :w]
    return np.pad(srt, ((0, 0), (0, w - srt.shape[1])), constant_values=-np.inf)


def _check_pools(pools: Pools, sims: np.ndarray, ok: np.ndarray, w: int) -> None:
    """The pools hold a best ``w`` of each row's allowed entries (any among equal values)."""
    got = -np.sort(-pools.vals, axis=1)
    assert np.array_equal(got, _top_values(sims, ok, w))
    live = pools.vals > -np.inf
    r, k = np.nonzero(live)
    assert np.array_equal(sims[r, pools.pos[r, k]], pools.vals[r, k])  # positions match values
    assert ok[r, pools.pos[r, k]].all()
    assert (pools.pos[~live] == -1).all()
    for i in range(len(pools.vals)):  # no target twice
        assert len(set(pools.pos[i][live[i]].tolist())) == int(live[i].sum())
    assert np.array_equal(pools.allowed, ok.sum(axis=1))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("by_column", [False, True])
def test_pools_offer_keeps_a_best_w_of_the_allowed_entries(seed: int, by_column: bool) -> None:
    """Blocks offered one after another (filling pools, full pools, rows that never fill,
    rows with nothing allowed, excluded targets, many equal values) give the top w of all."""
    rng = np.random.default_rng(seed)
    n, m, w, blocks = 37, 90, 12, 4
    sims = np.round(rng.uniform(-1, 1, (n, m * blocks)), 2).astype(np.float32)  # ties
    ok = rng.random(sims.shape) < 0.7
    ok[3] = False  # nothing allowed
    ok[5] = rng.random(sims.shape[1]) < 0.05  # fewer than w allowed
    shift = 4.0
    pools = Pools.empty(n, w)
    for b in range(blocks):
        cols = slice(b * m, (b + 1) * m)
        block = np.where(ok[:, cols], sims[:, cols], sims[:, cols] - np.float32(shift))
        excluded = rng.random(m) < 0.1
        ok[:, cols] &= ~excluded
        allowed = ok[:, cols].sum(axis=1)
        if by_column:  # the block as (targets, queries)
            block = np.ascontiguousarray(block.T)
            pools.offer(block, b * m, allowed, slice(0, n), shift, by_column=True,
                        excluded=excluded)  # fmt: skip
        else:
            pools.offer(block, b * m, allowed, slice(0, n), shift, excluded=excluded)
    _check_pools(pools, sims, ok, w)
    assert (pools.vals[3] == -np.inf).all()


def test_pools_offer_into_some_rows_and_everything_filtered_out() -> None:
    """Offers to a slice of the rows leave the others alone; a block with nothing allowed
    keeps empty pools empty."""
    rng = np.random.default_rng(4)
    pools = Pools.empty(10, 5)
    sims = rng.uniform(-1, 1, (4, 30)).astype(np.float32)
    pools.offer(sims - np.float32(4.0), 0, np.zeros(4, dtype=np.int64), slice(2, 6), 4.0)
    assert (pools.vals == -np.inf).all() and (pools.pos == -1).all()
    pools.offer(sims, 30, np.full(4, 30), slice(2, 6), 4.0)
    assert (pools.vals[[0, 1, 6, 7, 8, 9]] == -np.inf).all()
    want = -np.sort(-sims, axis=1)[:, :5]
    assert np.array_equal(-np.sort(-pools.vals[2:6], axis=1), want)
    assert (pools.pos[2:6] >= 30).all()


@pytest.mark.parametrize("filters", [FILTERS[0], FILTERS[1], FILTERS[3], FILTERS[4]])
def test_scan_tile_equals_a_top_w_of_the_masked_product(
    filters: MatchFilters, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tile of several blocks, both directions, with the factored filters and with the
    per-direction masks: each row's pool is a top w of its allowed float32 cosines."""
    monkeypatch.setattr(rematch, "BLOCK_ROWS", 64)
    monkeypatch.setattr(rematch, "BLOCK_COLS", 256)
    monkeypatch.setattr(rematch, "FILTER_ROWS", 24)
    monkeypatch.setattr(rematch, "TRANSPOSE_STEP", 16)
    vacs, cands = World(200, 900, seed=23).sides()
    w = 40
    tile = Tile(0, len(vacs), 0, len(cands))
    got = scan_tile(vacs, cands, tile, w, w, filters)
    ok_v, ok_c = pair_masks(vacs.store.filters, vacs.ids, cands.store.filters, cands.ids, filters)
    sims = np.empty((len(vacs), len(cands)), dtype=np.float32)
    for a in range(0, len(vacs), 64):  # the same products as the scan's blocks
        for c in range(0, len(cands), 256):
            sims[a : a + 64, c : c + 256] = vacs.vectors[a : a + 64] @ cands.vectors[c : c + 256].T
    assert got.rows is not None and got.cols is not None
    _check_pools(got.rows, sims, ok_v, w)
    _check_pools(got.cols, np.ascontiguousarray(sims.T), ok_c, w)


def test_scan_tile_one_direction_only() -> None:
    """A tile for the rows alone (or the columns alone) fills that direction's pools only."""
    vacs, cands = World(50, 300, seed=24).sides()
    for rows, cols in ((True, False), (False, True)):
        got = scan_tile(vacs, cands, Tile(0, 50, 0, 300, rows, cols), 20, 20)
        assert (got.rows is not None) == rows and (got.cols is not None) == cols
        both = scan_tile(vacs, cands, Tile(0, 50, 0, 300), 20, 20)
        pools = got.rows if rows else got.cols
        other = both.rows if rows else both.cols
        assert pools is not None and other is not None
        assert np.array_equal(-np.sort(-pools.vals, axis=1), -np.sort(-other.vals, axis=1))
        assert np.array_equal(pools.allowed, other.allowed)
