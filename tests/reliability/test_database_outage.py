"""PostgreSQL goes away under a running 2-worker server: every request that needs the database
gets 503 with Retry-After (never a 500, a stack trace or an answer from stale state), and the
service recovers by itself when the database is back. Uses a private cluster on its own port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import CARE_CV, candidate, vacancy
from tests.reliability.processes import PrivatePostgres, ServerProcess, eventually, fresh_client


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        pg.start()
        pg.create_database()
        yield pg
    finally:
        pg.destroy()


def _requests(http: httpx.Client, base: str) -> list[httpx.Response]:
    return [
        http.get(f"{base}/readyz"),
        http.get(f"{base}/v1/candidates/c1"),
        http.get(f"{base}/v1/candidates"),
        http.get(f"{base}/v1/candidates/c1/matches"),
        http.get(f"{base}/v1/employers/e1/vacancies/v1/matches"),
        http.post(f"{base}/v1/match", json={"text": "heftruck magazijn", "target": "candidates"}),
        http.put(f"{base}/v1/candidates/during", json=candidate(cv_text=CARE_CV)),
        http.delete(f"{base}/v1/candidates/c1"),
    ]


def test_outage_gives_503_with_retry_after_and_recovers(
    private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    server = ServerProcess(
        {"WERKMATCH_DATABASE_URL": private_pg.url, "WERKMATCH_DATA_DIR": str(tmp_path / "d")},
        tmp_path / "server.log",
    ).start()
    try:
        server.wait_ready()
        base = server.base
        with fresh_client(key=server.key) as http:
            assert (
                http.put(f"{base}/v1/employers/e1/vacancies/v1", json=vacancy()).status_code == 201
            )
            assert http.put(f"{base}/v1/candidates/c1", json=candidate()).status_code == 201

            private_pg.stop()
            workers: set[str] = set()
            for _ in range(6):  # enough rounds to reach both workers
                for resp in _requests(http, base):
                    assert resp.status_code == 503, (resp.request.url, resp.text)
                    assert int(resp.headers["retry-after"]) > 0
                    assert "Traceback" not in resp.text and "psycopg" not in resp.text
                    workers.add(resp.headers["x-werkmatch-worker"])
                assert http.get(f"{base}/healthz").status_code == 200  # alive, just not ready
            assert len(workers) == 2

            private_pg.start()

            def recovered() -> bool:
                seen = set()
                for _ in range(8):
                    r = http.get(f"{base}/readyz")
                    if r.status_code != 200:
                        return False
                    seen.add(r.headers["x-werkmatch-worker"])
                return len(seen) == 2

            assert eventually(recovered, timeout=60), server.log()
            assert http.get(f"{base}/v1/candidates/during").status_code == 404  # was not acked
            assert http.put(f"{base}/v1/candidates/after", json=candidate()).status_code == 201
            for _ in range(4):
                r = http.get(f"{base}/v1/employers/e1/vacancies/v1/matches")
                assert r.status_code == 200
                assert {m["candidate_id"] for m in r.json()["data"]} == {"c1", "after"}
    finally:
        server.stop()
