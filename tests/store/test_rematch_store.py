"""The bulk store of a rematch run (service/store/rematch_store.py) on SQLite and PostgreSQL:
equal to the row-at-a-time store it replaced (tests/oracle), an incremental store equal to a
full one with the same diff, arrays read back, the run state, change detection, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from matching.rematch import FOR_CANDIDATE, FOR_VACANCY, MatchRow
from service.batch.rematch_runs import diff_counts, prune
from service.config import Settings
from service.state.index_state import latest_seq
from service.store import crud
from service.store.db import make_engine
from service.store.models import Candidate, Vacancy
from service.store.rematch_models import RematchBatch, RematchRun, RematchState
from service.store.rematch_store import (
    TopK,
    detect_changes,
    empty_topk,
    latest_state,
    load_arrays,
    load_topk,
    save_arrays,
    save_state,
    settings_key,
    store_result,
    store_topk,
    topk_from_rows,
)
from service.tools.synthetic import insert_synthetic
from tests.oracle.rematch_store_oracle import BatchSpec, store_batch
from tests.rematch_rows import stored_matches

K = 6


def _engine(db_url: str, vacancies: int = 40, candidates: int = 120):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id="m", dim=8, vacancies=vacancies, candidates=candidates)
    return engine


def _ids(engine) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        v = np.array(sorted(s.execute(select(Vacancy.id)).scalars()), dtype=np.int64)
        c = np.array(sorted(s.execute(select(Candidate.id)).scalars()), dtype=np.int64)
    return v, c


def _new_run(engine, top_k: int = K, state: str = "succeeded") -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        run = RematchRun(top_k=top_k, owner="test", state=state)
        s.add(run)
        s.commit()
        assert run.id is not None
        # many runs side by side: none holds the running slot
        s.execute(update(RematchRun).where(RematchRun.id == run.id).values(active_slot=None))
        s.commit()
        return run.id


def _random_topk(
    rng: np.random.Generator, direction: int, queries: np.ndarray, targets: np.ndarray, k: int = K
) -> TopK:
    """Random lists (some short, some empty), scores descending, parts with 4 decimals."""
    n = len(queries)
    out = empty_topk(direction, queries, k)
    for i in range(n):
        m = int(rng.integers(0, k + 1))
        out.target_ids[i, :m] = rng.choice(targets, size=m, replace=False)
        out.scores[i, :m] = np.sort(rng.random(m).astype(np.float32))[::-1]
        out.parts[i, :m] = np.round(rng.random((m, 3)), 4).astype(np.float32)
    return out


def _rows_of(topk: TopK) -> list[MatchRow]:
    rows = []
    for i, q in enumerate(topk.query_ids.tolist()):
        for j in range(topk.k):
            t = int(topk.target_ids[i, j])
            if t < 0:
                break
            v, c = (q, t) if topk.direction == FOR_VACANCY else (t, q)
            p = [round(float(x), 4) for x in topk.parts[i, j]]
            rows.append(
                MatchRow(v, c, topk.direction, j + 1, float(np.float64(topk.scores[i, j])), *p)
            )
    return rows


def _batches(engine, run_id: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = s.execute(
            select(RematchBatch.direction, RematchBatch.lo_id, RematchBatch.hi_id).where(
                RematchBatch.run_id == run_id
            )
        ).all()
    return sorted(tuple(r) for r in rows)


def test_bulk_store_equals_the_row_store_it_replaced(db_url: str) -> None:
    engine = _engine(db_url)
    vacs, cands = _ids(engine)
    rng = np.random.default_rng(3)
    old_run, new_run = _new_run(engine), _new_run(engine)
    # one candidate and one vacancy erased after the run loaded them: both stores leave their
    # matches out
    with Session(engine) as s:
        s.execute(delete(Candidate).where(Candidate.id == int(cands[5])))
        s.execute(delete(Vacancy).where(Vacancy.id == int(vacs[3])))
        s.commit()
    for direction, queries, targets in ((FOR_VACANCY, vacs, cands), (FOR_CANDIDATE, cands, vacs)):
        topk = _random_topk(rng, direction, queries, targets)
        rows = _rows_of(topk)
        for start in range(0, len(queries), 16):
            stop = min(start + 16, len(queries))
            spec = BatchSpec(direction, start, stop)
            lo, hi = queries[start], queries[stop - 1]
            part = [r for r in rows if lo <= (r[0] if direction == FOR_VACANCY else r[1]) <= hi]
            store_batch(engine, old_run, spec, queries, part)
            stats = store_topk(
                engine, new_run, topk_from_rows(part, direction, queries[start:stop], K)
            )
            assert stats.chunks == 1
    old, new = stored_matches(engine, old_run), stored_matches(engine, new_run)
    assert len(old) == len(new) > 0
    assert [r[:4] for r in old] == [r[:4] for r in new]
    for a, b in zip(old, new, strict=True):
        assert b[4] == pytest.approx(a[4], abs=1e-6)
        assert b[5:] == a[5:]  # the parts: 4 decimals, exactly
    assert not any(int(cands[5]) == r[2] or int(vacs[3]) == r[1] for r in new)
    assert _batches(engine, old_run) == _batches(engine, new_run)
    engine.dispose()


def test_incremental_store_equals_a_full_store_and_its_diff(db_url: str) -> None:
    engine = _engine(db_url)
    vacs, cands = _ids(engine)
    rng = np.random.default_rng(5)
    before = {
        d: _random_topk(rng, d, q, t)
        for d, q, t in ((FOR_VACANCY, vacs, cands), (FOR_CANDIDATE, cands, vacs))
    }
    base = _new_run(engine)
    store_result(engine, base, before.values(), chunk_rows=50)
    assert len(load_topk(Session(engine), base, FOR_VACANCY).query_ids) > 0

    # the night: some lists change (a target swapped, a score moved, a list emptied), a query
    # leaves the pool, the rest stay as they were
    after: dict[int, TopK] = {}
    changed: dict[int, np.ndarray] = {}
    for d, topk in before.items():
        keep = np.ones(len(topk), dtype=bool)
        keep[7] = False  # gone from the pool
        t = topk.slice_rows(np.flatnonzero(keep))
        t = TopK(d, t.query_ids, t.target_ids.copy(), t.scores.copy(), t.parts.copy())
        mask = np.zeros(len(t), dtype=bool)
        for i in rng.choice(len(t), size=len(t) // 5, replace=False):
            mask[i] = True
            how = i % 3
            if how == 0:
                t.scores[i, 0] = np.float32(t.scores[i, 0] + 0.5)
            elif how == 1 and t.target_ids[i, 0] >= 0:
                t.target_ids[i, 0] = -7  # fixed below to a target not in the list
                others = np.setdiff1d(cands if d == FOR_VACANCY else vacs, t.target_ids[i])
                t.target_ids[i, 0] = others[0]
            else:
                t.target_ids[i] = -1
        after[d], changed[d] = t, mask

    full, incr, trusted = _new_run(engine), _new_run(engine), _new_run(engine)
    s_full = store_result(engine, full, after.values(), chunk_rows=50)
    s_incr = store_result(engine, incr, after.values(), base_run=base, chunk_rows=50)
    s_trusted = store_result(
        engine, trusted, after.values(), base_run=base, changed=changed, chunk_rows=50
    )
    assert (
        stored_matches(engine, full)
        == stored_matches(engine, incr)
        == stored_matches(engine, trusted)
    )
    assert _batches(engine, full) == _batches(engine, incr)
    assert s_full.carried == 0 and s_full.written == len(stored_matches(engine, full))
    # most lists were carried in the database, not sent
    assert s_incr.carried > 3 * s_incr.written > 0
    assert s_incr.written + s_incr.carried == s_full.written
    assert s_trusted.written == s_incr.written
    with Session(engine) as s:
        assert diff_counts(s, full, base) == diff_counts(s, incr, base)
        counts = diff_counts(s, incr, base)
    assert counts["new"] > 0 and counts["disappeared"] > 0 and counts["unchanged"] > 0
    engine.dispose()


def test_a_store_redone_after_a_kill_leaves_no_duplicates(db_url: str) -> None:
    engine = _engine(db_url)
    vacs, cands = _ids(engine)
    topk = _random_topk(np.random.default_rng(9), FOR_VACANCY, vacs, cands)
    run = _new_run(engine, state="running")
    store_topk(engine, run, topk, chunk_rows=30)
    first = stored_matches(engine, run)
    store_topk(engine, run, topk, chunk_rows=30)
    assert stored_matches(engine, run) == first
    assert len(_batches(engine, run)) == -(-len(vacs) // (30 // K))
    engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a SQLite setting
def test_sqlite_page_cache_is_larger_only_while_storing(db_url: str) -> None:
    """The store's larger SQLite page cache is set back on the pooled connection."""
    engine = _engine(db_url)
    assert engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        (before,) = conn.exec_driver_sql("PRAGMA cache_size").one()
    vacs, cands = _ids(engine)
    store_topk(engine, _new_run(engine), _random_topk(np.random.default_rng(3), FOR_VACANCY,
               vacs, cands), chunk_rows=30)  # fmt: skip
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").one()[0] == before
    engine.dispose()


