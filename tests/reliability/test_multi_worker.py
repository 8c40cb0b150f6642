"""`werkmatch serve --workers 2` on PostgreSQL: a write acknowledged by one worker is visible
to a match query answered by the other right after; deletes likewise."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import candidate, vacancy
from tests.reliability.processes import ServerProcess, fresh_client

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

ROUNDS_MAX = 80
CROSS_WANTED = 6


def test_write_on_one_worker_read_on_the_other(db_url: str, tmp_path: Path) -> None:
    server = ServerProcess(
        {"WERKMATCH_DATABASE_URL": db_url, "WERKMATCH_DATA_DIR": str(tmp_path / "data")},
        tmp_path / "server.log",
    ).start()
    try:
        pids = server.wait_ready()
        assert len(pids) == 2
        base = server.base
        matches = f"{base}/v1/employers/e1/vacancies/v1/matches"
        with fresh_client(key=server.key) as http:
            assert (
                http.put(f"{base}/v1/employers/e1/vacancies/v1", json=vacancy()).status_code == 201
            )
            cross_writes = cross_deletes = 0
            for i in range(ROUNDS_MAX):
                w = http.put(f"{base}/v1/candidates/mw{i}", json=candidate())
                assert w.status_code == 201, w.text
                r = http.get(matches, params={"limit": 200})
                assert r.status_code == 200, r.text
                assert f"mw{i}" in {m["candidate_id"] for m in r.json()["data"]}, (i, w.headers)
                cross_writes += w.headers["x-werkmatch-worker"] != r.headers["x-werkmatch-worker"]

                d = http.delete(f"{base}/v1/candidates/mw{i}")
                assert d.status_code == 204
                r = http.get(matches, params={"limit": 200})
                assert r.status_code == 200
                assert f"mw{i}" not in {m["candidate_id"] for m in r.json()["data"]}
                cross_deletes += d.headers["x-werkmatch-worker"] != r.headers["x-werkmatch-worker"]
                if min(cross_writes, cross_deletes) >= CROSS_WANTED:
                    break
            # both directions were really exercised across processes, not within one
            assert cross_writes >= CROSS_WANTED and cross_deletes >= CROSS_WANTED
        from typer.testing import CliRunner

        from service.cli import app

        runner = CliRunner()
        result = runner.invoke(app, ["check", "--url", base, "--workers", "2", "--probes", "400"])
        assert result.exit_code == 0, result.output
        assert result.output.count("worker ") == 2 and "reached 2 of 2 workers" in result.output
        # a worker the probes never reach is a failed check, not a pass on the ones they did
        result = runner.invoke(app, ["check", "--url", base, "--workers", "3", "--probes", "30"])
        assert result.exit_code == 1, result.output
        assert "reached 2 of 3 workers in 30 probes" in result.output
    finally:
        server.stop()
    assert server.proc is not None and server.proc.returncode is not None
