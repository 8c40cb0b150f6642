"""A revoked key is refused on the very next request in every worker (docs/security.md): the key
is read with the change-log position in one statement per request, never cached. Revoked
through the CLI and through plain SQL, after both workers of a real server have served it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.auth import make_token
from tests.reliability.processes import ROOT, ServerProcess, fresh_client

URL = "/v1/focus-occupations"


def _by_worker(server: ServerProcess, token: str, until_each: int) -> dict[str, list[int]]:
    """Statuses per worker, over fresh connections, until each worker answered ``until_each``
    requests (at most 200 requests)."""
    seen: dict[str, list[int]] = {}
    with fresh_client(30, key=token) as http:
        for _ in range(200):
            r = http.get(f"{server.base}{URL}")
            seen.setdefault(r.headers["x-werkmatch-worker"], []).append(r.status_code)
            if len(seen) == server.workers and min(map(len, seen.values())) >= until_each:
                break
    assert len(seen) == server.workers, f"requests did not reach every worker: {seen}"
    return seen


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_revocation_reaches_every_worker_on_the_next_request(db_url: str, tmp_path: Path) -> None:
    env = {"WERKMATCH_DATABASE_URL": db_url, "WERKMATCH_DATA_DIR": str(tmp_path / "data")}
    server = ServerProcess(env, tmp_path / "server.log").start()
    try:
        assert len(server.wait_ready()) == 2
        by_cli, by_sql, kept = (make_token(db_url, "director") for _ in range(3))
        for token in (by_cli, by_sql, kept):  # served by each worker before the revocation
            assert all(set(c) == {200} for c in _by_worker(server, token, 2).values())

        kid = by_cli.split("_")[1]
        revoke = subprocess.run(
            [sys.executable, "-m", "service", "keys", "revoke", kid],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert revoke.returncode == 0, revoke.stderr
        assert all(set(c) == {401} for c in _by_worker(server, by_cli, 2).values())
        assert all(set(c) == {200} for c in _by_worker(server, kept, 1).values())

        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP WHERE id = :kid"),
                {"kid": by_sql.split("_")[1]},
            )
        engine.dispose()
        assert all(set(c) == {401} for c in _by_worker(server, by_sql, 2).values())
        assert all(set(c) == {200} for c in _by_worker(server, kept, 1).values())
    finally:
        server.stop()
