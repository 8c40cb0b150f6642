"""``werkmatch bench-rematch``: a full rematch on synthetic data, then one after a share of the
CVs changed. Numbers come from here, never from tests."""

from __future__ import annotations

import dataclasses
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from matching.embedder import Encoder
from matching.geo import default_locator
from matching.rematch import (
    BLOCK_COLS,
    BLOCK_ROWS,
    DaskExecutor,
    Executor,
    LocalExecutor,
    RematchResult,
    SideColumns,
    rematch_full,
    rematch_incremental,
)
from service.batch.rematch_runs import run_rematch
from service.config import Settings
from service.store.db import make_engine, migrate
from service.tools.synthetic import insert_synthetic, synthetic_sides, touch_candidate_texts


def _one_run(
    engine: Engine, settings: Settings, encoder: Encoder, scheduler: str | None, top_k: int
) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    # the run as `werkmatch rematch` starts it (scheduler first, then the run slot)
    run = run_rematch(
        engine=engine,
        encoder=encoder,
        make_locator=default_locator,
        settings=settings,
        top_k=top_k,
        scheduler=scheduler,
        full=None,
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    matches = int(run.counts.get("matches", 0))
    return {
        "run_id": run.id,
        "state": run.state,
        "seconds": round(seconds, 2),
        # on a shared machine the wall clock says little: the CPU seconds of this process
        "cpu_s": round(cpu, 2),
        # the process's peak so far (this run's, or an earlier run's if that was higher)
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_after": os.getloadavg(),
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
    """Load synthetic rows into a fresh database, run twice (full, then incremental after
    ``changed`` of the CVs were rewritten), report the split and rates."""
    load_before = os.getloadavg()
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
        "load_average_before": load_before,
    }


# ---------------------------------------------------------------- --no-database: the core alone


def _change_candidates(cands: SideColumns, share: float, seed: int = 11) -> np.ndarray:
    """Give ``share`` of the candidates a new vector and travel limit (in place); their ids."""
    rng = np.random.default_rng(seed)
    n = max(1, round(share * len(cands))) if share > 0 else 0
    pos = np.sort(rng.choice(len(cands), n, replace=False))
    fresh = rng.standard_normal((n, cands.vectors.shape[1])).astype(np.float32)
    mixed = cands.vectors[pos] + 0.5 * fresh / np.sqrt(cands.vectors.shape[1])
    cands.vectors[pos] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    changed = []
    for i, p in enumerate(pos.tolist()):
        f = cands.store.get(int(cands.ids[p]))
        assert f is not None
        changed.append(dataclasses.replace(f, max_travel_km=[None, 15.0, 40.0][i % 3]))
    cands.store.upsert(changed)
    cands.__dict__.pop("max_norm", None)
    return cands.ids[pos]


def measured_gflops(seconds: float = 1.0) -> float:
    """This machine's float32 matrix product rate now, on one product block's shape."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((BLOCK_ROWS, 384), dtype=np.float32)
    b = rng.standard_normal((BLOCK_COLS, 384), dtype=np.float32)
    a @ b.T  # warm up
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        a @ b.T
        n += 1
    return 2 * BLOCK_ROWS * BLOCK_COLS * 384 * n / (time.perf_counter() - t) / 1e9


def _phase(result: RematchResult, seconds: float, cpu: float) -> dict[str, Any]:
    s = result.seconds
    rows = result.counts["vacancies"] + result.counts["candidates"]
    return {
        "seconds": round(seconds, 2),
        # on a shared machine the wall clock says little: the CPU seconds of this process
        "cpu_s": round(cpu, 2),
        "phases_s": {k: round(v, 2) for k, v in sorted(s.items())},
        "rows_per_s": round(rows / seconds, 1) if seconds else None,
        "counts": result.counts,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _same(a: RematchResult, b: RematchResult) -> list[str]:
    bad = []
    for name, x, y in (
        ("for_vacancy", a.for_vacancy, b.for_vacancy),
        ("for_candidate", a.for_candidate, b.for_candidate),
    ):
        for field in ("ids", "scores", "parts"):
            if not np.array_equal(getattr(x, field), getattr(y, field), equal_nan=True):
                bad.append(f"{name}.{field}")
    return bad


def bench_rematch_core(
    *,
    vacancies: int,
    candidates: int,
    top_k: int,
    changed: float,
    verify: bool,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """The rematch core alone on in-memory synthetic sides: a full run, an incremental run after
    ``changed`` of the candidates changed (and, with ``verify``, a full run on the changed data
    that must give the same result, and with a ``scheduler`` also a full run in this process
    that must give what the cluster's gave). Raises RuntimeError when the runs disagree."""
    load_before = os.getloadavg()
    t = time.perf_counter()
    vacs, cands = synthetic_sides(vacancies, candidates)
    build_s = time.perf_counter() - t
    gflops = measured_gflops()
    with _executor(scheduler) as executor:
        t, c = time.perf_counter(), time.process_time()
        full = rematch_full(vacs, cands, top_k, executor)
        full_s, full_cpu = time.perf_counter() - t, time.process_time() - c
        ids = _change_candidates(cands, changed)
        t, c = time.perf_counter(), time.process_time()
        inc = rematch_incremental(vacs, cands, top_k, full.state, [], ids, executor=executor)
        inc_s, inc_cpu = time.perf_counter() - t, time.process_time() - c
        report: dict[str, Any] = {
            "vacancies": vacancies,
            "candidates": candidates,
            "top_k": top_k,
            "scheduler": scheduler,
            "build_sides_s": round(build_s, 1),
            "float32_gflops_measured": round(gflops, 1),
            "product_flop": 2.0 * vacancies * candidates * vacs.vectors.shape[1],
            "product_bound_s": round(2.0 * vacancies * candidates * 384 / (gflops * 1e9), 1),
            "full_run": _phase(full, full_s, full_cpu),
            "changed_candidates": len(ids),
            "incremental_run": _phase(inc, inc_s, inc_cpu),
        }
        if verify:
            t = time.perf_counter()
            again = rematch_full(vacs, cands, top_k, executor)
            report["verify_full_run_s"] = round(time.perf_counter() - t, 2)
            bad = _same(inc, again)
            report["incremental_equals_full"] = not bad
            if bad:
                raise RuntimeError(f"incremental run differs from a full run in {bad}")
            if scheduler is not None:  # the cluster's full run against one in this process
                t, c = time.perf_counter(), time.process_time()
                here = rematch_full(vacs, cands, top_k, LocalExecutor())
                report["verify_in_process_run"] = _phase(
                    here, time.perf_counter() - t, time.process_time() - c
                )
                bad = _same(again, here)
                report["cluster_equals_in_process"] = not bad
                if bad:
                    raise RuntimeError(f"the cluster's run differs from in-process in {bad}")
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    return report


@contextmanager
def _executor(scheduler: str | None) -> Iterator[Executor]:
    if scheduler is None:
        yield LocalExecutor()
        return
    from distributed import Client

    client = Client(scheduler, timeout="10s")
    try:
        yield DaskExecutor(client)
    finally:
        client.close()
