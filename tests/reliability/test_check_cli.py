"""`werkmatch check`: the snapshot on disk (replayed) against the database; exit 1 on drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.embedder import Encoder
from matching.geo import default_locator
from service.cli import app
from service.config import Settings, get_settings
from service.state.index_state import IndexState
from service.state.snapshot import snapshot_path
from service.store.db import make_engine
from tests.auth import api_client
from tests.factories import candidate, vacancy

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _seed(settings: Settings, encoder: Encoder) -> None:
    with api_client(settings, encoder) as c:
        for i in range(3):
            assert c.put(f"/v1/candidates/c{i}", json=candidate()).status_code == 201
        assert c.put("/v1/employers/e1/vacancies/v1", json=vacancy()).status_code == 201


def _check(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", *args])
    return result.exit_code, result.output


def test_check_passes_on_a_consistent_snapshot(env: Settings, encoder: Encoder) -> None:
    code, out = _check()
    assert code == 0 and "loaded from database" in out  # no snapshot yet: nothing to drift
    _seed(env, encoder)
    code, out = _check("--json")
    assert code == 0, out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["loaded_from"] == "snapshot" and report["check"]["ok"]
    assert report["check"]["candidate"] == {"db": 3, "index": 3, "vectors": 3}
    assert report["check"]["seq"] == report["check"]["db_seq"] > 0


def test_check_fails_on_drift_and_on_a_corrupt_snapshot(env: Settings, encoder: Encoder) -> None:
    _seed(env, encoder)
    state = IndexState(
        make_engine(env.resolved_database_url()),
        encoder,
        default_locator(),
        env.focus_threshold,
        data_dir=env.data_dir,
    )
    state.start()
    state.matcher.vacancies.remove(list(state.matcher.vacancies.facts))  # id map loses a row
    state.write_snapshot(force=True)
    code, out = _check()
    assert code == 1 and "DRIFT vacancy: 1 ids missing" in out and out.strip().endswith("FAILED")
    path: Path = snapshot_path(env.data_dir, encoder.model_id)
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0x55
    path.write_bytes(bytes(raw))
    code, out = _check()
    assert code == 1 and "checksum" in out


def test_check_bad_input(env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _check("--probes", "0")[0] == 2
    assert _check("--url", "http://127.0.0.1:1", "--workers", "0")[0] == 2
    code, out = _check("--workers", "2")
    assert code == 2 and "--workers needs --url" in out
    assert _check("--bogus")[0] == 2
    code, out = _check("--url", "http://127.0.0.1:1")
    assert code == 2 and "cannot reach" in out
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    code, out = _check()
    assert code == 2 and "werkmatch migrate" in out
