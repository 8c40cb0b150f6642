"""What every route refuses instead of ignoring or guessing, and what no answer may echo:
unknown or repeated query parameters, foreign media types, undecodable bodies, ids no URL can
address, texts that show nothing, host names and process ids."""

from __future__ import annotations

import json
import os
import socket
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.batch.rematch_runs import claim_run
from service.config import Settings
from service.store.db import make_engine
from tests.factories import candidate, vacancy

VAC = "/v1/employers/werkgever-1/vacancies/vac-1"
JSON = {"Content-Type": "application/json"}

# Every route that takes a JSON body, with a body it accepts.
BODY_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", "/v1/candidates/kand-1", candidate()),
    ("PUT", VAC, vacancy()),
    ("PUT", "/v1/focus-occupations/heftruck", {"name": "Heftruckchauffeur"}),
    ("POST", "/v1/match", {"target": "vacancies", "text": "heftruck rijden"}),
    ("POST", "/v1/occupations/normalize", {"title": "Heftruckchauffeur"}),
    ("PUT", "/v1/matches/werkgever-1/vac-1/kand-1/status", {"status": "seen"}),
]
LIST_ROUTES = [
    "/v1/candidates",
    "/v1/vacancies",
    "/v1/focus-occupations",
    "/v1/audit",
    "/v1/reports/profile-completeness",
    "/v1/reports/unmatched",
    "/v1/candidates/kand-1/matches",
    f"{VAC}/matches",
]


def _field(resp: Any, field: str, location: str = "query") -> str:
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert [(d["field"], d["location"]) for d in detail] == [(field, location)], detail
    return str(detail[0]["message"])


@pytest.fixture
def seeded(client: TestClient) -> TestClient:
    assert client.put("/v1/candidates/kand-1", json=candidate()).status_code == 201
    assert client.put(VAC, json=vacancy()).status_code == 201
    return client


def test_vacancy_filters_on_candidate_results_are_refused(seeded: TestClient) -> None:
    for params, field in (
        ({"kind": "bogus"}, "kind"),
        ({"include_closed": "true"}, "include_closed"),
    ):
        message = _field(seeded.get(f"{VAC}/matches", params=params), field)
        assert message == "filters vacancies; these results are candidates"
    # the other direction, as before
    _field(
        seeded.get("/v1/candidates/kand-1/matches", params={"client_group": "x"}), "client_group"
    )


@pytest.mark.parametrize("url", LIST_ROUTES)
def test_unknown_and_repeated_query_parameters_are_refused(seeded: TestClient, url: str) -> None:
    assert _field(seeded.get(url, params={"bogus": "1"}), "bogus") == "unknown query parameter"
    if url == "/v1/focus-occupations":  # the one list without paging parameters
        assert seeded.get(url).status_code == 200
        return
    assert "more than once" in _field(seeded.get(f"{url}?limit=5&limit=10"), "limit")
    assert seeded.get(url, params={"limit": 5}).status_code == 200


def test_page_fragments_refuse_unknown_parameters_and_probes_ignore_them(
    seeded: TestClient,
) -> None:
    _field(seeded.get("/ui/f/vacancies", params={"bogus": "1"}), "bogus")
    _field(seeded.get("/ui/f/vacancies/werkgever-1/vac-1", params={"kind": "x"}), "kind")
    assert seeded.get("/healthz", params={"nocache": "1"}).status_code == 200


def test_repeatable_parameters_still_repeat(seeded: TestClient) -> None:
    resp = seeded.get("/v1/vacancies?status=open&status=closed")
    assert resp.status_code == 200 and resp.json()["count"] == 1


@pytest.mark.parametrize(("method", "url", "body"), BODY_ROUTES)
def test_body_media_type_and_decoding_are_uniform(
    seeded: TestClient, method: str, url: str, body: dict[str, Any]
) -> None:
    for media in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        resp = seeded.request(method, url, content=b"{}", headers={"Content-Type": media})
        assert resp.status_code == 415, (media, resp.text)
        assert resp.json()["error"] == "unsupported_media_type"
    broken = seeded.request(method, url, content=b'{"a": 1,}', headers=JSON)
    message = _field(broken, "body", "body")
    assert "not valid JSON" in message and "character 8" in message
    good = seeded.request(method, url, json=body)  # normalize: 503 without ESCO imported
    assert good.is_success or good.status_code == 503, good.text


def test_jobposting_media_type_only_where_a_jobposting_is_taken(seeded: TestClient) -> None:
    ld = {"Content-Type": "application/ld+json"}
    resp = seeded.put("/v1/candidates/kand-2", json=candidate(), headers=ld)
    assert resp.status_code == 415
    assert seeded.get("/v1/candidates/kand-2").status_code == 404


