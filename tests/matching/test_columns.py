"""FilterColumns: the vectorised hard filters agree with the per-row reference filters."""

from __future__ import annotations

import random

import numpy as np
import pytest

from matching.categories import CLIENT_GROUPS, VACANCY_KINDS
from matching.columns import FilterColumns
from matching.focus import FocusHit
from matching.geo import haversine_km
from matching.profiles import CandidateFacts, Side, VacancyFacts
from matching.ranking import MatchFilters
from tests.oracle.ranking_oracle import candidate_passes, vacancy_passes

SLUGS = ("heftruckchauffeur", "schoonmaker", "kok", "verzorgende")


def _side(r: random.Random, located: float = 0.85) -> Side:
    loc = (r.uniform(51.0, 53.4), r.uniform(3.6, 7.1)) if r.random() < located else None
    hits = tuple(
        FocusHit(slug=s, name=s, label=s, matched=s, score=1.0)
        for s in r.sample(SLUGS, r.choice((0, 0, 1, 2)))
    )
    return Side(occupations=(), key_terms=frozenset(), terms=frozenset(), location=loc, focus=hits)


def _candidate(r: random.Random, id_: int) -> CandidateFacts:
    return CandidateFacts(
        id=id_,
        external_id=f"k{id_}",
        side=_side(r),
        skills=(),
        languages=(),
        ladder_step=r.choice((None, 1, 2, 3, 4, 5, 6)),
        client_group=r.choice((None, *CLIENT_GROUPS)),
        active=r.random() < 0.9,
        hours_min=None,
        hours_max=None,
        max_travel_km=r.choice((None, 5.0, 15.0, 40.0, r.uniform(1, 120))),
        driving_licence=r.random() < 0.5,
    )


def _vacancy(r: random.Random, id_: int) -> VacancyFacts:
    return VacancyFacts(
        id=id_,
        employer_id="e",
        external_id=f"v{id_}",
        title="t",
        side=_side(r),
        skills=(),
        languages=(),
        hours=None,
        requires_driving_licence=r.random() < 0.3,
        kind=r.choice(VACANCY_KINDS),
        status=r.choice(("open", "open", "closed", "filled")),
    )


def _filters(r: random.Random) -> MatchFilters:
    return MatchFilters(
        focus_only=r.random() < 0.4,
        ladder_step_min=r.choice((None, None, 2, 4)),
        client_groups=tuple(r.sample(CLIENT_GROUPS, r.choice((0, 0, 1, 2)))),
        max_distance_km=r.choice((None, None, 10.0, r.uniform(1, 80))),
        kinds=tuple(r.sample(VACANCY_KINDS, r.choice((0, 0, 1, 2)))),
        include_closed=r.random() < 0.3,
    )


def _near_boundary(query: Side, row: Side, limits: list[float | None]) -> bool:
    """Within a metre of a distance limit, float32 chords may round either way."""
    if query.location is None or row.location is None:
        return False
    d = haversine_km(*query.location, *row.location)
    return any(lim is not None and abs(d - lim) < 0.001 for lim in limits)


@pytest.mark.parametrize("seed", range(6))
def test_candidate_mask_equals_candidate_passes(seed: int) -> None:
    r = random.Random(seed)
    cands = [_candidate(r, i) for i in r.sample(range(1, 3000), 600)]
    cols = FilterColumns(capacity=16)  # grows as rows arrive
    cols.set_candidates(cands[:300])
    cols.set_candidates(cands[300:])
    removed = {c.id for c in cands[:40]}
    cols.remove(removed)
    checked = 0
    for _ in range(40):
        query, filters = _side(r), _filters(r)
        vac = _vacancy(r, 1) if r.random() < 0.7 else None
        mask = cols.candidate_mask(query, vac, filters)
        for c in cands:
            if _near_boundary(query, c.side, [c.max_travel_km, filters.max_distance_km]):
                continue
            expected = c.id not in removed and candidate_passes(query, vac, c, filters)
            checked += 1
            assert bool(mask[c.id]) == expected, (c, filters)
    assert checked > 20_000


