"""The match routes send their answers as built (no validation on the way out): each answer
still is exactly an object of the route's documented schema."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from service.api.match_service import match_answer
from service.api.schemas import AdHocMatchList, CandidateMatchList, VacancyMatchList
from tests.factories import CARE_CV, CATERING_CV, HEFTRUCK_FOCUS, candidate, vacancy

EMPLOYER = "/v1/employers/transport-rijnmond/vacancies"


def _exactly(model: type[BaseModel], resp: Any) -> dict[str, Any]:
    """The answer parsed by ``model``, and nothing in it that the model does not render."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    parsed = model.model_validate_json(resp.content)
    assert parsed.model_dump(mode="json") == body
    return body  # type: ignore[no-any-return]


def _setup(client: TestClient) -> None:
    assert (
        client.put("/v1/focus-occupations/heftruckchauffeur", json=HEFTRUCK_FOCUS).status_code
        == 201
    )
    bodies = {
        "forklift": candidate(),
        "no-place": candidate(postcode=None, participation_ladder_step=None, client_group=None),
        "care": candidate(
            CARE_CV, desired_occupations=["verzorgende IG"], skills=["zorg"], client_group="groeien"
        ),
        "catering": candidate(
            CATERING_CV, desired_occupations=["kok"], skills=["HACCP"], client_group="groeien"
        ),
    }
    for cid, body in bodies.items():
        assert client.put(f"/v1/candidates/{cid}", json=body).status_code == 201
    for vid, body in {
        "vac-1": vacancy(closes_on="2027-01-31"),
        "vac-2": vacancy(title="Kok", description=CATERING_CV, occupation="kok"),
    }.items():
        assert client.put(f"{EMPLOYER}/{vid}", json=body).status_code == 201


def test_every_match_answer_is_an_object_of_its_schema(client: TestClient) -> None:
    _setup(client)
    found = _exactly(CandidateMatchList, client.get(f"{EMPLOYER}/vac-1/matches"))
    assert found["count"] == len(found["data"]) == 4
    top = found["data"][0]
    assert top["candidate_id"] == "forklift" and top["focus"]["slug"] == "heftruckchauffeur"
    assert {h["side"] for h in top["highlights"]} == {"cv", "vacancy"}
    assert any(i["distance_km"] is None for i in found["data"])
    filtered = client.get(
        f"{EMPLOYER}/vac-1/matches",
        params={"ladder_step_min": 3, "client_group": "matchen", "max_distance_km": 25, "limit": 2},
    )
    assert [i["candidate_id"] for i in _exactly(CandidateMatchList, filtered)["data"]] == [
        "forklift"
    ]
    back = _exactly(VacancyMatchList, client.get("/v1/candidates/forklift/matches"))
    assert back["data"][0]["vacancy_id"] == "vac-1"
    assert back["data"][0]["summary"]["closes_on"] == "2027-01-31"
    assert any(i["summary"]["closes_on"] is None for i in back["data"])
    for target in ("candidates", "vacancies"):
        ad_hoc = client.post(
            "/v1/match", json={"target": target, "text": "heftruckchauffeur met VCA, Rotterdam"}
        )
        body = _exactly(AdHocMatchList, ad_hoc)
        assert body["target"] == target and body["count"] == len(body["data"]) > 0
        assert any(h["side"] == "query" for i in body["data"] for h in i["highlights"])


def test_an_empty_answer_is_an_object_of_its_schema(client: TestClient) -> None:
    _setup(client)
    none = client.get(f"{EMPLOYER}/vac-1/matches", params={"min_score": 1})
    assert _exactly(CandidateMatchList, none) == {"data": [], "count": 0}


def test_numpy_numbers_from_the_columns_are_sent_as_json_numbers() -> None:
    body = {"data": [{"score": np.float32(0.5), "participation_ladder_step": np.int64(3)}]}
    assert json.loads(match_answer(body).body) == {
        "data": [{"score": 0.5, "participation_ladder_step": 3}]
    }
    with pytest.raises(PydanticSerializationError, match="not a JSON type"):
        match_answer({"data": [object()]})
