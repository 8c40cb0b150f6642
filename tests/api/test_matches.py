"""Match endpoints: ranking, filters, explanations, and bad parameters."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import CARE_CV, CATERING_CV, HEFTRUCK_FOCUS, candidate, vacancy

VAC_URL = "/v1/employers/transport-rijnmond/vacancies/vac-1"


def _setup_ridderkerk(client: TestClient) -> None:
    assert (
        client.put("/v1/focus-occupations/heftruckchauffeur", json=HEFTRUCK_FOCUS).status_code
        == 201
    )
    bodies = {
        "forklift": candidate(),
        "care": candidate(CARE_CV, desired_occupations=["verzorgende IG"], skills=["zorg"]),
        "catering": candidate(CATERING_CV, desired_occupations=["kok"], skills=["HACCP"]),
    }
    for cid, body in bodies.items():
        assert client.put(f"/v1/candidates/{cid}", json=body).status_code == 201
    assert client.put(VAC_URL, json=vacancy()).status_code == 201


def _ids(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [item["candidate_id"] for item in resp.json()["data"]]


def test_forklift_cv_ranks_first_for_heftruck_vacancy_with_reasons(client: TestClient) -> None:
    _setup_ridderkerk(client)
    resp = client.get(f"{VAC_URL}/matches")
    body = resp.json()
    assert _ids(resp)[0] == "forklift"
    assert set(_ids(resp)) == {"forklift", "care", "catering"}
    assert body["count"] == 3
    top = body["data"][0]
    assert 0 < top["score"] <= 1
    assert top["score"] > body["data"][1]["score"]
    assert set(top["parts"]) == {"semantic", "lexical", "occupation"}
    assert sum(top["parts"].values()) == pytest.approx(top["score"], abs=1e-3)
    assert top["focus"]["slug"] == "heftruckchauffeur"
    assert any("heftruck" in line.lower() for line in top["explanation"])
    assert any(line.startswith("Afstand") for line in top["explanation"])
    assert top["summary"]["desired_occupations"] == ["heftruckchauffeur"]
    assert "cv_text" not in top and "cv_text" not in top["summary"]


def test_focus_only_keeps_the_focus_occupation_match(client: TestClient) -> None:
    _setup_ridderkerk(client)
    resp = client.get(f"{VAC_URL}/matches", params={"focus_only": "true"})
    assert _ids(resp) == ["forklift"]
    assert resp.json()["data"][0]["focus"]["score"] >= 0.85


def test_deleted_candidate_never_matches_again(client: TestClient) -> None:
    _setup_ridderkerk(client)
    assert "forklift" in _ids(client.get(f"{VAC_URL}/matches"))
    assert client.delete("/v1/candidates/forklift").status_code == 204
    assert "forklift" not in _ids(client.get(f"{VAC_URL}/matches"))
    resp = client.post("/v1/match", json={"target": "candidates", "text": "heftruck magazijn"})
    assert "forklift" not in [i["candidate_id"] for i in resp.json()["data"]]


def test_hard_filters(client: TestClient) -> None:
    _setup_ridderkerk(client)
    client.put("/v1/candidates/far", json=candidate(postcode="9711AA", max_travel_km=None))
    client.put(
        "/v1/candidates/low", json=candidate(participation_ladder_step=2, client_group="zorgen")
    )
    client.put("/v1/candidates/inactive", json=candidate(active=False))
    client.put("/v1/candidates/nolicence", json=candidate(driving_licence=False))
    all_ids = _ids(client.get(f"{VAC_URL}/matches"))
    assert "far" in all_ids and "low" in all_ids and "nolicence" in all_ids
    assert "inactive" not in all_ids
    assert "far" not in _ids(client.get(f"{VAC_URL}/matches", params={"max_distance_km": 50}))
    assert "low" not in _ids(client.get(f"{VAC_URL}/matches", params={"ladder_step_min": 4}))
    groups = _ids(client.get(f"{VAC_URL}/matches", params=[("client_group", "zorgen")]))
    assert groups == ["low"]
    both = _ids(
        client.get(
            f"{VAC_URL}/matches", params=[("client_group", "zorgen"), ("client_group", "matchen")]
        )
    )
    assert "low" in both and "forklift" in both
    client.put(VAC_URL, json=vacancy(requires_driving_licence=True))
    assert "nolicence" not in _ids(client.get(f"{VAC_URL}/matches"))
    high = client.get(f"{VAC_URL}/matches", params={"min_score": 0.99}).json()
    assert high["count"] == 0


def test_filtered_query_still_fills_the_limit(client: TestClient) -> None:
    client.put(VAC_URL, json=vacancy())
    for i in range(30):
        group = "groeien" if i % 6 == 0 else "matchen"
        cv = CARE_CV if i % 2 else CATERING_CV
        client.put(f"/v1/candidates/c{i:02d}", json=candidate(cv, client_group=group))
    resp = client.get(f"{VAC_URL}/matches", params={"client_group": "matchen", "limit": 20})
    assert len(_ids(resp)) == 20
    resp = client.get(f"{VAC_URL}/matches", params={"client_group": "groeien", "limit": 20})
    assert len(_ids(resp)) == 5


def test_candidate_matches_open_vacancies_only_by_default(client: TestClient) -> None:
    _setup_ridderkerk(client)
    client.put("/v1/employers/zorg-oost/vacancies/closed-1", json=vacancy(status="closed"))
    resp = client.get("/v1/candidates/forklift/matches")
    assert resp.status_code == 200
    items = resp.json()["data"]
    assert [(i["employer_id"], i["vacancy_id"]) for i in items] == [("transport-rijnmond", "vac-1")]
    assert items[0]["summary"]["title"] == "Heftruckchauffeur (m/v) 32 uur"
    resp = client.get("/v1/candidates/forklift/matches", params={"include_closed": "true"})
    assert {i["vacancy_id"] for i in resp.json()["data"]} == {"vac-1", "closed-1"}
    kinds = client.get("/v1/candidates/forklift/matches", params={"kind": "volunteer"})
    assert kinds.json()["count"] == 0


def test_ad_hoc_match_both_directions(client: TestClient) -> None:
    _setup_ridderkerk(client)
    resp = client.post(
        "/v1/match",
        json={
            "target": "candidates",
            "text": "Heftruckchauffeur gezocht voor ons magazijn, laden en lossen",
            "occupations": ["heftruckchauffeur"],
            "postcode": "2983",
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["target"] == "candidates"
    assert resp.json()["data"][0]["candidate_id"] == "forklift"
    resp = client.post(
        "/v1/match", json={"target": "vacancies", "text": "ervaren heftruckchauffeur", "limit": 5}
    )
    assert resp.status_code == 200
    assert resp.json()["data"][0]["vacancy_id"] == "vac-1"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"ladder_step_min": 7}, "ladder_step_min"),
        ({"ladder_step_min": 0}, "ladder_step_min"),
        ({"client_group": "rich"}, "client_group.0"),
        ({"max_distance_km": -5}, "max_distance_km"),
        ({"min_score": 1.5}, "min_score"),
        ({"focus_only": "maybe"}, "focus_only"),
    ],
)
def test_vacancy_matches_bad_parameters(client: TestClient, params: dict, field: str) -> None:
    client.put(VAC_URL, json=vacancy())
    resp = client.get(f"{VAC_URL}/matches", params=params)
    assert resp.status_code == 422
    assert resp.json()["error"] == "validation_error"
    assert field in [d["field"] for d in resp.json()["detail"]]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"ladder_step_min": 4}, "ladder_step_min"),
        ({"client_group": "matchen"}, "client_group"),
        ({"kind": "job"}, "kind.0"),
        ({"limit": 500}, "limit"),
    ],
)
def test_candidate_matches_bad_parameters(client: TestClient, params: dict, field: str) -> None:
    client.put("/v1/candidates/c1", json=candidate())
    resp = client.get("/v1/candidates/c1/matches", params=params)
    assert resp.status_code == 422
    assert field in [d["field"] for d in resp.json()["detail"]]


def test_matches_of_unknown_rows_are_404(client: TestClient) -> None:
    assert client.get(f"{VAC_URL}/matches").status_code == 404
    assert client.get("/v1/candidates/nobody/matches").status_code == 404
    assert client.get("/v1/candidates/bad id!/matches").status_code == 422


@pytest.mark.parametrize(
    "body, field",
    [
        ({"text": "heftruck"}, "target"),
        ({"target": "candidates"}, "text"),
        ({"target": "candidates", "text": "   "}, "text"),
        ({"target": "people", "text": "heftruck"}, "target"),
        ({"target": "candidates", "text": "heftruck", "limit": 0}, "limit"),
        ({"target": "candidates", "text": "heftruck", "colour": "red"}, "colour"),
        ({"target": "candidates", "text": "heftruck", "postcode": "12"}, "postcode"),
        ({"target": "vacancies", "text": "heftruck", "ladder_step_min": 4}, "ladder_step_min"),
        ({"target": "candidates", "text": "heftruck", "kind": ["regular"]}, "kind"),
        ({"target": "candidates", "text": 42}, "text"),
    ],
)
def test_ad_hoc_match_bad_input(client: TestClient, body: dict, field: str) -> None:
    resp = client.post("/v1/match", json=body)
    assert resp.status_code == 422, resp.text
    assert field in [d["field"] for d in resp.json()["detail"]]