def test_running_rematch_409_names_no_host_or_process(
    seeded: TestClient, settings: Settings
) -> None:
    engine = make_engine(settings.resolved_database_url())
    try:
        run_id, _ = claim_run(engine, 2, 900)  # this (live) process holds the slot
    finally:
        engine.dispose()
    resp = seeded.post("/v1/rematch-runs", json={"top_k": 2})
    assert resp.status_code == 409 and str(run_id) in resp.json()["detail"]
    for secret in (socket.gethostname(), str(os.getpid())):
        assert secret not in resp.text


def test_no_answer_names_the_process_id(client: TestClient) -> None:
    pid = str(os.getpid())
    ready = client.get("/readyz")
    worker = ready.headers["x-werkmatch-worker"]
    assert worker != pid and len(worker) == 8
    assert ready.json()["worker"] == worker
    assert client.get("/healthz").headers["x-werkmatch-worker"] == worker  # one per process


def test_host_header_is_never_echoed(client: TestClient) -> None:
    for path in ("/v1/candidates/", "/v1/vacancies/", "/healthz/"):
        resp = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert resp.status_code == 404, resp.text
        assert "evil.example" not in str(resp.headers) + resp.text


@pytest.mark.parametrize("bad_id", [".", "..", ".hidden"])
def test_ids_that_no_url_can_address_are_refused(client: TestClient, bad_id: str) -> None:
    _field(
        client.put("/v1/candidates/k1", json=candidate(caseworker_id=bad_id)),
        "caseworker_id",
        "body",
    )
    _field(client.get("/v1/candidates", params={"caseworker_id": bad_id}), "caseworker_id")
    if bad_id.strip("."):  # '.' and '..' never reach a route: clients resolve them in the path
        _field(client.put(f"/v1/candidates/{bad_id}", json=candidate()), "candidate_id", "path")
    assert client.put("/v1/candidates/k.1", json=candidate()).status_code == 201


INVISIBLE = ["\u200b", "\u200b\u200d\u2060", "\u00ad", "\x1f", "\x85", "\u202e", " \ufeff\u200c "]


@pytest.mark.parametrize("text", INVISIBLE)
def test_texts_that_show_nothing_are_refused(client: TestClient, text: str) -> None:
    _field(client.put("/v1/candidates/k1", json=candidate(cv_text=text)), "cv_text", "body")
    _field(client.put("/v1/candidates/k1", json=candidate(skills=[text])), "skills.0", "body")
    _field(client.put(VAC, json=vacancy(description=text)), "description", "body")
    _field(client.put(VAC, json=vacancy(title=text)), "title", "body")
    _field(client.put("/v1/focus-occupations/f", json={"name": text}), "name", "body")
    _field(client.post("/v1/match", json={"target": "candidates", "text": text}), "text", "body")
    assert client.get("/v1/candidates/k1").status_code == 404
    # A visible character among them is content.
    ok = client.put("/v1/focus-occupations/f", json={"name": f"{text}kok"})
    assert ok.status_code == 201, ok.text


def test_errors_echo_a_long_name_only_in_part(client: TestClient) -> None:
    name = "x" * 5000
    body = _field(
        client.put("/v1/candidates/k1", json={**candidate(), name: 1}), "x" * 99 + "…", "body"
    )
    assert body
    query = client.get("/v1/candidates", params={name: "1"})
    assert query.status_code == 422 and len(query.text) < 400, query.text


@pytest.mark.parametrize(("method", "url", "body"), BODY_ROUTES)
def test_a_key_given_twice_is_refused(
    seeded: TestClient, method: str, url: str, body: dict[str, Any]
) -> None:
    """A JSON parser keeps the last of two equal keys and drops the first unseen."""
    first, value = next(iter(body.items()))
    text = json.dumps(body)[:-1] + f", {json.dumps(first)}: {json.dumps(value)}}}"
    resp = seeded.request(method, url, content=text.encode(), headers=JSON)
    assert "more than once" in _field(resp, first, "body")


def test_a_key_given_twice_in_free_json_is_refused(seeded: TestClient) -> None:
    text = json.dumps(vacancy())[:-1] + ', "extra_properties": {"loon": 1, "loon": 2}}'
    resp = seeded.put(VAC, content=text.encode(), headers=JSON)
    assert "more than once" in _field(resp, "loon", "body")
    posting = (
        '{"@type": "JobPosting", "title": "Kok", "description": "Koken.", '
        '"baseSalary": {"value": 1, "value": 2}}'
    )
    ld = {"Content-Type": "application/ld+json"}
    _field(seeded.put(VAC, content=posting.encode(), headers=ld), "value", "body")
    assert seeded.get(VAC).json()["extra_properties"] is None  # unchanged