@pytest.mark.parametrize("packed_rows", [1_000_000, 7])
def test_load_topk_reads_back_what_was_stored(
    db_url: str, packed_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.store.rematch_store as store

    # PostgreSQL packs the rows of a window of query ids: one window, then many small ones
    monkeypatch.setattr(store, "PACKED_ROWS", packed_rows)
    engine = _engine(db_url)
    vacs, cands = _ids(engine)
    topk = _random_topk(np.random.default_rng(1), FOR_CANDIDATE, cands, vacs)
    run = _new_run(engine)
    store_topk(engine, run, topk)
    with Session(engine) as s:
        back = load_topk(s, run, FOR_CANDIDATE)
    nonempty = np.any(topk.target_ids >= 0, axis=1)
    assert np.array_equal(back.query_ids, topk.query_ids[nonempty])
    assert np.array_equal(back.target_ids, topk.target_ids[nonempty])
    present = back.target_ids >= 0
    assert np.array_equal(back.scores[present], topk.scores[nonempty][present])
    assert np.allclose(back.parts[present], topk.parts[nonempty][present], atol=1e-6)
    assert back.scores.dtype == np.float32 and back.target_ids.dtype == np.int64
    engine.dispose()


def test_topk_refuses_bad_arrays() -> None:
    q = np.array([1, 2], dtype=np.int64)
    ok = empty_topk(FOR_VACANCY, q, 3)
    cases = [
        (dict(query_ids=q.astype(np.int32)), "query_ids"),
        (dict(query_ids=np.array([2, 1], dtype=np.int64)), "increasing"),
        (dict(target_ids=np.array([[1, -1, 2], [-1, -1, -1]], dtype=np.int64)), "padding"),
        (dict(target_ids=np.array([[1, -5, -1], [-1, -1, -1]], dtype=np.int64)), "positive"),
        (dict(scores=ok.scores.astype(np.float64)), "scores"),
        (dict(parts=ok.parts[:, :, :2]), "parts"),
        (dict(direction=2), "direction"),
    ]
    for change, needle in cases:
        fields = {
            "direction": ok.direction,
            "query_ids": ok.query_ids,
            "target_ids": ok.target_ids,
            "scores": ok.scores,
            "parts": ok.parts,
            **change,
        }
        with pytest.raises(ValueError, match=needle):
            TopK(**fields)
    row = MatchRow(9, 1, FOR_VACANCY, 1, 0.5, 0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match="not among the query ids"):
        topk_from_rows([row], FOR_VACANCY, q, 3)
    with pytest.raises(ValueError, match="more than k"):
        topk_from_rows([row, row._replace(candidate_id=2, rank=2)], FOR_VACANCY, k=1)


def test_state_arrays_round_trip_in_pieces_and_go_with_their_run(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.store.rematch_store as store

    monkeypatch.setattr(store, "STATE_PART_BYTES", 1000)
    engine = make_engine(db_url)
    run = _new_run(engine)
    arrays = {
        "ids": np.arange(1000, dtype=np.int64),
        "vectors": np.random.default_rng(0).random((30, 8)).astype(np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    with Session(engine) as s:
        save_arrays(s, run, arrays)
        s.commit()
        assert s.execute(select(func.count()).select_from(RematchState)).scalar_one() > 8
        save_arrays(s, run, {"ids": np.array([3, 1], dtype=np.int64)})  # replaces
        s.commit()
        back = load_arrays(s, run)
        with pytest.raises(ValueError, match="plain dtypes"):
            save_arrays(s, run, {"bad": np.array([object()])})
    assert back.keys() == arrays.keys()
    assert back["ids"].tolist() == [3, 1]
    for name in ("vectors", "empty"):
        assert back[name].dtype == arrays[name].dtype
        assert np.array_equal(back[name], arrays[name])
    assert prune(engine, 0) == 1
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(RematchState)).scalar_one() == 0
    engine.dispose()


def test_detect_changes_from_the_change_log_and_the_pools(db_url: str) -> None:
    engine = _engine(db_url)
    vacs, cands = _ids(engine)
    settings = Settings(database_url=db_url)
    key = settings_key("m", K, settings)
    with Session(engine) as s:
        seq = latest_seq(s)
    run = _new_run(engine)
    with Session(engine) as s:
        s.execute(
            update(RematchRun)
            .where(RematchRun.id == run)
            .values(change_seq_from=seq, change_seq_to=seq)
        )
        save_state(s, run, key, vacs, cands)
        s.commit()
    with Session(engine) as s:
        state = latest_state(s)
        assert state is not None and state.run_id == run
        # nothing happened
        same = detect_changes(s, state, key=key, vacancy_ids=vacs, candidate_ids=cands)
        assert same.incremental and all(v == 0 for k, v in same.as_counts().items()
                                        if k.endswith(("vacancies", "candidates")))  # fmt: skip
        # a candidate's CV rewritten, one erased, one placed (left the pool), a vacancy closed
        crud.log_change(s, "candidate", int(cands[0]), "upsert")
        crud.log_change(s, "candidate", int(cands[1]), "delete")
        s.execute(delete(Candidate).where(Candidate.id == int(cands[1])))
        s.execute(update(Vacancy).where(Vacancy.id == int(vacs[2])).values(status="closed"))
        crud.log_change(s, "vacancy", int(vacs[2]), "upsert")
        s.commit()
    with Session(engine) as s:
        s.add(Candidate(external_id="new-1", cv_text="Nieuwe kandidaat, heftruckchauffeur."))
        s.commit()
    v_now, c_all = _ids(engine)
    c_now = np.setdiff1d(c_all, [cands[4]])  # placed: out of the pool, row still there
    v_now = np.setdiff1d(v_now, [vacs[2]])
    with Session(engine) as s:
        changes = detect_changes(s, state, key=key, vacancy_ids=v_now, candidate_ids=c_now)
        new_id = int(np.setdiff1d(c_all, cands)[0])
        assert changes.incremental and changes.base_run_id == run
        assert changes.candidates.changed.tolist() == [int(cands[0]), new_id]
        assert changes.candidates.new.tolist() == [new_id]
        assert changes.candidates.erased.tolist() == [int(cands[1])]
        assert changes.candidates.left.tolist() == [int(cands[4])]
        assert changes.vacancies.left.tolist() == [int(vacs[2])]
        assert changes.vacancies.changed.tolist() == []
        args = changes.incremental_args()
        assert args["removed_candidate_ids"].tolist() == [int(cands[1]), int(cands[4])]
        assert args["changed_candidate_ids"].dtype == np.int64
        assert changes.as_counts()["erased_candidates"] == 1
        # other settings, a focus-list change, no state: full runs
        other = detect_changes(
            s, state, key=settings_key("m", K + 1, settings), vacancy_ids=v_now,
            candidate_ids=c_now,
        )  # fmt: skip
        assert not other.incremental and "top-k" in (other.full_reason or "")
        with pytest.raises(ValueError, match="no incremental run"):
            other.incremental_args()
        crud.log_change(s, "focus", 1, "upsert")
        s.commit()
        focus = detect_changes(s, state, key=key, vacancy_ids=v_now, candidate_ids=c_now)
        assert "focus" in (focus.full_reason or "")
        assert not detect_changes(
            s, None, key=key, vacancy_ids=v_now, candidate_ids=c_now
        ).incremental
    engine.dispose()


def test_bench_rematch_store_reports_both_stores_against_the_reference(db_url: str) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    result = CliRunner().invoke(
        app,
        ["bench-rematch-store", "--vacancies", "30", "--candidates", "90", "--top-k", "4",
         "--changed", "0.2", "--database-url", db_url, "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    [figures] = report["backends"]
    assert figures["database"] == db_url.split(":")[0].split("+")[0]
    assert figures["rows"] == 30 * 4 + 90 * 4
    for store in ("reference", "full", "incremental", "incremental_told_changed"):
        assert figures[store]["seconds"] > 0 and figures[store]["rows_per_s"] > 0
    incremental = figures["incremental"]
    assert incremental["rows_sent"] + incremental["rows_copied_in_database"] == figures["rows"]
    assert 0 < incremental["rows_sent"] < figures["rows"]
    assert incremental["rows_sent"] == 4 * incremental["changed_lists"]
    assert figures["full"]["speedup_vs_reference"] > 0
    assert len(report["load_average_before"]) == 3


def test_bench_rematch_store_refuses_bad_input_and_fails_on_errors() -> None:
    from typer.testing import CliRunner

    from service.cli import app

    runner = CliRunner()
    for args, needle in (
        (["--vacancies", "0"], "vacancies"),
        (["--top-k", "500"], "top-k"),
        (["--changed", "2"], "changed"),
        (["--database-url", "mysql://x/y"], "--database-url"),
    ):
        result = runner.invoke(app, ["bench-rematch-store", *args])
        assert result.exit_code == 2, result.output
        assert needle in result.output
    gone = runner.invoke(
        app,
        ["bench-rematch-store", "--vacancies", "2", "--candidates", "2",
         "--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/none"],
    )  # fmt: skip
    assert gone.exit_code == 1 and "bench-rematch-store failed" in gone.output
