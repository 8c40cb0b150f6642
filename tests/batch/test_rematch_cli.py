"""`werkmatch rematch`: resume after SIGKILL, the conflict exit code, bad options; on SQLite and
PostgreSQL with a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session
from typer.testing import CliRunner

from matching.embedder import Encoder
from service.batch.rematch_runs import claim_run, diff_counts
from service.cli import app
from service.config import get_settings
from service.store.db import make_engine
from service.store.models import Candidate, Vacancy
from service.store.rematch_models import RematchMatch, RematchRun
from service.tools.synthetic import insert_synthetic, touch_candidate_texts

runner = CliRunner()


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {
        "WERKMATCH_DATABASE_URL": db_url,
        "WERKMATCH_DATA_DIR": str(tmp_path / "data"),
        # many small batches, so a kill lands half-way
        "WERKMATCH_REMATCH_BATCH_MAX_QUERIES": "8",
        "WERKMATCH_LOG_LEVEL": "WARNING",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def _rows(db_url: str, run_id: int) -> list[tuple]:
    engine = make_engine(db_url)
    with Session(engine) as s:
        rows = s.execute(
            select(
                RematchMatch.direction,
                RematchMatch.vacancy_id,
                RematchMatch.candidate_id,
                RematchMatch.rank,
                RematchMatch.score,
            ).where(RematchMatch.run_id == run_id)
        ).all()
    engine.dispose()
    return sorted(tuple(r) for r in rows)


def _run(db_url: str, run_id: int) -> RematchRun:
    engine = make_engine(db_url)
    with Session(engine) as s:
        run = s.get(RematchRun, run_id)
        assert run is not None
    engine.dispose()
    return run


def test_run_killed_with_sigkill_resumes_without_duplicates_or_losses(
    env: dict[str, str], db_url: str, encoder: Encoder
) -> None:
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=150,
                     candidates=1500)  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "rematch", "--top-k", "5"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        with Session(engine) as s:
            run = s.execute(select(RematchRun)).scalars().first()
            if run is not None and run.batches_total and run.batches_done >= 15:
                os.kill(proc.pid, signal.SIGKILL)
                killed_at = run.batches_done
                break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=30)  # reads and closes the stderr pipe
    assert killed_at is not None, f"no kill: rc={proc.returncode} {err!r}"
    engine.dispose()
    half = _run(db_url, 1)
    assert half.state == "running" and half.batches_done < half.batches_total

    result = runner.invoke(app, ["rematch", "--json"])
    assert result.exit_code == 0, result.output
    resumed = json.loads(result.stdout.strip().splitlines()[-1])
    assert resumed["run_id"] == 1 and resumed["resumed"] == 1 and resumed["state"] == "succeeded"
    assert resumed["batches_done"] == resumed["batches_total"]
    assert resumed["top_k"] == 5  # the run keeps its own top-k

    # an uninterrupted run over the same data stores exactly the same matches
    fresh = runner.invoke(app, ["rematch", "--top-k", "5", "--json"])
    assert fresh.exit_code == 0, fresh.output
    out = json.loads(fresh.stdout.strip().splitlines()[-1])
    first, second = _rows(db_url, 1), _rows(db_url, out["run_id"])
    assert len(first) == len(set(first)) == resumed["counts"]["matches"]
    assert [r[:4] for r in first] == [r[:4] for r in second]
    assert [r[4] for r in first] == pytest.approx([r[4] for r in second], abs=1e-4)
    assert (out["counts"]["new"], out["counts"]["disappeared"]) == (0, 0)
    assert out["counts"]["texts_embedded"] == 0

    # 2 % of the CVs change behind the model's back: exactly those are re-embedded
    engine = make_engine(db_url)
    changed = touch_candidate_texts(engine, 0.02)
    engine.dispose()
    third = runner.invoke(app, ["rematch", "--top-k", "5", "--json"])
    assert third.exit_code == 0, third.output
    counts = json.loads(third.stdout.strip().splitlines()[-1])["counts"]
    assert changed == 30 and counts["outdated_candidates"] == counts["texts_embedded"] == changed


def test_conflict_and_bad_options(env: dict[str, str], db_url: str) -> None:
    for args, needle in (
        (["rematch", "--top-k", "0"], "top-k"),
        (["rematch", "--top-k", "abc"], "top-k"),
        (["rematch", "--scheduler", "localhost:8786"], "tcp://"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert needle in result.output
    engine = make_engine(db_url)
    run_id, _ = claim_run(engine, 5, 900)
    engine.dispose()
    busy = runner.invoke(app, ["rematch"])
    assert busy.exit_code == 3 and f"rematch run {run_id} is in progress" in busy.output
    # an unreachable cluster fails before taking a run slot
    gone = runner.invoke(app, ["rematch", "--scheduler", "tcp://127.0.0.1:1"])
    assert gone.exit_code == 4 and "cannot reach Dask scheduler" in gone.output


def test_retention_keeps_the_last_n_runs(
    env: dict[str, str], db_url: str, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERKMATCH_REMATCH_KEEP_RUNS", "2")
    get_settings.cache_clear()
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=20,
                     candidates=60)  # fmt: skip
    for _ in range(3):
        result = runner.invoke(app, ["rematch", "--top-k", "3", "--json"])
        assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["counts"]["pruned_runs"] == 1
    with Session(engine) as s:
        runs = s.execute(select(RematchRun.id)).scalars().all()
        kept = set(s.execute(select(RematchMatch.run_id).distinct()).scalars().all())
    engine.dispose()
    assert sorted(runs) == [2, 3] and kept == {2, 3}


def test_bench_rejects_bad_sizes(env: dict[str, str]) -> None:
    for args in (["--vacancies", "0"], ["--candidates", "-5"], ["--changed", "2"]):
        result = runner.invoke(app, ["bench-rematch", *args])
        assert result.exit_code == 2, result.output


def test_incremental_run_stores_what_a_full_run_stores(
    env: dict[str, str], db_url: str, encoder: Encoder
) -> None:
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=40,
                     candidates=300)  # fmt: skip
    engine.dispose()
    # nothing to build on yet: --incremental is refused before a run starts
    refused = runner.invoke(app, ["rematch", "--top-k", "5", "--incremental"])
    assert refused.exit_code == 2 and "--full" in refused.output, refused.output
    assert not _rows(db_url, 1)

    def run(*args: str) -> dict:
        result = runner.invoke(app, ["rematch", "--top-k", "5", "--json", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout.strip().splitlines()[-1])

    first = run("--full")
    assert first["counts"]["incremental"] is False
    # the night: CVs rewritten (re-embedded, so in the change log), a vacancy closed
    engine = make_engine(db_url)
    touch_candidate_texts(engine, 0.05)
    with Session(engine) as s:
        s.execute(update(Vacancy).where(Vacancy.id == 3).values(status="closed"))
        s.commit()
        # the rewritten CVs of candidates in the pool (active ones)
        rewritten = s.execute(
            select(func.count()).where(
                Candidate.cv_text.like("%Recent een cursus klantvriendelijkheid."),  # type: ignore[attr-defined]
                Candidate.active.is_(True),  # type: ignore[attr-defined]
            )
        ).scalar_one()
    engine.dispose()
    incremental = run()  # the default: incremental, the first run left its state
    counts = incremental["counts"]
    assert counts["incremental"] is True, counts.get("full_reason")
    assert counts["base_run_id"] == first["run_id"]
    assert counts["texts_embedded"] == 15 and 0 < rewritten <= 15
    assert counts["changed_candidates"] == rewritten and counts["left_vacancies"] == 1
    assert counts["stored_rows_carried"] > counts["stored_rows_written"] > 0
    assert counts["stored_rows_carried"] + counts["stored_rows_written"] == counts["matches"]
    full = run("--full")
    assert full["counts"]["incremental"] is False
    assert full["counts"]["stored_rows_carried"] == 0
    a, b = _rows(db_url, incremental["run_id"]), _rows(db_url, full["run_id"])
    assert len(a) == counts["matches"] > 0
    assert [r[:4] for r in a] == [r[:4] for r in b]
    assert [r[4] for r in a] == pytest.approx([r[4] for r in b], abs=1e-6)
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert diff_counts(s, incremental["run_id"], first["run_id"]) == diff_counts(
            s, full["run_id"], first["run_id"]
        )
    engine.dispose()
    assert {k: counts[k] for k in ("new", "unchanged", "disappeared")} == diff_counts_of(
        db_url, full["run_id"], first["run_id"]
    )


def diff_counts_of(db_url: str, run_id: int, base: int) -> dict[str, int]:
    engine = make_engine(db_url)
    with Session(engine) as s:
        c = diff_counts(s, run_id, base)
    engine.dispose()
    return {k: c[k] for k in ("new", "unchanged", "disappeared")}
