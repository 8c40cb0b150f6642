"""Object-level access (BOLA): employers see only their own vacancies and never candidate data;
a director with a caseload sees only that caseload. Another tenant's object answers 404, the
same as an object that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, FORKLIFT_CV, FORKLIFT_VACANCY, candidate

CANDIDATE_ONLY_FIELDS = {
    "candidate_id",
    "cv_text",
    "caseworker_id",
    "client_group",
    "participation_ladder_step",
    "benefit_type",
    "work_chance_score",
}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.fixture
def world(settings: Settings, encoder: Encoder) -> Iterator[tuple[TestClient, dict[str, dict]]]:
    url = settings.resolved_database_url()
    h = {
        "admin": bearer(make_token(url, "admin")),
        "emp_a": bearer(make_token(url, "employer", employer_id="emp-a")),
        "emp_b": bearer(make_token(url, "employer", employer_id="emp-b")),
        "cw1": bearer(make_token(url, "director", caseworker_id="cw-1")),
        "director": bearer(make_token(url, "director")),
    }
    with TestClient(create_app(settings, encoder)) as client:
        for cid, cw, cv in (("k-1", "cw-1", FORKLIFT_CV), ("k-2", "cw-2", FORKLIFT_CV)):
            body = candidate(cv, caseworker_id=cw)
            assert (
                client.put(f"/v1/candidates/{cid}", json=body, headers=h["admin"]).status_code
                == 201
            )
        body = candidate(CARE_CV, caseworker_id="cw-1")
        assert client.put("/v1/candidates/k-3", json=body, headers=h["admin"]).status_code == 201
        for emp in ("emp-a", "emp-b"):
            resp = client.put(
                f"/v1/employers/{emp}/vacancies/v-1",
                json=FORKLIFT_VACANCY,
                headers=h[emp.replace("-", "_")],
            )
            assert resp.status_code == 201, resp.text
        yield client, h


def test_employer_sees_and_changes_only_its_own_vacancies(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    own = client.get("/v1/employers/emp-a/vacancies/v-1", headers=h["emp_a"])
    assert own.status_code == 200
    for method in ("GET", "DELETE"):
        other = client.request(method, "/v1/employers/emp-b/vacancies/v-1", headers=h["emp_a"])
        missing = client.request(method, "/v1/employers/emp-b/vacancies/nope", headers=h["emp_a"])
        assert other.status_code == missing.status_code == 404
        assert other.json()["error"] == missing.json()["error"] == "not_found"
    # writing into another employer's namespace: 404 before the body is even read
    put = client.put("/v1/employers/emp-b/vacancies/v-1", json=FORKLIFT_VACANCY, headers=h["emp_a"])
    assert put.status_code == 404
    bad = client.put("/v1/employers/emp-b/vacancies/v-9", content=b"{oops", headers=h["emp_a"])
    assert bad.status_code == 404
    # emp-b's vacancy is untouched
    still = client.get("/v1/employers/emp-b/vacancies/v-1", headers=h["emp_b"])
    assert still.status_code == 200 and still.json()["title"] == FORKLIFT_VACANCY["title"]
    # listing: only its own, whatever employer_id it asks for
    mine = client.get("/v1/vacancies", headers=h["emp_a"]).json()
    assert {v["employer_id"] for v in mine["data"]} == {"emp-a"} and mine["count"] == 1
    theirs = client.get("/v1/vacancies?employer_id=emp-b", headers=h["emp_a"]).json()
    assert theirs == {"data": [], "count": 0}
    assert client.get("/v1/vacancies", headers=h["admin"]).json()["count"] == 2


def test_employer_answers_never_carry_candidate_fields(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    answers = [
        client.get("/v1/employers/emp-a/vacancies/v-1", headers=h["emp_a"]),
        client.get("/v1/vacancies", headers=h["emp_a"]),
        client.get("/v1/focus-occupations", headers=h["emp_a"]),
        client.put("/v1/employers/emp-a/vacancies/v-2", json=FORKLIFT_VACANCY, headers=h["emp_a"]),
    ]
    for resp in answers:
        assert resp.status_code < 300, resp.text
        assert not _keys(resp.json()) & CANDIDATE_ONLY_FIELDS, resp.url
    for path in (
        "/v1/candidates",
        "/v1/candidates/k-1",
        "/v1/employers/emp-a/vacancies/v-1/matches",
        "/v1/employers/emp-a/vacancies/v-1/new-matches",
        "/v1/candidates/k-1/matches",
    ):
        resp = client.get(path, headers=h["emp_a"])
        assert resp.status_code == 403, path
        assert "k-1" not in resp.text and "heftruck" not in resp.text.lower()


def test_employer_id_comes_from_the_key_not_the_body(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    body = {**FORKLIFT_VACANCY, "employer_id": "emp-b"}
    resp = client.put("/v1/employers/emp-a/vacancies/v-3", json=body, headers=h["emp_a"])
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["field"] == "employer_id"
    for server_field, value in (
        ("created_at", "2020-01-01T00:00:00Z"),
        ("updated_at", "2020-01-01T00:00:00Z"),
        ("vacancy_id", "v-9"),
        ("id", 7),
        ("embedding", [0.1, 0.2]),
    ):
        resp = client.put(
            "/v1/employers/emp-a/vacancies/v-3",
            json={**FORKLIFT_VACANCY, server_field: value},
            headers=h["emp_a"],
        )
        assert resp.status_code == 422, server_field
        assert resp.json()["detail"][0]["field"] == server_field
    for server_field, value in (("candidate_id", "k-9"), ("created_at", "2020-01-01"), ("id", 1)):
        resp = client.put(
            "/v1/candidates/k-9", json={**candidate(), server_field: value}, headers=h["admin"]
        )
        assert resp.status_code == 422, server_field
        assert resp.json()["detail"][0]["field"] == server_field
    assert client.get("/v1/candidates/k-9", headers=h["admin"]).status_code == 404


def test_director_with_a_caseload_sees_only_that_caseload(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    assert client.get("/v1/candidates/k-1", headers=h["cw1"]).status_code == 200
    other = client.get("/v1/candidates/k-2", headers=h["cw1"])
    missing = client.get("/v1/candidates/k-404", headers=h["cw1"])
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"] == missing.json()["error"]
    assert client.get("/v1/candidates/k-2/matches", headers=h["cw1"]).status_code == 404
    listed = client.get("/v1/candidates", headers=h["cw1"]).json()
    assert {c["candidate_id"] for c in listed["data"]} == {"k-1", "k-3"}
    asked = client.get("/v1/candidates?caseworker_id=cw-2", headers=h["cw1"]).json()
    assert asked["count"] == 0
    # matches of a vacancy: only caseload candidates, although k-2 fits just as well
    url = "/v1/employers/emp-a/vacancies/v-1/matches?limit=10"
    ids = [m["candidate_id"] for m in client.get(url, headers=h["cw1"]).json()["data"]]
    assert "k-1" in ids and "k-2" not in ids
    everyone = [m["candidate_id"] for m in client.get(url, headers=h["director"]).json()["data"]]
    assert {"k-1", "k-2"} <= set(everyone)
    text = {"text": FORKLIFT_CV, "target": "candidates", "limit": 10}
    adhoc = client.post("/v1/match", json=text, headers=h["cw1"]).json()["data"]
    assert "k-2" not in {m["candidate_id"] for m in adhoc}
    # match status and new matches outside the caseload: not found
    status = client.put(
        "/v1/matches/emp-a/v-1/k-2/status", json={"status": "seen"}, headers=h["cw1"]
    )
    assert status.status_code == 404
    assert client.get("/v1/caseworkers/cw-2/new-matches", headers=h["cw1"]).status_code == 404
    ui = client.get("/ui/f/candidates/k-2", headers=h["cw1"])
    assert ui.status_code == 404
