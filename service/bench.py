"""``werkmatch bench-rematch``: a full rematch on synthetic data, then one after a share of the
CVs changed. Numbers come from here, never from tests."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from matching.embedder import Encoder
from matching.geo import default_locator
from service.config import Settings
from service.db import make_engine, migrate
from service.rematch_runs import claim_run, execute_run, executor_for
from service.synthetic import insert_synthetic, touch_candidate_texts


def _one_run(
    engine: Engine, settings: Settings, encoder: Encoder, scheduler: str | None, top_k: int
) -> dict[str, Any]:
    started = time.perf_counter()
    with executor_for(settings, encoder, scheduler) as executor:
        run_id, _ = claim_run(engine, top_k, settings.rematch_stale_after_s)
        run = execute_run(
            engine=engine,
            run_id=run_id,
            encoder=encoder,
            locator=default_locator(),
            settings=settings,
            executor=executor,
        )
    seconds = time.perf_counter() - started
    matches = int(run.counts.get("matches", 0))
    return {
        "run_id": run_id,
        "state": run.state,
        "seconds": round(seconds, 2),
        "timings": run.timings,
        "matches": matches,
        "rows_per_s": round(matches / seconds, 1) if seconds else None,
        "queries_per_s": round(
            (run.counts.get("vacancies", 0) + run.counts.get("candidates", 0)) / seconds, 1
        ),
        "counts": run.counts,
    }


def bench_rematch(
    *,
    settings: Settings,
    encoder: Encoder,
    vacancies: int,
    candidates: int,
    top_k: int,
    changed: float,
    scheduler: str | None,
    database_url: str | None,
) -> dict[str, Any]:
    """Load synthetic rows into a fresh database, run twice, report the split and rates."""
    with tempfile.TemporaryDirectory(prefix="werkmatch-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate(url)
        t = time.perf_counter()
        insert_synthetic(
            engine,
            model_id=encoder.model_id,
            dim=encoder.dim,
            vacancies=vacancies,
            candidates=candidates,
        )
        load_s = time.perf_counter() - t
        s = settings.model_copy(update={"database_url": url})
        full = _one_run(engine, s, encoder, scheduler, top_k)
        touched = touch_candidate_texts(engine, changed)
        again = _one_run(engine, s, encoder, scheduler, top_k)
        engine.dispose()
    return {
        "vacancies": vacancies,
        "candidates": candidates,
        "top_k": top_k,
        "scheduler": scheduler,
        "database": url.split(":", 1)[0],
        "synthetic_load_s": round(load_s, 1),
        "full_run": full,
        "changed_candidate_texts": touched,
        "run_after_change": again,
    }