@pytest.mark.parametrize("seed", range(6))
def test_vacancy_mask_equals_vacancy_passes(seed: int) -> None:
    r = random.Random(100 + seed)
    vacs = [_vacancy(r, i) for i in range(1, 500)]
    cols = FilterColumns()
    cols.set_vacancies(vacs)
    for _ in range(40):
        cand = _candidate(r, 1) if r.random() < 0.8 else None
        query = cand.side if cand is not None else _side(r)
        filters = _filters(r)
        mask = cols.vacancy_mask(query, cand, filters)
        for v in vacs:
            limits = [filters.max_distance_km, cand.max_travel_km if cand else None]
            if _near_boundary(query, v.side, limits):
                continue
            assert bool(mask[v.id]) == vacancy_passes(query, cand, v, filters), (v, filters)


def test_replacing_a_row_replaces_its_facts() -> None:
    r = random.Random(9)
    cols = FilterColumns()
    c = _candidate(r, 5)
    cols.set_candidates([c.__class__(**{**c.__dict__, "active": True, "ladder_step": 6})])
    on = MatchFilters(ladder_step_min=5)
    assert cols.candidate_mask(_side(r, located=0), None, on)[5]
    cols.set_candidates([c.__class__(**{**c.__dict__, "active": True, "ladder_step": 2})])
    assert not cols.candidate_mask(_side(r, located=0), None, on)[5]
    assert len(cols) == 1
    cols.remove([5, 10_000])
    assert len(cols) == 0 and not np.any(cols.candidate_mask(_side(r), None, MatchFilters()))


def test_bulk_arrays_give_the_same_masks_as_facts() -> None:
    r = random.Random(21)
    cands = [_candidate(r, i) for i in range(1, 400)]
    by_facts = FilterColumns()
    by_facts.set_candidates(cands)
    slugs = list(SLUGS)
    bits = np.array(
        [sum(1 << slugs.index(h.slug) for h in c.side.focus) for c in cands], dtype=np.uint64
    )
    nan = float("nan")
    by_arrays = FilterColumns()
    by_arrays.load_candidate_arrays(
        np.array([c.id for c in cands]),
        active=np.array([c.active for c in cands]),
        ladder=np.array([c.ladder_step or -1 for c in cands]),
        group=np.array(
            [CLIENT_GROUPS.index(c.client_group) if c.client_group else -1 for c in cands]
        ),
        licence=np.array([c.driving_licence for c in cands]),
        max_travel_km=np.array(
            [nan if c.max_travel_km is None else c.max_travel_km for c in cands]
        ),
        lat=np.array([c.side.location[0] if c.side.location else nan for c in cands]),
        lon=np.array([c.side.location[1] if c.side.location else nan for c in cands]),
        focus_slugs=slugs,
        focus=bits,
    )
    for _ in range(30):
        query, filters = _side(r), _filters(r)
        vac = _vacancy(r, 1)
        a = by_facts.candidate_mask(query, vac, filters)
        b = by_arrays.candidate_mask(query, vac, filters)
        assert np.array_equal(a[: len(cands) + 1], b[: len(cands) + 1])


def _check_candidates(
    cols: FilterColumns, cands: dict[int, CandidateFacts], r: random.Random
) -> int:
    """Compare ``candidate_allowed`` with the oracle for random queries; returns rows checked."""
    checked = 0
    for _ in range(15):
        query = _side(r, located=0.95)
        filters = _filters(r)
        if r.random() < 0.7:  # the grid is used only with a distance limit
            filters = MatchFilters(**{**filters.__dict__, "max_distance_km": r.uniform(1, 60)})
        vac = _vacancy(r, 1) if r.random() < 0.7 else None
        allowed = cols.candidate_allowed(query, vac, filters)
        assert np.all(np.diff(allowed) > 0)  # ascending, no repeats
        got = set(allowed.tolist())
        for c in cands.values():
            if _near_boundary(query, c.side, [c.max_travel_km, filters.max_distance_km]):
                continue
            checked += 1
            assert (c.id in got) == candidate_passes(query, vac, c, filters), (c, filters)
    return checked


