"""Focus-occupation endpoints, probes and the OpenAPI document."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from tests.factories import HEFTRUCK_FOCUS, candidate, vacancy


def test_focus_crud(client: TestClient) -> None:
    url = "/v1/focus-occupations/heftruckchauffeur"
    assert client.get(url).status_code == 404
    assert client.put(url, json=HEFTRUCK_FOCUS).status_code == 201
    assert client.put(url, json=HEFTRUCK_FOCUS).status_code == 200
    got = client.get(url).json()
    assert got["slug"] == "heftruckchauffeur" and got["synonyms"] == HEFTRUCK_FOCUS["synonyms"]
    client.put(
        "/v1/focus-occupations/kok", json={"name": "Kok", "synonyms": ["zelfstandig werkend kok"]}
    )
    listed = client.get("/v1/focus-occupations").json()
    assert listed["count"] == 2 and [f["slug"] for f in listed["data"]] == [
        "heftruckchauffeur",
        "kok",
    ]
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 404


def test_focus_changes_apply_to_existing_rows(client: TestClient) -> None:
    vac = "/v1/employers/e/vacancies/v"
    client.put(vac, json=vacancy())
    client.put("/v1/candidates/c", json=candidate())
    assert client.get(f"{vac}/matches", params={"focus_only": True}).json()["count"] == 0
    client.put("/v1/focus-occupations/heftruckchauffeur", json=HEFTRUCK_FOCUS)
    assert client.get(f"{vac}/matches", params={"focus_only": True}).json()["count"] == 1
    client.delete("/v1/focus-occupations/heftruckchauffeur")
    assert client.get(f"{vac}/matches", params={"focus_only": True}).json()["count"] == 0


@pytest.mark.parametrize(
    "slug, body, field",
    [
        ("kok", {}, "name"),
        ("kok", {"name": ""}, "name"),
        ("kok", {"name": "Kok", "synonyms": "chef"}, "synonyms"),
        ("kok", {"name": "Kok", "synonyms": [""]}, "synonyms.0"),
        ("kok", {"name": "Kok", "colour": "wit"}, "colour"),
        ("k o k", {"name": "Kok"}, "slug"),
    ],
)
def test_focus_bad_input(client: TestClient, slug: str, body: dict, field: str) -> None:
    resp = client.put(f"/v1/focus-occupations/{slug}", json=body)
    assert resp.status_code == 422
    assert field in [d["field"] for d in resp.json()["detail"]]
    assert client.get("/v1/focus-occupations").json()["count"] == 0


def test_probes_and_docs(client: TestClient, encoder: Encoder) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["model"] == encoder.model_id  # the model the app was given
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/candidates/{candidate_id}",
        "/v1/candidates/{candidate_id}/matches",
        "/v1/employers/{employer_id}/vacancies/{vacancy_id}",
        "/v1/employers/{employer_id}/vacancies/{vacancy_id}/matches",
        "/v1/vacancies",
        "/v1/match",
        "/v1/focus-occupations/{slug}",
    ):
        assert path in paths
    assert client.get("/v1/nothing-here").status_code == 404
    assert client.post("/healthz").status_code == 405
