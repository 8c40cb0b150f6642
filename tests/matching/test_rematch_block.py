"""matching.rematch's block core: equal to the per-direction oracle (tests/oracle/rematch_oracle.py)
on random rows and filters, and an incremental run equal to a full run after the same changes."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import matching.rematch as rematch
from matching.facts import build_store
from matching.profiles import CandidateFacts, VacancyFacts, make_side
from matching.rematch import (
    FOR_CANDIDATE,
    FOR_VACANCY,
    LocalExecutor,
    SideColumns,
    rematch_full,
    rematch_incremental,
)
from tests.oracle.rematch_oracle import SideArrays, match_batch, rerank_per_query

MODEL = "test-model@0"  # no fitted calibration: the top-level weights
JOBS = [
    ("heftruckchauffeur", ["heftruck", "magazijn"]),
    ("kok", ["HACCP", "koken"]),
    ("schoonmaker", ["schoonmaken"]),
    ("verzorgende", ["zorg", "wondzorg"]),
    ("magazijnmedewerker", ["magazijn", "orderpicken"]),
]
DIM = 24


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks and tiles far smaller than the data, so merges across them are exercised."""
    monkeypatch.setattr(rematch, "BLOCK_ROWS", 64)
    monkeypatch.setattr(rematch, "BLOCK_COLS", 256)
    monkeypatch.setattr(rematch, "TILE_ROWS", 128)
    monkeypatch.setattr(rematch, "TILE_COLS", 512)
    monkeypatch.setattr(rematch, "RANK_PART", 300)


def _loc(rng: np.random.Generator) -> tuple[float, float] | None:
    return None if rng.random() < 0.1 else (51.5 + 1.5 * rng.random(), 4.0 + 2.5 * rng.random())


def _candidate(i: int, rng: np.random.Generator) -> CandidateFacts:
    name, skills = JOBS[int(rng.integers(len(JOBS)))]
    side = make_side(occupations=[name], skills=skills[: 1 + int(rng.integers(2))],
                     text=f"ervaring als {name}", location=_loc(rng), focus=None)  # fmt: skip
    return CandidateFacts(
        id=i, external_id=f"c{i}", side=side, skills=tuple(skills), languages=("nl",),
        ladder_step=int(rng.integers(1, 7)), client_group="matchen", active=rng.random() < 0.9,
        hours_min=None, hours_max=None,
        max_travel_km=[None, 10.0, 25.0, 60.0][int(rng.integers(4))],
        driving_licence=bool(rng.random() < 0.6),
    )  # fmt: skip


def _vacancy(i: int, rng: np.random.Generator) -> VacancyFacts:
    name, skills = JOBS[int(rng.integers(len(JOBS)))]
    side = make_side(occupations=[name], skills=skills, text=f"wij zoeken een {name}",
                     location=_loc(rng), focus=None)  # fmt: skip
    return VacancyFacts(
        id=i, employer_id="e", external_id=f"v{i}", title=name, side=side, skills=tuple(skills),
        languages=("nl",), hours=32, requires_driving_licence=bool(rng.random() < 0.3),
        kind="regular", status="open" if rng.random() < 0.9 else "closed",
    )  # fmt: skip