def test_allowed_ids_follow_rows_that_move_after_the_grid_was_built() -> None:
    r = random.Random(77)
    cands = {i: _candidate(r, i) for i in range(1, 6001)}
    cols = FilterColumns()
    cols.set_candidates(list(cands.values()))
    assert _check_candidates(cols, cands, r) > 10_000  # builds the grid
    # a few rows move: they are tested where they are now, not in their old cells
    for i in r.sample(sorted(cands), 300):
        cands[i] = _candidate(r, i)
    cols.set_candidates(list(cands.values()))
    assert cols._grid is None  # 6000 rows set since: rebuilt on the next query
    assert _check_candidates(cols, cands, r) > 10_000
    moved = r.sample(sorted(cands), 200)
    for i in moved:
        cands[i] = _candidate(r, i)
    cols.set_candidates([cands[i] for i in moved])
    assert cols._grid is not None and len(cols._grid.moved) == 200
    assert _check_candidates(cols, cands, r) > 10_000
    gone = r.sample(sorted(cands), 500)  # removed rows leave the grid's copies too
    cols.remove(gone)
    for i in gone:
        del cands[i]
    assert _check_candidates(cols, cands, r) > 10_000


@pytest.mark.parametrize("where", [(89.5, 10.0), (-89.2, 0.0), (52.0, 179.9), (10.0, -179.95)])
def test_distance_limit_near_a_pole_or_the_date_line(where: tuple[float, float]) -> None:
    """Where the grid's box would wrap, every row is tested; the answer is the same."""
    r = random.Random(5)
    lat, lon = where
    cands = {}
    for i in range(1, 400):
        c = _candidate(r, i)
        loc = (
            max(-90.0, min(90.0, lat + r.uniform(-1, 1))),
            (lon + r.uniform(-1, 1) + 180) % 360 - 180,
        )
        cands[i] = CandidateFacts(
            **{**c.__dict__, "side": Side((), frozenset(), frozenset(), loc, ())}
        )
    cols = FilterColumns()
    cols.set_candidates(list(cands.values()))
    query = Side((), frozenset(), frozenset(), where, ())
    filters = MatchFilters(max_distance_km=60.0)
    got = set(cols.candidate_allowed(query, None, filters).tolist())
    want = {c.id for c in cands.values() if candidate_passes(query, None, c, filters)}
    assert got == want and len(want) > 20


def test_rows_with_more_focus_occupations_than_fit_after_the_grid_was_built() -> None:
    """A 65th focus slug widens the focus column: the grid's copies go with it."""
    r = random.Random(31)
    cands = {i: _candidate(r, i) for i in range(1, 300)}
    cols = FilterColumns()
    cols.set_candidates(list(cands.values()))
    near = MatchFilters(max_distance_km=50.0, focus_only=True)
    cols.candidate_allowed(_side(r, located=1), None, near)  # builds the grid
    for n, i in enumerate(range(1, 71)):
        slug = f"extra-{n}"
        hit = FocusHit(slug=slug, name=slug, label=slug, matched=slug, score=1.0)
        side = Side((), frozenset(), frozenset(), cands[i].side.location, (hit,))
        cands[i] = CandidateFacts(**{**cands[i].__dict__, "side": side})
        cols.set_candidates([cands[i]])
    assert cols.focus.shape[1] == 2
    for _ in range(20):
        query = _side(r, located=1)
        got = set(cols.candidate_allowed(query, None, near).tolist())
        want = {c.id for c in cands.values() if candidate_passes(query, None, c, near)}
        assert got == want
