"""A server started with the default ``encoder_load=lazy`` answers matches of stored rows from
their stored vectors without loading the model; the first text to embed loads it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.config import Settings
from tests.auth import bearer
from tests.factories import candidate, vacancy

VAC_URL = "/v1/employers/transport-rijnmond/vacancies/vac-1"


def _model_loaded(client: TestClient) -> bool:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    loaded = ready.json()["model_loaded"]
    assert isinstance(loaded, bool)
    return loaded


def test_matches_of_stored_rows_do_not_load_the_model(settings: Settings, admin_token: str) -> None:
    assert settings.encoder_load == "lazy"
    with TestClient(create_app(settings), headers=bearer(admin_token)) as client:
        assert not _model_loaded(client)
        assert client.put("/v1/candidates/forklift", json=candidate()).status_code == 201
        assert client.put(VAC_URL, json=vacancy()).status_code == 201
        assert _model_loaded(client)  # the writes embedded their texts
    with TestClient(create_app(settings), headers=bearer(admin_token)) as client:
        assert not _model_loaded(client)
        found = client.get(f"{VAC_URL}/matches")
        assert found.status_code == 200, found.text
        assert [i["candidate_id"] for i in found.json()["data"]] == ["forklift"]
        back = client.get("/v1/candidates/forklift/matches")
        assert [i["vacancy_id"] for i in back.json()["data"]] == ["vac-1"]
        assert not _model_loaded(client)
        ad_hoc = client.post(
            "/v1/match", json={"text": "heftruckchauffeur met VCA", "target": "candidates"}
        )
        assert ad_hoc.status_code == 200, ad_hoc.text
        assert ad_hoc.json()["data"][0]["candidate_id"] == "forklift"
        assert _model_loaded(client)  # a text that is not stored is embedded


def test_eager_load_has_the_model_before_the_first_request(
    settings: Settings, admin_token: str
) -> None:
    eager = settings.model_copy(update={"encoder_load": "eager"})
    with TestClient(create_app(eager), headers=bearer(admin_token)) as client:
        assert _model_loaded(client)
