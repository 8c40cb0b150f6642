"""Operations: Prometheus /metrics, X-Request-ID, JSON logs without personal data."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.observability import JsonFormatter
from tests.factories import CARE_CV, candidate, vacancy

VAC_ROUTE = "/v1/employers/{employer_id}/vacancies/{vacancy_id}"


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_requests_per_route_template(client: TestClient) -> None:
    client.put("/v1/employers/emp-a/vacancies/v-1", json=vacancy())
    client.put("/v1/employers/emp-a/vacancies/v-2", json=vacancy(title="Orderpicker"))
    client.put("/v1/candidates/kand-0042", json=candidate())
    client.get("/v1/employers/emp-a/vacancies/v-1/matches", params={"limit": 5})
    client.get("/v1/employers/emp-a/vacancies/nope")
    client.get("/v1/no-such-thing/kand-0042")
    client.get("/ui/static/werkmatch.css")
    s = _samples(client)
    put = (("method", "PUT"), ("route", VAC_ROUTE), ("status", "201"))
    assert s[("werkmatch_http_requests_total", put)] == 2
    missing = (("method", "GET"), ("route", VAC_ROUTE), ("status", "404"))
    assert s[("werkmatch_http_requests_total", missing)] == 1
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert s[("werkmatch_http_requests_total", unmatched)] == 1
    static = (("method", "GET"), ("route", "/ui/static/{path}"), ("status", "200"))
    assert s[("werkmatch_http_requests_total", static)] == 1
    hist = (("method", "PUT"), ("route", VAC_ROUTE))
    assert s[("werkmatch_http_request_duration_seconds_count", hist)] == 2
    assert s[("werkmatch_http_request_duration_seconds_sum", hist)] > 0
    assert s[("werkmatch_index_size", (("kind", "candidate"),))] == 1
    assert s[("werkmatch_index_size", (("kind", "vacancy"),))] == 2
    # Three texts were embedded in three calls (the model runs for each new text once).
    assert s[("werkmatch_embedded_texts_total", ())] == 3
    assert s[("werkmatch_embedding_duration_seconds_count", ())] == 3
    assert s[("werkmatch_embedding_duration_seconds_sum", ())] > 0
    text = client.get("/metrics").text
    for personal in ("kand-0042", "v-1", "emp-a", "limit"):
        assert personal not in text


def test_request_id_is_returned_validated_or_generated(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123.DEF_4"})
    assert given.headers["X-Request-ID"] == "abc-123.DEF_4"
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    for bad in ("has spaces", "x" * 129, "<script>", ""):
        got = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert got != bad and re.fullmatch(r"[0-9a-f]{32}", got)
    # Also on error answers.
    err = client.get("/v1/candidates/nobody", headers={"X-Request-ID": "r-404"})
    assert err.status_code == 404 and err.headers["X-Request-ID"] == "r-404"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, formatted as the service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_logs_are_json_with_request_id_and_no_personal_data(
    client: TestClient, json_log: io.StringIO
) -> None:
    client.put("/v1/candidates/kand-0042", json=candidate(CARE_CV, postcode="3011AB"))
    client.get(
        "/v1/candidates/kand-0042/matches",
        params={"max_distance_km": 25},
        headers={"X-Request-ID": "trace-1"},
    )
    client.put("/v1/candidates/kand-0043", json=candidate(cv_text=" "))  # 422
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [r for r in lines if r["logger"] == "werkmatch.access"]
    assert [(r["method"], r["route"], r["status"]) for r in access] == [
        ("PUT", "/v1/candidates/{candidate_id}", 201),
        ("GET", "/v1/candidates/{candidate_id}/matches", 200),
        ("PUT", "/v1/candidates/{candidate_id}", 422),
    ]
    assert access[1]["request_id"] == "trace-1"
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in (access[0], access[2]))
    assert all(r["duration_ms"] >= 0 and r["level"] == "info" for r in access)
    # The test's HTTP client (httpx) logs full URLs itself; that is the client, not the service.
    service = [r for r in lines if not r["logger"].startswith("httpx")]
    assert len(service) >= 3
    raw = json.dumps(service, ensure_ascii=False)
    for personal in ("kand-0042", "kand-0043", "3011", "verzorgende", "max_distance_km"):
        assert personal not in raw


def test_database_errors_do_not_carry_row_values(db_url: str) -> None:
    """An error's text ends up in a log line; it must not hold the values of the row."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from service.store.db import make_engine

    engine = make_engine(db_url)
    insert = text(
        "INSERT INTO focus_occupation (slug, name, synonyms, created_at, updated_at) "
        "VALUES (:slug, :name, '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with engine.connect() as conn:
        conn.execute(insert, {"slug": "geheim-slug", "name": "Geheime naam"})
        with pytest.raises(DBAPIError) as caught:
            conn.execute(insert, {"slug": "geheim-slug", "name": "Geheime naam"})
    engine.dispose()
    assert "hidden due to hide_parameters" in str(caught.value)
    assert "Geheime naam" not in str(caught.value)
