"""Candidate endpoints: idempotent upsert, read, erase, pagination and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.store.models import MAX_CV_CHARS
from tests.factories import CARE_CV, candidate


def test_put_creates_then_is_idempotent(client: TestClient) -> None:
    first = client.put("/v1/candidates/kand-1", json=candidate())
    assert first.status_code == 201, first.text
    assert first.json()["candidate_id"] == "kand-1"
    assert first.json()["postcode"] == "3011AB"
    again = client.put("/v1/candidates/kand-1", json=candidate())
    assert again.status_code == 200
    assert again.json() == first.json()  # same body twice changes nothing, not even updated_at
    changed = client.put("/v1/candidates/kand-1", json=candidate(CARE_CV))
    assert changed.status_code == 200
    assert changed.json()["cv_text"] == CARE_CV
    assert changed.json()["updated_at"] > first.json()["updated_at"]
    assert changed.json()["created_at"] == first.json()["created_at"]
    stored = client.get("/v1/candidates/kand-1").json()
    assert stored["created_at"] == first.json()["created_at"]
    assert stored["updated_at"].endswith(("Z", "+00:00"))  # UTC, also on SQLite


def test_put_replaces_the_whole_profile(client: TestClient) -> None:
    client.put("/v1/candidates/kand-1", json=candidate())
    resp = client.put("/v1/candidates/kand-1", json={"cv_text": "Alleen een korte tekst."})
    assert resp.status_code == 200
    body = client.get("/v1/candidates/kand-1").json()
    assert body["desired_occupations"] == [] and body["postcode"] is None


def test_get_delete_and_unknown(client: TestClient) -> None:
    client.put("/v1/candidates/kand-1", json=candidate())
    got = client.get("/v1/candidates/kand-1")
    assert got.status_code == 200
    assert got.json()["participation_ladder_step"] == 5
    assert client.delete("/v1/candidates/kand-1").status_code == 204
    assert client.get("/v1/candidates/kand-1").status_code == 404
    assert client.delete("/v1/candidates/kand-1").status_code == 404
    missing = client.get("/v1/candidates/nobody")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_list_is_paginated_and_filterable(client: TestClient) -> None:
    for i in range(5):
        client.put(f"/v1/candidates/k{i}", json=candidate(caseworker_id=f"cw-{i % 2}"))
    page = client.get("/v1/candidates", params={"limit": 2}).json()
    assert page["count"] == 5 and [c["candidate_id"] for c in page["data"]] == ["k0", "k1"]
    last = client.get("/v1/candidates", params={"limit": 2, "offset": 4}).json()
    assert [c["candidate_id"] for c in last["data"]] == ["k4"]
    mine = client.get("/v1/candidates", params={"caseworker_id": "cw-1"}).json()
    assert mine["count"] == 2
    assert client.get("/v1/candidates", params={"limit": 0}).status_code == 422
    assert client.get("/v1/candidates", params={"limit": 201}).status_code == 422
    assert client.get("/v1/candidates", params={"offset": -1}).status_code == 422


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({k: v for k, v in candidate().items() if k != "cv_text"}, "cv_text"),
    (candidate(cv_text=""), "cv_text"),
    (candidate(cv_text="   \n\t "), "cv_text"),
    (candidate(cv_text=12345), "cv_text"),
    (candidate(cv_text="x" * (MAX_CV_CHARS + 1)), "cv_text"),
    (candidate(participation_ladder_step=7), "participation_ladder_step"),
    (candidate(participation_ladder_step="vijf"), "participation_ladder_step"),
    (candidate(client_group="rijk"), "client_group"),
    (candidate(benefit_type="bijstand"), "benefit_type"),
    (candidate(work_chance_score=1.2), "work_chance_score"),
    (candidate(hours_per_week_min=40, hours_per_week_max=20), "hours_per_week_min"),
    (candidate(postcode="12345"), "postcode"),
    (candidate(postcode=None, lat=52.0), "lat"),
    (candidate(languages=["nederlands"]), "languages.0"),
    (candidate(desired_occupations=["  "]), "desired_occupations.0"),
    (candidate(desired_occupations="kok"), "desired_occupations"),
    (candidate(available_from="gisteren"), "available_from"),
    (candidate(caseworker_id="cw 01"), "caseworker_id"),
    (candidate(name="Someone"), "name"),
    (candidate(id=5), "id"),
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_bad_body_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    before = client.put("/v1/candidates/kand-1", json=candidate()).json()
    resp = client.put("/v1/candidates/kand-1", json=body)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert any(field in (d["field"] + " " + d["message"]) for d in detail), detail
    assert client.get("/v1/candidates/kand-1").json() == before
    assert client.get("/v1/candidates").json()["count"] == 1


def test_empty_cv_never_creates_a_profile(client: TestClient) -> None:
    resp = client.put("/v1/candidates/kand-2", json=candidate(cv_text=" "))
    assert resp.status_code == 422
    assert client.get("/v1/candidates/kand-2").status_code == 404


def test_malformed_json_and_oversized_body(client: TestClient) -> None:
    resp = client.put(
        "/v1/candidates/kand-1", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    big = b'{"cv_text": "' + b"a" * 1_100_000 + b'"}'
    resp = client.put(
        "/v1/candidates/kand-1", content=big, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large"

    def chunks():  # a chunked body with no Content-Length is bounded too
        for _ in range(20):
            yield b"a" * 100_000

    resp = client.put(
        "/v1/candidates/kand-1", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert client.get("/v1/candidates/kand-1").status_code == 404


@pytest.mark.parametrize("bad_id", ["a" * 65, "with space", "semi;colon", "ümlaut"])
def test_bad_ids_in_path_are_422(client: TestClient, bad_id: str) -> None:
    assert client.put(f"/v1/candidates/{bad_id}", json=candidate()).status_code == 422
    assert client.get(f"/v1/candidates/{bad_id}").status_code == 422
    assert client.delete(f"/v1/candidates/{bad_id}").status_code == 422
