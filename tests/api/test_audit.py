"""The audit log: every read or write of a candidate's data, refused attempts included, is
recorded with who, what, when and the outcome; admins read it per candidate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.security import audit
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, FORKLIFT_CV, FORKLIFT_VACANCY, candidate


@pytest.fixture
def world(settings: Settings, encoder: Encoder) -> Iterator[tuple[TestClient, dict[str, dict]]]:
    url = settings.resolved_database_url()
    tokens = {role: make_token(url, role) for role in ("admin", "director", "intake", "batch")}
    tokens["employer"] = make_token(url, "employer", employer_id="emp-a")
    h = {role: bearer(t) for role, t in tokens.items()}
    h["kid"] = {role: t.split("_")[1] for role, t in tokens.items()}  # type: ignore[assignment]
    with TestClient(create_app(settings, encoder)) as client:
        for cid, cv in (("k-1", FORKLIFT_CV), ("k-2", FORKLIFT_CV), ("k-3", CARE_CV)):
            assert client.put(f"/v1/candidates/{cid}", json=candidate(cv), headers=h["intake"])
        resp = client.put(
            "/v1/employers/emp-a/vacancies/v-1", json=FORKLIFT_VACANCY, headers=h["employer"]
        )
        assert resp.status_code == 201
        yield client, h


def _audit(client: TestClient, h: dict, candidate_id: str) -> list[dict]:
    resp = client.get(f"/v1/audit?candidate_id={candidate_id}&limit=200", headers=h["admin"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["count"] == len(body["data"])
    return body["data"]  # type: ignore[no-any-return]


def test_reads_writes_and_refusals_are_recorded(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    kid = h["kid"]
    assert client.get("/v1/candidates/k-1", headers=h["director"]).status_code == 200
    assert client.get("/v1/candidates/k-1", headers=h["employer"]).status_code == 403
    assert client.get("/v1/candidates/k-1").status_code == 401
    assert client.get("/v1/candidates/k-1/matches", headers=h["director"]).status_code == 200
    status = client.put(
        "/v1/matches/emp-a/v-1/k-1/status", json={"status": "seen"}, headers=h["director"]
    )
    assert status.status_code == 200
    rows = _audit(client, h, "k-1")
    seen = [
        (r["key_id"], r["role"], r["action"], r["method"], r["status"], r["outcome"]) for r in rows
    ]
    # newest first
    assert seen[:5] == [
        (kid["director"], "director", "status", "PUT", 200, "allowed"),
        (kid["director"], "director", "match", "GET", 200, "allowed"),
        (None, None, "read", "GET", 401, "refused"),
        (kid["employer"], "employer", "read", "GET", 403, "refused"),
        (kid["director"], "director", "read", "GET", 200, "allowed"),
    ]
    assert seen[-1] == (kid["intake"], "intake", "write", "PUT", 201, "allowed")
    assert all(r["route"].startswith("/v1/") and "k-1" not in r["route"] for r in rows)
    assert all(r["at"].endswith(("Z", "+00:00")) and r["request_id"] for r in rows)
    # a record per candidate shown: the vacancy's matches show k-1 and k-2 (and k-3)
    matches = client.get("/v1/employers/emp-a/vacancies/v-1/matches", headers=h["director"])
    shown = {m["candidate_id"] for m in matches.json()["data"]}
    assert {"k-1", "k-2"} <= shown
    for cid in shown:
        latest = _audit(client, h, cid)[0]
        assert (latest["action"], latest["route"], latest["key_id"]) == (
            "match",
            "/v1/employers/{employer_id}/vacancies/{vacancy_id}/matches",
            kid["director"],
        )
    # the erasure itself is recorded, and the record outlives the data
    assert client.delete("/v1/candidates/k-2", headers=h["intake"]).status_code == 204
    assert client.get("/v1/candidates/k-2", headers=h["director"]).status_code == 404
    rows = _audit(client, h, "k-2")
    assert [(r["action"], r["outcome"]) for r in rows[:2]] == [
        ("read", "not_found"),
        ("erase", "allowed"),
    ]


def test_listing_records_every_candidate_on_the_page(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    page = client.get("/v1/candidates?limit=2", headers=h["director"]).json()["data"]
    assert len(page) == 2
    for c in page:
        assert _audit(client, h, c["candidate_id"])[0]["action"] == "list"
    off_page = ({"k-1", "k-2", "k-3"} - {c["candidate_id"] for c in page}).pop()
    assert all(r["action"] != "list" for r in _audit(client, h, off_page))


def test_only_admins_read_the_audit_log_and_bad_filters_are_named(world) -> None:  # type: ignore[no-untyped-def]
    client, h = world
    for role in ("director", "intake", "employer", "batch"):
        assert client.get("/v1/audit?candidate_id=k-1", headers=h[role]).status_code == 403
    assert client.get("/v1/audit?candidate_id=k-1").status_code == 401
    bad = client.get("/v1/audit?candidate_id=bad id!", headers=h["admin"])
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "candidate_id"
    bad = client.get("/v1/audit?limit=100000", headers=h["admin"])
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "limit"
    by_key = client.get(f"/v1/audit?key_id={h['kid']['intake']}", headers=h["admin"]).json()
    assert by_key["count"] == 3 and {r["action"] for r in by_key["data"]} == {"write"}


def test_no_answer_leaves_without_its_audit_record(world, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    client, h = world

    def broken(*_args: object) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "write", broken)
    resp = client.get("/v1/candidates/k-1", headers=h["director"])
    assert resp.status_code == 503
    assert resp.json()["error"] == "unavailable" and "Heftruck" not in resp.text
    assert "cv_text" not in resp.text and resp.headers["retry-after"]
    # routes without candidate data are not held up
    assert client.get("/v1/focus-occupations", headers=h["director"]).status_code == 200


def test_a_match_answer_is_recorded_once_and_withheld_when_its_record_fails(  # type: ignore[no-untyped-def]
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Match answers write their records from the handler's thread; the gate then writes none
    of its own, and when that write fails it tries once more and withholds the answer."""
    client, h = world
    url = "/v1/employers/emp-a/vacancies/v-1/matches"
    before = len(_audit(client, h, "k-1"))
    resp = client.get(url, headers=h["director"])
    assert resp.status_code == 200 and "k-1" in {i["candidate_id"] for i in resp.json()["data"]}
    assert len(_audit(client, h, "k-1")) == before + 1  # one record, not one per writer
    attempts: list[int] = []

    def broken(_engine: object, rows: list[dict]) -> None:
        attempts.append(len(rows))
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "write", broken)
    for path in (url, "/v1/candidates/k-1/matches"):
        resp = client.get(path, headers=h["director"])
        assert resp.status_code == 503, resp.text
        assert resp.json()["error"] == "unavailable" and "k-1" not in resp.text
    assert len(attempts) == 4  # per answer: the handler's write and the gate's second try
