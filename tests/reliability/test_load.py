"""A short load run (CI version of `werkmatch loadtest`) against a real 2-worker server on
PostgreSQL: zero 5xx, every acknowledged write present and matchable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.tools.loadtest import run_load
from tests.reliability.processes import ServerProcess


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_short_load_run(db_url: str, tmp_path: Path) -> None:
    server = ServerProcess(
        {
            "WERKMATCH_DATABASE_URL": db_url,
            "WERKMATCH_DATA_DIR": str(tmp_path / "data"),
            # the limiter stays on (counted in the database across both workers) but high
            "WERKMATCH_RATE_LIMIT_REQUESTS": "1000000",
        },
        tmp_path / "server.log",
    ).start()
    try:
        server.wait_ready()
        result = run_load(server.base, seconds=10, clients=16, key=server.key)
        summary = result.summary()
        print("\nload:", json.dumps(summary))
        assert summary["server_errors_5xx"] == 0, (summary, server.log())
        assert summary["transport_errors"] == 0 and not summary["verify_failures"]
        assert summary["writes_found"] == summary["writes_acknowledged_present"] > 0
        assert summary["workers_seen"] == 2
        ops = summary["by_operation"]
        assert {"write", "delete", "match_vacancy", "match_candidate"} <= set(ops)
        short = CliRunner().invoke(
            app, ["loadtest", "--url", server.base, "--seconds", "2", "--clients", "4",
                  "--seed", "2", "--json", "--key", server.key or ""],
        )  # fmt: skip
        assert short.exit_code == 0, short.output
        assert json.loads(short.output.strip().splitlines()[-1])["requests"] > 0
    finally:
        server.stop()


def test_loadtest_bad_input() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["loadtest", "--clients", "0"]).exit_code == 2
    assert runner.invoke(app, ["loadtest", "--seconds", "0"]).exit_code == 2
    result = runner.invoke(app, ["loadtest", "--url", "http://127.0.0.1:1", "--seconds", "1"])
    assert result.exit_code == 2 and "cannot load" in result.output
