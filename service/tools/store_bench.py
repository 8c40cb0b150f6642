"""``werkmatch bench-rematch-store``: how fast a rematch run's matches are stored, per database.

On synthetic lists (both directions, top-k each) it times, in the same run and database:

* the reference: the rows inserted as parameter dicts through SQLAlchemy, one transaction
  per batch of queries (how runs stored their matches before :mod:`service.store.rematch_store`);
* a full store (:func:`service.store.rematch_store.store_result`);
* an incremental store after a share of the lists changed, once comparing with the previous
  run's lists and once told which lists changed.

It checks that the incremental stores left exactly the rows a full store of the same lists
leaves, with the same new/unchanged/disappeared diff, and raises otherwise. Numbers come from
here, never from tests.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from service.store.bulk_rows import all_ids, insert_rows
from service.store.db import make_engine, migrate
from service.store.models import Candidate, Vacancy
from service.store.rematch_models import FOR_CANDIDATE, FOR_VACANCY, RematchMatch
from service.store.rematch_runs import diff_counts, differing_match_rows, record_finished_run
from service.store.rematch_store import MATCH_COLUMNS, TopK, match_columns, store_result
from service.tools.synthetic import insert_synthetic, synthetic_topk

REFERENCE_BATCH_QUERIES = 512  # the default rematch_batch_max_queries: one transaction each


class StoreBenchFailed(RuntimeError):
    """A store left other rows than the full store of the same lists."""


def _changed(rng: np.random.Generator, topk: TopK, share: float) -> tuple[TopK, np.ndarray]:
    """``topk`` with a share of its lists altered (top score moved, last target swapped for
    the first of the next list's), and the bool mask of those lists."""
    mask = rng.random(len(topk)) < share
    scores, targets = topk.scores.copy(), topk.target_ids.copy()
    rows = np.flatnonzero(mask)
    scores[rows, 0] += np.float32(0.001)
    swap = rows[(rows % 2 == 0) & (topk.k > 1)]
    if len(swap):
        donor = targets[(swap + 1) % len(topk), 0]
        clash = (targets[swap] == donor[:, None]).any(axis=1)
        targets[swap[~clash], -1] = donor[~clash]
    return TopK(topk.direction, topk.query_ids, targets, scores, topk.parts), mask


def _reference_store(engine: Engine, run_id: int, lists: list[TopK]) -> int:
    rows = 0
    for topk in lists:
        for start in range(0, len(topk), REFERENCE_BATCH_QUERIES):
            cols = match_columns(topk.slice(start, start + REFERENCE_BATCH_QUERIES), run_id)
            values = [
                dict(zip(MATCH_COLUMNS, r, strict=True))
                for r in zip(*(cols[c].tolist() for c in MATCH_COLUMNS), strict=True)
            ]
            with Session(engine) as s:
                if values:
                    insert_rows(s, RematchMatch, values)
                s.commit()
            rows += len(values)
    return rows


def _rate(rows: int, seconds: float) -> float | None:
    return round(rows / seconds, 1) if seconds > 0 else None


def bench_database(
    url: str, *, vacancies: int, candidates: int, top_k: int, changed: float, seed: int = 5
) -> dict[str, Any]:
    """One database's figures (see the module docstring); ``url`` must hold no rows yet."""
    engine = make_engine(url)
    try:
        migrate(url)
        insert_synthetic(
            engine, model_id="bench-store", dim=8, vacancies=vacancies, candidates=candidates
        )
        with Session(engine) as s:
            vacs = np.array(sorted(all_ids(s, Vacancy)), dtype=np.int64)
            cands = np.array(sorted(all_ids(s, Candidate)), dtype=np.int64)
        rng = np.random.default_rng(seed)
        before = [
            synthetic_topk(rng, FOR_VACANCY, vacs, cands, top_k),
            synthetic_topk(rng, FOR_CANDIDATE, cands, vacs, top_k),
        ]
        rows = sum(t.matches for t in before)

        reference_run = record_finished_run(engine, top_k, "bench-rematch-store")
        t = time.perf_counter()
        reference_rows = _reference_store(engine, reference_run, before)
        reference_s = time.perf_counter() - t

        full_run = record_finished_run(engine, top_k, "bench-rematch-store")
        t = time.perf_counter()
        full = store_result(engine, full_run, before)
        full_s = time.perf_counter() - t
        if reference_rows != rows or full.written != rows:
            raise StoreBenchFailed(f"stored {full.written} and {reference_rows} of {rows} rows")
        if differing := differing_match_rows(engine, reference_run, full_run):
            raise StoreBenchFailed(f"the full store and the reference differ in {differing} rows")

        pairs = [_changed(rng, t, changed) for t in before]
        after = [p[0] for p in pairs]
        masks = {t.direction: m for t, (_, m) in zip(after, pairs, strict=True)}
        check_run = record_finished_run(engine, top_k, "bench-rematch-store")
        store_result(engine, check_run, after)
        incremental_run = record_finished_run(engine, top_k, "bench-rematch-store")
        t = time.perf_counter()
        incremental = store_result(engine, incremental_run, after, base_run=full_run)
        incremental_s = time.perf_counter() - t
        told_run = record_finished_run(engine, top_k, "bench-rematch-store")
        t = time.perf_counter()
        told = store_result(engine, told_run, after, base_run=full_run, changed=masks)
        told_s = time.perf_counter() - t
        for run in (incremental_run, told_run):
            if differing := differing_match_rows(engine, check_run, run):
                raise StoreBenchFailed(
                    f"an incremental store differs from the full one in {differing} rows"
                )
        with Session(engine) as s:
            diffs = [diff_counts(s, r, full_run) for r in (check_run, incremental_run, told_run)]
        if diffs[0] != diffs[1] or diffs[0] != diffs[2]:
            raise StoreBenchFailed(f"the diffs differ: {diffs}")
        changed_lists = int(sum(m.sum() for m in masks.values()))
    finally:
        engine.dispose()
    return {
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "rows": rows,
        "reference": {"seconds": round(reference_s, 3), "rows_per_s": _rate(rows, reference_s)},
        "full": {
            "seconds": round(full_s, 3),
            "rows_per_s": _rate(rows, full_s),
            "speedup_vs_reference": round(reference_s / full_s, 2) if full_s else None,
            "chunks": full.chunks,
        },
        "incremental": {
            "changed_lists": changed_lists,
            "seconds": round(incremental_s, 3),
            "rows_per_s": _rate(rows, incremental_s),
            "rows_sent": incremental.written,
            "rows_copied_in_database": incremental.carried,
            "speedup_vs_reference": round(reference_s / incremental_s, 2)
            if incremental_s
            else None,
            "speedup_vs_full": round(full_s / incremental_s, 2) if incremental_s else None,
        },
        "incremental_told_changed": {
            "seconds": round(told_s, 3),
            "rows_per_s": _rate(rows, told_s),
            "rows_sent": told.written,
            "speedup_vs_reference": round(reference_s / told_s, 2) if told_s else None,
            "speedup_vs_full": round(full_s / told_s, 2) if told_s else None,
        },
        "diff_new_unchanged_disappeared": [
            diffs[0][k] for k in ("new", "unchanged", "disappeared")
        ],
    }


def bench_rematch_store(
    *,
    database_urls: list[str],
    vacancies: int,
    candidates: int,
    top_k: int,
    changed: float,
) -> dict[str, Any]:
    """Figures per database (a temporary SQLite one when ``database_urls`` is empty)."""
    with tempfile.TemporaryDirectory(prefix="werkmatch-store-bench-") as tmp:
        urls = database_urls or [f"sqlite:///{Path(tmp) / 'bench.db'}"]
        load_before = os.getloadavg()
        results = [
            bench_database(
                url, vacancies=vacancies, candidates=candidates, top_k=top_k, changed=changed
            )
            for url in urls
        ]
    return {
        "vacancies": vacancies,
        "candidates": candidates,
        "top_k": top_k,
        "changed_share": changed,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "backends": results,
    }
