"""No personal data or secrets in application logs: plant a marker in every field of a profile,
drive every kind of answer (good, bad input, refused, failing), and search the logs, as the
service formats them, in-process and from a real server process."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.observability import JsonFormatter
from service.store import crud
from tests.auth import bearer, make_token
from tests.factories import FORKLIFT_CV, FORKLIFT_VACANCY, PII_MARKER, candidate
from tests.log_watch import is_app_record
from tests.reliability.processes import ServerProcess, fresh_client

MARKED = candidate(
    f"{FORKLIFT_CV} Referentie {PII_MARKER}.",
    desired_occupations=[f"heftruckchauffeur {PII_MARKER}"],
    skills=[f"reachtruck {PII_MARKER}"],
)


def _workload(client, base: str, token: str) -> None:  # type: ignore[no-untyped-def]
    """Every kind of answer, with the marker in what is sent."""
    auth = bearer(token)
    assert client.put(f"{base}/v1/candidates/k-1", json=MARKED, headers=auth).status_code == 201
    assert client.put(f"{base}/v1/employers/e/vacancies/v", json=FORKLIFT_VACANCY, headers=auth)
    assert client.get(f"{base}/v1/candidates/k-1", headers=auth).status_code == 200
    assert client.get(f"{base}/v1/candidates/k-1/matches", headers=auth).status_code == 200
    assert client.get(f"{base}/v1/employers/e/vacancies/v/matches", headers=auth).status_code == 200
    text = {"text": f"heftruck {PII_MARKER}", "target": "candidates"}
    assert client.post(f"{base}/v1/match", json=text, headers=auth).status_code == 200
    bad = {**MARKED, "postcode": PII_MARKER, "hours_per_week_min": PII_MARKER}
    assert client.put(f"{base}/v1/candidates/k-2", json=bad, headers=auth).status_code == 422
    extra = {**MARKED, "name": PII_MARKER}
    assert client.put(f"{base}/v1/candidates/k-2", json=extra, headers=auth).status_code == 422
    assert (
        client.put(f"{base}/v1/candidates/k-2", content=PII_MARKER, headers=auth).status_code == 422
    )
    assert client.get(f"{base}/v1/candidates/{PII_MARKER}", headers=auth).status_code == 404
    assert client.get(f"{base}/v1/candidates?caseworker_id={PII_MARKER}").status_code == 401
    assert client.get(f"{base}/v1/candidates?api_key={token}").status_code == 401
    assert (
        client.get(
            f"{base}/v1/candidates", headers={"Authorization": f"Bearer {PII_MARKER}"}
        ).status_code
        == 401
    )
    assert client.delete(f"{base}/v1/candidates/k-1", headers=auth).status_code == 204


def test_in_process_logs_hold_no_marker_and_no_key(
    settings: Settings,
    encoder: Encoder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = make_token(settings.resolved_database_url(), "admin")
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings, encoder), raise_server_exceptions=False) as client:
        _workload(client, "", token)
        # a failure whose exception message quotes personal data: a 500 with a generic body
        original = crud.get_row

        def failing(**kw: object) -> object:
            raise ValueError(f"could not read profile with cv {PII_MARKER}")

        monkeypatch.setattr(crud, "get_row", failing)
        resp = client.get("/v1/candidates/k-9", headers=bearer(token))
        monkeypatch.setattr(crud, "get_row", original)
    assert resp.status_code == 500
    assert resp.json() == {"error": "internal_error", "detail": "unexpected server error"}
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records if is_app_record(r))
    assert caplog.records and "unhandled error on GET /v1/candidates/{candidate_id}" in logged
    assert "ValueError (message withheld from logs)" in logged
    assert PII_MARKER not in logged
    assert token not in logged and token.split("_", 2)[2] not in logged


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_server_logs_hold_no_marker_and_no_key(db_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    env = {
        "WERKMATCH_DATABASE_URL": db_url,
        "WERKMATCH_DATA_DIR": str(tmp_path / "data"),
        "WERKMATCH_LOG_LEVEL": "DEBUG",
        "WERKMATCH_SNAPSHOT_EVERY_CHANGES": "1",
    }
    server = ServerProcess(env, log_path, workers=1).start()
    try:
        server.wait_ready()
        assert server.key is not None
        with fresh_client(60) as http:
            _workload(http, server.base, server.key)
    finally:
        server.stop()
    logged = log_path.read_text(errors="replace")
    assert '"route": "/v1/candidates/{candidate_id}"' in logged  # the access log did run
    assert PII_MARKER not in logged
    assert server.key not in logged and server.key.split("_", 2)[2] not in logged
