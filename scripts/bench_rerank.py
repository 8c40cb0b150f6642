"""Facts memory and re-rank time: per-row fact objects and the per-pair scorer against the
columnar store and the pool-at-once ranker, on the same synthetic candidates.

    .venv/bin/python scripts/bench_rerank.py --sizes 10000,100000

Candidates are made up (``service.tools.synthetic.worded_candidates``: occupations, skills and
CV texts of those words and a long tail of rare words). For each size it prints one JSON object:
the traced Python memory the facts take as a dict of objects (before) and as a FactStore
(after), and the time to re-rank a pool of 100 for a top 20 with explanations, before
(``score_pair`` for the whole pool, as the matcher did) and after (``score_pool`` for the pool,
explanations for the 20 returned).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from matching.facts import FactStore
from matching.profiles import CandidateFacts, VacancyFacts
from matching.ranking import UNCALIBRATED, explained
from matching.rerank import score_pool, top
from service.tools.synthetic import worded_candidates as candidates

# the per-pair scorer compared against is the test oracle, kept under tests/ (not installed)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.oracle.ranking_oracle import rank, score_pair

POOL, LIMIT = 100, 20
CALIBRATION = UNCALIBRATED  # the weights file's top-level weights


def traced(build: object) -> tuple[object, float]:
    gc.collect()
    tracemalloc.start()
    kept = build() if callable(build) else None
    gc.collect()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return kept, size / 2**20


def store_of(n: int, seed: int) -> FactStore[CandidateFacts]:
    store: FactStore[CandidateFacts] = FactStore("candidate", capacity=n + 1)
    chunk: list[CandidateFacts] = []
    for f in candidates(n, seed):
        chunk.append(f)
        if len(chunk) == 5000:
            store.upsert(chunk)
            chunk = []
    store.upsert(chunk)
    return store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        facts, before_mb = traced(lambda n=n: {f.id: f for f in candidates(n, 1)})
        store, after_mb = traced(lambda n=n: store_of(n, 1))
        assert isinstance(facts, dict) and isinstance(store, FactStore)
        rng = np.random.default_rng(2)
        queries = [
            VacancyFacts(
                id=0, employer_id="e", external_id=f"q{i}", title=c.side.occupations[0],
                side=c.side, skills=c.skills, languages=("nl",), hours=32,
                requires_driving_licence=False, kind="regular", status="open",
            )
            for i, c in enumerate(candidates(args.queries, 3))
        ]  # fmt: skip
        old_ms, new_ms = [], []
        for q in queries:
            rows = np.sort(rng.choice(np.arange(1, n + 1), POOL, replace=False)).astype(np.int64)
            cos = rng.uniform(0.2, 0.9, POOL)
            t = time.perf_counter()
            scored = [
                (int(i), score_pair(vacancy_side=q.side, cand_side=facts[int(i)].side,
                                    cosine=float(c), query_is_vacancy=True,
                                    calibration=CALIBRATION, vacancy=q,
                                    cand=facts[int(i)]))
                for i, c in zip(rows, cos, strict=True)
            ]  # fmt: skip
            want = rank(scored, LIMIT, None)
            old_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            pool = score_pool(store, q.side, rows, cos, CALIBRATION)
            got = []
            for r in top(pool, LIMIT, None).tolist():
                c = store.get(int(pool.rows[r]))
                assert c is not None
                got.append(
                    (c.id, explained(pool.signal_dict(r), score=float(pool.score[r]),
                                     vacancy_side=q.side, cand_side=c.side,
                                     query_is_vacancy=True, calibration=CALIBRATION,
                                     vacancy=q, cand=c))
                )  # fmt: skip
            new_ms.append((time.perf_counter() - t) * 1000)
            assert [i for i, _ in got] == [i for i, _ in want]
        print(
            json.dumps(
                {
                    "size": n,
                    "facts_dict_mb": round(before_mb, 1),
                    "fact_store_mb": round(after_mb, 1),
                    "fact_store_arrays_mb": round(store.nbytes() / 2**20, 1),
                    "rerank_before_p50_ms": round(statistics.median(old_ms), 2),
                    "rerank_before_p99_ms": round(float(np.percentile(old_ms, 99)), 2),
                    "rerank_after_p50_ms": round(statistics.median(new_ms), 2),
                    "rerank_after_p99_ms": round(float(np.percentile(new_ms, 99)), 2),
                    "pool": POOL,
                    "limit": LIMIT,
                    "queries": len(queries),
                }
            ),
            flush=True,
        )
        del facts, store


if __name__ == "__main__":
    main()
