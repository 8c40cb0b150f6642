"""The product's rematch run on the block core: after nights of changes (rewritten CVs, changed
facts, status changes, new and erased rows), incremental runs store the same matches and
report the same new/unchanged/disappeared diff as a full run; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, insert, select, update
from sqlmodel import Session

from matching.embedder import Encoder
from matching.geo import default_locator
from service.batch.rematch_runs import (
    claim_run,
    diff_counts,
    execute_run,
    executor_for,
    lists_changed,
)
from service.config import Settings
from service.store import crud
from service.store.db import make_engine
from service.store.models import Candidate, Vacancy, utcnow
from service.store.rematch_models import MatchStatus, RematchMatch, RematchRun
from service.store.rematch_store import load_core_state
from service.tools.synthetic import insert_synthetic, touch_candidate_texts
from tests.rematch_rows import stored_matches

TOP_K = 5


def _run(engine: Engine, settings: Settings, encoder: Encoder, full: bool | None) -> RematchRun:
    run_id, _ = claim_run(engine, TOP_K, settings.rematch_stale_after_s)
    with executor_for(settings, encoder, None) as executor:
        run = execute_run(
            engine=engine,
            run_id=run_id,
            encoder=encoder,
            locator=default_locator(),
            settings=settings,
            executor=executor,
            full=full,
        )
    assert run.state == "succeeded", run.errors
    return run


def _ids(engine: Engine, table: type, *where: Any) -> list[int]:
    with Session(engine) as s:
        return list(s.execute(select(table.id).where(*where).order_by(table.id)).scalars())  # type: ignore[attr-defined]


def _write(engine: Engine, table: type, row_id: int, **values: object) -> None:
    """A row's facts or status changed, as the product's writers record it (change log)."""
    with Session(engine) as s:
        s.execute(update(table).where(table.id == row_id).values(**values))  # type: ignore[attr-defined]
        crud.log_change(s, "candidate" if table is Candidate else "vacancy", row_id, "upsert")
        s.commit()


def _erase(engine: Engine, table: type, row_id: int) -> None:
    with Session(engine) as s:
        row = s.get(table, row_id)
        assert row is not None
        if table is Candidate:
            key, kind = {"external_id": row.external_id}, crud.CANDIDATES
        else:
            key, kind = (
                {"employer_id": row.employer_id, "external_id": row.external_id},
                crud.VACANCIES,
            )
        assert crud.delete_row(session=s, kind=kind, key=key)


def _night_one(engine: Engine, encoder: Encoder) -> None:
    touch_candidate_texts(engine, 0.03)  # rewritten CVs: the run re-embeds them
    cands = _ids(engine, Candidate, Candidate.active.is_(True))  # type: ignore[attr-defined]
    vacs = _ids(engine, Vacancy, Vacancy.status == "open")
    _write(engine, Candidate, cands[3], max_travel_km=5.0, driving_licence=False)
    _write(engine, Candidate, cands[10], active=False)
    _write(engine, Vacancy, vacs[2], requires_driving_licence=True)
    _write(engine, Vacancy, vacs[4], status="closed")
    closed = _ids(engine, Vacancy, Vacancy.status == "closed")
    _write(engine, Vacancy, closed[0], status="open")  # back in the pool
    with Session(engine) as s:  # a placed candidate leaves the pool
        s.execute(
            insert(MatchStatus).values(
                vacancy_id=vacs[0], candidate_id=cands[20], status="placed", updated_at=utcnow()
            )
        )
        s.commit()
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=3,
                     candidates=12, seed=9)  # fmt: skip
    _erase(engine, Candidate, cands[30])
    _erase(engine, Vacancy, vacs[6])


def _night_two(engine: Engine, encoder: Encoder, last: int) -> None:
    # new rows first: SQLite gives an erased row's id to the next row when it was the largest
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=2,
                     candidates=8, seed=13)  # fmt: skip
    # erase rows that are in the last run's lists, so stored lists lose entries
    with Session(engine) as s:
        listed = s.execute(
            select(RematchMatch.vacancy_id, RematchMatch.candidate_id)
            .where(
                RematchMatch.run_id == last,
                RematchMatch.rank == 1,
                RematchMatch.vacancy_id <= 120,  # not the largest ids: see above
                RematchMatch.candidate_id <= 500,
            )
            .order_by(RematchMatch.vacancy_id, RematchMatch.candidate_id)
        ).all()
    _erase(engine, Candidate, listed[0][1])
    _erase(engine, Vacancy, listed[-1][0])
    cands = _ids(engine, Candidate, Candidate.active.is_(True))  # type: ignore[attr-defined]
    _write(engine, Candidate, cands[1], max_travel_km=None, driving_licence=True)
    _write(engine, Candidate, cands[5], active=False)
    touch_candidate_texts(engine, 0.02, seed=5)


def _diff(engine: Engine, run_id: int | None, base: int | None) -> dict[str, int]:
    assert run_id is not None
    with Session(engine) as s:
        c = diff_counts(s, run_id, base)
    return {k: c[k] for k in ("new", "unchanged", "disappeared")}


def test_incremental_nights_store_and_diff_what_full_runs_do(
    db_url: str, settings: Settings, encoder: Encoder
) -> None:
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=120,
                     candidates=500)  # fmt: skip
    first = _run(engine, settings, encoder, None)
    assert first.counts["core"] == "full" and first.counts["incremental"] is False
    assert first.counts["stored_rows_written"] == first.counts["matches"] > 0

    nights: list[Callable[[], None]] = [
        lambda: _night_one(engine, encoder),
        lambda: _night_two(engine, encoder, last.id),  # type: ignore[arg-type]
    ]
    last = first
    for night in nights:
        night()
        inc = _run(engine, settings, encoder, None)
        counts = inc.counts
        assert counts["core"] == "incremental", counts.get("full_reason")
        assert counts["base_run_id"] == last.id
        # only the lists that changed are sent; the rest is copied from the base run
        assert 0 < counts["stored_rows_written"] < counts["matches"]
        assert counts["stored_rows_written"] + counts["stored_rows_carried"] == counts["matches"]
        # the core recomputed a part of the rows, not all of them
        assert 0 < counts["core_reranked"] < counts["vacancies"] + counts["candidates"]
        previous = last
        last = inc
    assert counts["erased_candidates"] == 1 and counts["erased_vacancies"] == 1, counts
    assert counts["new_candidates"] > 0 and counts["left_candidates"] == 1

    full = _run(engine, settings, encoder, True)
    assert full.counts["core"] == "full" and full.counts["stored_rows_carried"] == 0
    a, b = stored_matches(engine, last.id), stored_matches(engine, full.id)
    assert len(a) == last.counts["matches"] > 0
    assert a == b  # exactly: same lists, ranks, stored scores and parts
    # the diff the API reports for the incremental run is the full run's against the same base
    reported = {k: last.counts[k] for k in ("new", "unchanged", "disappeared")}
    assert reported == _diff(engine, full.id, previous.id) == _diff(engine, last.id, previous.id)
    assert reported["new"] > 0 and reported["disappeared"] > 0
    engine.dispose()


def test_first_night_alone_equals_a_full_run_and_the_state_follows_the_newest_run(
    db_url: str, settings: Settings, encoder: Encoder
) -> None:
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=80,
                     candidates=300, seed=21)  # fmt: skip
    first = _run(engine, settings, encoder, None)
    _night_one(engine, encoder)
    inc = _run(engine, settings, encoder, None)
    assert inc.counts["core"] == "incremental"
    full = _run(engine, settings, encoder, True)
    assert stored_matches(engine, inc.id) == stored_matches(engine, full.id)
    assert {k: inc.counts[k] for k in ("new", "unchanged", "disappeared")} == _diff(
        engine, full.id, first.id
    )
    assert first.id is not None and inc.id is not None and full.id is not None
    with Session(engine) as s:
        # only the newest successful run keeps its core state
        assert load_core_state(s, first.id) is None and load_core_state(s, inc.id) is None
        kept = load_core_state(s, full.id)
    assert kept is not None
    state, lists_stored = kept
    assert lists_stored and state.top_k == TOP_K
    assert np.array_equal(
        state.vacancy_ids, np.array(_ids(engine, Vacancy, Vacancy.status == "open"))
    )
    engine.dispose()


def test_lists_changed_compares_targets_scores_and_parts() -> None:
    from matching.rematch import TopK

    before = TopK.empty(3, 2)
    before.ids[:, 0] = [7, 8, 9]
    before.scores[:, 0] = 0.5
    before.parts[:, 0] = [0.3, 0.1, 0.1]
    now = TopK(before.ids.copy(), before.scores.copy(), before.parts.copy())
    ids, before_ids = np.array([1, 2, 3, 4]), np.array([3, 2, 1])
    now = now.take(np.array([2, 1, 0, 0]))  # aligned with ids: 1, 2, 3 and a new query 4
    assert lists_changed(ids, now, before_ids, before).tolist() == [False, False, False, True]
    now.parts[1, 0, 2] = 0.2
    now.ids[2, 1], now.scores[2, 1], now.parts[2, 1] = 5, 0.1, 0.0
    assert lists_changed(ids, now, before_ids, before).tolist() == [False, True, True, True]
    assert lists_changed(ids, now, np.zeros(0, dtype=np.int64), before).all()


@pytest.mark.parametrize("lists_stored", [True, False])
def test_core_state_arrays_round_trip(lists_stored: bool) -> None:
    from matching.rematch import rematch_full
    from service.store.rematch_store import state_arrays, state_from_arrays
    from service.tools.synthetic import synthetic_sides

    vacs, cands = synthetic_sides(30, 200, dim=16)
    state = rematch_full(vacs, cands, TOP_K).state
    arrays = state_arrays(state, lists_stored)
    back = state_from_arrays({k: v.copy() for k, v in arrays.items()})
    assert back is not None and back[1] is lists_stored
    assert state_arrays(back[0], lists_stored).keys() == arrays.keys()
    for name, value in state_arrays(back[0], lists_stored).items():
        assert np.array_equal(value, arrays[name], equal_nan=True), name
    # saved narrow (ids and scores as int32), given back exactly as they were
    assert arrays["core.vacancy_pools.ids"].dtype == np.int32
    assert arrays["core.for_vacancy.scores"].dtype == np.int32
    assert np.isnan(state.for_candidate.scores).any()  # padding round-trips too
    for got, want in ((back[0], state), (back[0].for_vacancy, state.for_vacancy),
                      (back[0].candidate_pools, state.candidate_pools)):  # fmt: skip
        for name, value in vars(want).items():
            if isinstance(value, np.ndarray):
                assert value.dtype == getattr(got, name).dtype, name
                assert np.array_equal(value, getattr(got, name), equal_nan=True), name
    # a state saved wide (as before) still loads
    wide = {k: v.astype(np.int64) if v.dtype == np.int32 else v for k, v in arrays.items()}
    for name in [
        f"core.{d}.{a}" for d in ("for_vacancy", "for_candidate") for a in ("scores", "parts")
    ]:
        wide[name] = np.where(arrays[name] == np.iinfo(np.int32).min, np.nan, arrays[name] / 1e4)
    old = state_from_arrays(wide)
    assert old is not None
    assert np.array_equal(old[0].for_vacancy.scores, state.for_vacancy.scores, equal_nan=True)
    assert state_from_arrays({k: v for k, v in arrays.items() if k != "core.top_k"}) is None
    bad = dict(arrays, **{"core.for_vacancy.ids": arrays["core.for_vacancy.ids"][:, :1]})
    assert state_from_arrays(bad) is None