def _vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class World:
    """Facts and vectors by id, for both the oracle's and the core's sides."""

    def __init__(self, n_vacs: int, n_cands: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.vacs: dict[int, tuple[Any, np.ndarray]] = {}
        self.cands: dict[int, tuple[Any, np.ndarray]] = {}
        for i, v in zip(range(1, n_vacs + 1), _vectors(n_vacs, self.rng), strict=True):
            self.vacs[i] = (_vacancy(i, self.rng), v)
        for i, v in zip(range(1, n_cands + 1), _vectors(n_cands, self.rng), strict=True):
            self.cands[i] = (_candidate(i, self.rng), v)

    @staticmethod
    def _arrays(rows: dict[int, tuple[Any, np.ndarray]]) -> SideArrays:
        ids = sorted(rows)
        return SideArrays(
            np.array(ids, dtype=np.int64),
            np.stack([rows[i][1] for i in ids]).astype(np.float32),
            [rows[i][0] for i in ids],
            MODEL,
        )

    def oracle_sides(self) -> tuple[SideArrays, SideArrays]:
        return self._arrays(self.vacs), self._arrays(self.cands)

    def sides(self) -> tuple[SideColumns, SideColumns]:
        out = []
        for kind, rows in (("vacancy", self.vacs), ("candidate", self.cands)):
            a = self._arrays(rows)
            out.append(SideColumns(a.ids, a.vectors, build_store(kind, a.facts), a.model_id))  # type: ignore[arg-type]
        return out[0], out[1]


def _key(rows: list) -> list[tuple]:
    return sorted((r.direction, r.vacancy_id, r.candidate_id, r.rank) for r in rows)


def _assert_same(got: list, want: list) -> None:
    assert _key(got) == _key(want)
    by = {(r.direction, r.vacancy_id, r.candidate_id): r for r in want}
    for r in got:
        w = by[(r.direction, r.vacancy_id, r.candidate_id)]
        assert abs(r.score - w.score) <= 1e-6
        assert np.allclose([r.semantic, r.lexical, r.occupation],
                           [w.semantic, w.lexical, w.occupation], atol=1e-6)  # fmt: skip


@pytest.mark.parametrize(("seed", "top_k"), [(1, 5), (2, 20), (3, 50)])
def test_full_run_equals_the_oracle(seed: int, top_k: int) -> None:
    world = World(700, 3000, seed)
    ov, oc = world.oracle_sides()
    want = match_batch(FOR_VACANCY, ov, oc, top_k) + match_batch(FOR_CANDIDATE, oc, ov, top_k)
    vacs, cands = world.sides()
    got = rematch_full(vacs, cands, top_k)
    assert len(want) > 1000
    _assert_same(got.rows(), want)
    # each query's rows come out in rank order (scores descending)
    s = got.for_vacancy.scores
    assert (np.nan_to_num(s[:, :-1], nan=-1) >= np.nan_to_num(s[:, 1:], nan=-1)).all()


def _change(world: World, mix: str) -> dict[str, list[int]]:
    """Apply a mix of changes to ``world``; returns the ids the caller reports."""
    rng = world.rng
    out: dict[str, list[int]] = {"cv": [], "cc": [], "rv": [], "rc": []}
    vids, cids = sorted(world.vacs), sorted(world.cands)
    if "text" in mix:  # new vectors and sides for 1 % of the candidates, a few vacancies
        for i in rng.choice(cids, len(cids) // 100, replace=False).tolist():
            world.cands[i] = (_candidate(i, rng), _vectors(1, rng)[0])
            out["cc"].append(i)
        for i in rng.choice(vids, 5, replace=False).tolist():
            world.vacs[i] = (_vacancy(i, rng), _vectors(1, rng)[0])
            out["cv"].append(i)
    if "status" in mix:  # filters only: closed / reopened, (in)active, licence
        for i in rng.choice(vids, 8, replace=False).tolist():
            f, v = world.vacs[i]
            status = "closed" if f.status == "open" else "open"
            world.vacs[i] = (dataclasses.replace(f, status=status), v)
            out["cv"].append(i)
        for i in rng.choice(cids, 20, replace=False).tolist():
            f, v = world.cands[i]
            flipped = dataclasses.replace(
                f, active=not f.active, driving_licence=not f.driving_licence
            )
            world.cands[i] = (flipped, v)
            out["cc"].append(i)
    if "new" in mix:
        top_v, top_c = max(world.vacs), max(world.cands)
        for i in range(top_v + 1, top_v + 6):
            world.vacs[i] = (_vacancy(i, rng), _vectors(1, rng)[0])
        for i in range(top_c + 1, top_c + 31):
            world.cands[i] = (_candidate(i, rng), _vectors(1, rng)[0])
    if "erase" in mix:
        for i in rng.choice(vids, 4, replace=False).tolist():
            world.vacs.pop(i, None)
            out["rv"].append(i)
        for i in rng.choice(cids, 25, replace=False).tolist():
            world.cands.pop(i, None)
            out["rc"].append(i)
    return out


@pytest.mark.parametrize(
    "mix", ["text", "status", "new", "erase", "text+status+new+erase", "nothing"]
)
def test_incremental_run_equals_a_full_run_after_the_same_changes(mix: str) -> None:
    world = World(500, 2500, seed=hash(mix) % 1000)
    vacs, cands = world.sides()
    first = rematch_full(vacs, cands, 10)
    changes = _change(world, mix)
    vacs, cands = world.sides()
    full = rematch_full(vacs, cands, 10)
    inc = rematch_incremental(
        vacs, cands, 10, first.state, changes["cv"], changes["cc"], changes["rv"], changes["rc"]
    )
    assert _key(inc.rows()) == _key(full.rows())
    for a, b in ((inc.for_vacancy, full.for_vacancy), (inc.for_candidate, full.for_candidate)):
        for name in ("ids", "scores", "parts"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # the re-rank pools (the first pool_size(top_k) entries) are the full run's
    p = rematch.pool_size(10)
    for a, b in (
        (inc.state.vacancy_pools, full.state.vacancy_pools),
        (inc.state.candidate_pools, full.state.candidate_pools),
    ):
        np.testing.assert_array_equal(a.ids[:, :p], b.ids[:, :p])
        np.testing.assert_array_equal(a.cos[:, :p], b.cos[:, :p])
        assert (np.minimum(a.size, p) == np.minimum(b.size, p)).all()
    if mix == "nothing":
        assert inc.counts["reranked"] == 0
    else:
        # not every row was re-ranked (on rows this few, a pool of 100 holds a changed row often)
        assert 0 < inc.counts["reranked"] < len(vacs) + len(cands)


def test_nights_in_a_row_stay_equal_to_full_runs() -> None:
    """Each night starts from the previous incremental state (pools lose depth as changed rows
    leave them, and are searched again when too few known entries are left)."""
    world = World(300, 2000, seed=5)
    vacs, cands = world.sides()
    state = rematch_full(vacs, cands, 10).state
    for night, mix in enumerate(["text", "text+erase", "status+new", "text+status+new+erase"]):
        changes = _change(world, mix)
        vacs, cands = world.sides()
        inc = rematch_incremental(vacs, cands, 10, state, changes["cv"], changes["cc"],
                                  changes["rv"], changes["rc"])  # fmt: skip
        assert _key(inc.rows()) == _key(rematch_full(vacs, cands, 10).rows()), night
        state = inc.state


def test_ties_and_unproven_windows_give_the_float64_pool() -> None:
    """Many candidates with the same vector: the float32 window cannot prove its boundary, the
    second pass over all targets decides (ties by smaller id), incremental and full still agree."""
    world = World(60, 1500, seed=9)
    same = _vectors(1, world.rng)[0]
    for i in list(world.cands)[::3]:
        world.cands[i] = (world.cands[i][0], same)
    vacs, cands = world.sides()
    got = rematch_full(vacs, cands, 30)
    assert got.counts["band_rescans"] > 0
    # reference: the pool by float64 cosine and id, scored with the same scorer
    p = rematch.pool_size(30)
    for qi in range(len(vacs)):
        q = vacs.ids[qi]
        ok = rematch.pair_mask(
            cands.store.filters, "candidate", cands.ids, vacs.store.filters, vacs.ids[qi : qi + 1],
            rematch.DEFAULT_FILTERS,
        )[0]  # fmt: skip
        cos = rematch.exact_cosines(vacs.vectors[qi], cands.vectors[ok])
        order = np.lexsort((cands.ids[ok], -cos))[:p]
        assert (
            got.state.vacancy_pools.ids[qi, : len(order)].tolist() == cands.ids[ok][order].tolist()
        ), q
    first = got
    changes = _change(world, "text+erase")
    vacs, cands = world.sides()
    inc = rematch_incremental(vacs, cands, 30, first.state, changes["cv"], changes["cc"],
                              changes["rv"], changes["rc"], executor=LocalExecutor())  # fmt: skip
    assert _key(inc.rows()) == _key(rematch_full(vacs, cands, 30).rows())


def _exact_pools_per_row(
    queries: SideColumns, targets: SideColumns, pools: rematch.Pools, p: int
) -> rematch.ExactPools:
    """The former per-row exact pools (proven rows only; the band rescan is unchanged)."""
    eps = rematch.error_bound(queries.vectors.shape[1], queries.max_norm, targets.max_norm)
    d = rematch.depth(p)
    out = rematch.ExactPools.empty(len(queries), d)
    vals, pos, allowed = pools.vals, pools.pos, pools.allowed
    size = np.minimum(allowed, d)
    srt = -np.sort(-vals, axis=1)
    bound = srt[np.arange(len(vals)), np.maximum(size - 1, 0)].astype(np.float64)
    low = srt[:, -1].astype(np.float64)
    unproven = (allowed > vals.shape[1]) & (low >= bound - 2 * eps) & (size > 0)
    for i in range(len(queries)):
        if size[i] == 0:
            out.complete[i] = True
            continue
        if unproven[i]:
            continue
        keep = np.isfinite(vals[i]) & (vals[i].astype(np.float64) >= bound[i] - 2 * eps)
        cand = pos[i][keep]
        cos = rematch.exact_cosines(queries.vectors[i], targets.vectors[cand])
        out.put(i, targets.ids[cand], cos, bool(allowed[i] <= d), d)
    return out


@pytest.mark.parametrize(("seed", "top_k"), [(4, 5), (5, 30)])
def test_batched_exact_pools_and_rerank_equal_the_per_row_ones(
    seed: int, top_k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole-array exact pools and the re-rank scored many pools at a time give bit for
    bit what the former per-row loops gave (so stored scores still equal the endpoints')."""
    monkeypatch.setattr(rematch, "RERANK_CHUNK", 37)
    monkeypatch.setattr(rematch, "EXACT_BYTES", 1000)
    vacs, cands = World(400, 2000, seed).sides()
    p = rematch.pool_size(top_k)
    w = rematch.window(p)
    vp, cp = rematch._scan(LocalExecutor(), vacs, cands, w, {})
    for queries, targets, pools in ((vacs, cands, vp), (cands, vacs, cp)):
        got, _ = rematch.exact_pools(queries, targets, pools, p)
        want = _exact_pools_per_row(queries, targets, pools, p)
        done = want.size > 0
        assert np.array_equal(got.ids[done], want.ids[done])
        assert np.array_equal(got.cos[done], want.cos[done])
        assert np.array_equal(got.size[done], want.size[done])
        assert np.array_equal(got.complete[done], want.complete[done])
        assert done.sum() > len(queries) // 2
        ranked = rematch.rerank(queries, targets, got, p, top_k)
        alone = rerank_per_query(queries, targets, got, p, top_k)
        assert np.array_equal(ranked.ids, alone.ids)
        assert np.array_equal(ranked.scores, alone.scores, equal_nan=True)
        assert np.array_equal(ranked.parts, alone.parts, equal_nan=True)


def _merge_entrants_per_row(
    queries: SideColumns,
    entrants: SideColumns,
    scan: rematch.Pools,
    rows: np.ndarray,
    old: rematch.ExactPools,
    dirty: np.ndarray,
    p: int,
) -> tuple[rematch.ExactPools, np.ndarray, np.ndarray]:
    """The former per-row loop of ``_merge_entrants`` (the reference for the array one)."""
    merged = old.take(np.arange(len(rows)))
    moved = np.zeros(len(rows), dtype=bool)
    lost = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return merged, moved, lost
    eps = rematch.error_bound(queries.vectors.shape[1], queries.max_norm, entrants.max_norm)
    width = old.ids.shape[1]
    vals, pos, allowed = scan.vals[rows], scan.pos[rows], scan.allowed[rows]
    w = vals.shape[1]
    dirty_at = np.isin(old.ids, dirty) & (old.ids >= 0)
    touched = dirty_at.any(axis=1) | (allowed > 0)
    for i in np.flatnonzero(touched).tolist():
        n = int(old.size[i])
        clean = ~dirty_at[i, :n]
        l_ids, l_cos = old.ids[i, :n][clean], old.cos[i, :n][clean]
        complete = bool(old.complete[i])
        if not complete and not len(l_ids):
            lost[i] = True
            continue
        cut = -np.inf if complete else l_cos[-1] - 2 * eps
        fin = np.isfinite(vals[i]) & (vals[i].astype(np.float64) >= cut)
        cand = pos[i][fin]
        e_cos = rematch.exact_cosines(queries.vectors[rows[i]], entrants.vectors[cand])
        u_ids = np.concatenate([l_ids, entrants.ids[cand]])
        u_cos = np.concatenate([l_cos, e_cos])
        order = np.lexsort((u_ids, -u_cos))
        u_ids, u_cos = u_ids[order], u_cos[order]
        certain = np.ones(len(u_ids), dtype=bool)
        if not complete:
            certain &= (u_cos > l_cos[-1]) | ((u_cos == l_cos[-1]) & (u_ids <= l_ids[-1]))
        window_full = bool(allowed[i] > w)
        if window_full:
            certain &= u_cos > float(vals[i].min()) + eps
        known = len(certain) if certain.all() else int(np.argmin(certain))
        now_complete = complete and not window_full and known == len(u_ids)
        if known < p and not now_complete:
            lost[i] = True
            continue
        merged.put(i, u_ids[:known], u_cos[:known], now_complete, width)
        first_old = old.ids[i, : min(n, p)]
        first_new = merged.ids[i, : min(int(merged.size[i]), p)]
        moved[i] = not np.array_equal(first_new, first_old) or bool(np.isin(first_new, dirty).any())
    return merged, moved, lost


@pytest.mark.parametrize("mix", ["text", "status+new+erase", "text+status+erase"])
@pytest.mark.parametrize("merge_rows", [7, 2048])
def test_merge_of_entrants_equals_the_per_row_loop(
    mix: str, merge_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every merge an incremental run does (both directions, a few rows at a time or all at
    once) gives bit for bit what the former per-row loop gave: pools, moved and lost rows."""
    monkeypatch.setattr(rematch, "MERGE_ROWS", merge_rows)
    calls = []
    array_merge = rematch._merge_entrants

    def both(*args: Any) -> tuple[rematch.ExactPools, np.ndarray, np.ndarray]:
        got = array_merge(*args)
        want = _merge_entrants_per_row(*args)
        for name in ("ids", "cos", "size", "complete"):
            assert np.array_equal(getattr(got[0], name), getattr(want[0], name)), name
        assert np.array_equal(got[1], want[1]) and np.array_equal(got[2], want[2])
        calls.append((int(got[1].sum()), int(got[2].sum())))
        return got

    monkeypatch.setattr(rematch, "_merge_entrants", both)
    world = World(120, 700, seed=31)
    state = rematch_full(*world.sides(), 10).state
    for _ in range(2):  # two nights: the second merges into pools the first merged
        changes = _change(world, mix)
        vacs, cands = world.sides()
        state = rematch_incremental(
            vacs, cands, 10, state, changes["cv"], changes["cc"], changes["rv"], changes["rc"],
            executor=LocalExecutor(),
        ).state  # fmt: skip
    assert len(calls) == 4
    assert sum(m for m, _ in calls) > 0  # some pools changed


@pytest.mark.parametrize("spread", [1e-3, 3e-4])
def test_clustered_rows_rescanned_give_the_float64_pool(spread: float) -> None:
    """Vectors so close together that many windows lie inside the float32 error band: the
    second pass (every target at or above the first pass's boundary minus 2·eps) gives every
    pool as the float64 one of all allowed targets (ties by smaller id), in both directions."""
    world = World(300, 1500, seed=41)
    centre = _vectors(1, world.rng)[0]
    for rows in (world.vacs, world.cands):
        for i in rows:
            v = centre + spread * world.rng.standard_normal(DIM).astype(np.float32)
            rows[i] = (rows[i][0], (v / np.linalg.norm(v)).astype(np.float32))
    vacs, cands = world.sides()
    got = rematch_full(vacs, cands, 5)
    assert got.counts["band_rescans"] > 500
    pair_mask = rematch.pair_mask
    p = rematch.depth(rematch.pool_size(5))
    for queries, targets, pools in (
        (vacs, cands, got.state.vacancy_pools),
        (cands, vacs, got.state.candidate_pools),
    ):
        for qi in range(len(queries)):
            ok = pair_mask(
                targets.store.filters, targets.kind, targets.ids, queries.store.filters,
                queries.ids[qi : qi + 1], rematch.DEFAULT_FILTERS,
            )[0]  # fmt: skip
            cos = rematch.exact_cosines(queries.vectors[qi], targets.vectors[ok])
            order = np.lexsort((targets.ids[ok], -cos))[:p]
            assert pools.ids[qi, : len(order)].tolist() == targets.ids[ok][order].tolist()
            assert np.array_equal(pools.cos[qi, : len(order)], cos[order])
