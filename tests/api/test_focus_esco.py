"""Focus occupations defined by ESCO occupation (``esco_uris``), on both backends."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.esco import read_esco
from service.store.db import make_engine
from service.store.occupations import import_occupations
from tests.factories import candidate, vacancy

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
ESCO = "http://data.europa.eu/esco/occupation/"
HEFTRUCK = ESCO + "eeac6251-1974-42f5-91ed-513c6c883755"
PAKHUIS = ESCO + "808becc8-5a4e-4e71-a043-c2ea32b56ae3"
FOCUS_URL = "/v1/focus-occupations/logistiek"
VAC_URL = "/v1/employers/e/vacancies/v"
# Name and synonym deliberately unlike "heftruckchauffeur": only the ESCO link can match.
LOGISTIEK = {"name": "Logistiek vakkracht", "synonyms": ["orderverzamelaar"]}


def _import(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        import_occupations(session, read_esco(SUBSET))
    engine.dispose()


def _focus_of(client: TestClient, url: str) -> list[dict]:
    body = client.get(url, params={"focus_only": True}).json()
    return [item["focus"] for item in body["data"]]


def test_esco_uris_put_into_focus_rows_linked_to_them(client: TestClient, db_url: str) -> None:
    _import(db_url)
    # Rows written before the focus occupation exists: set_focus re-derives their hits.
    assert client.put(VAC_URL, json=vacancy(occupation=None)).json()["occupation_esco"]["uri"] == (
        HEFTRUCK
    )
    client.put("/v1/candidates/c", json=candidate(desired_occupations=["Chauffeur heftruck"]))
    assert client.put(FOCUS_URL, json=LOGISTIEK).status_code == 201
    assert _focus_of(client, f"{VAC_URL}/matches") == []  # neither title matches the name

    resp = client.put(FOCUS_URL, json={**LOGISTIEK, "esco_uris": [PAKHUIS, HEFTRUCK]})
    assert resp.status_code == 200 and resp.json()["esco_uris"] == [PAKHUIS, HEFTRUCK]
    assert client.get(FOCUS_URL).json()["esco_uris"] == [PAKHUIS, HEFTRUCK]
    [hit] = _focus_of(client, f"{VAC_URL}/matches")
    assert hit["slug"] == "logistiek" and hit["via"] == "esco"
    assert hit["label"] == "heftruckchauffeur" and hit["matched"] == HEFTRUCK
    assert hit["score"] == 1.0  # the candidate's link score ("Chauffeur heftruck" normalised)
    [item] = client.get("/v1/candidates/c/matches", params={"focus_only": True}).json()["data"]
    assert (item["focus"]["via"], item["focus"]["matched"]) == ("esco", HEFTRUCK)
    assert (
        "Focusberoep: beide in 'Logistiek vakkracht' (via ESCO-beroep 'heftruckchauffeur', 100%)"
        in item["explanation"]
    )

    # A row written after the focus occupation: its hit comes from the write path.
    client.put("/v1/candidates/d", json=candidate(desired_occupations=["Vorkheftruckchauffeur"]))
    ids = {i["candidate_id"] for i in client.get(f"{VAC_URL}/matches").json()["data"]}
    focus_ids = {
        i["candidate_id"]
        for i in client.get(f"{VAC_URL}/matches", params={"focus_only": True}).json()["data"]
    }
    assert {"c", "d"} <= ids and focus_ids == {"c", "d"}

    # Removing the URI takes the rows out of focus again.
    client.put(FOCUS_URL, json={**LOGISTIEK, "esco_uris": [PAKHUIS]})
    assert _focus_of(client, f"{VAC_URL}/matches") == []


def test_title_match_is_kept_when_as_strong_as_the_esco_link(
    client: TestClient, db_url: str
) -> None:
    _import(db_url)
    client.put(VAC_URL, json=vacancy(occupation=None))
    client.put("/v1/candidates/c", json=candidate(desired_occupations=["Heftruckchauffeur"]))
    body = {"name": "Heftruckchauffeur", "esco_uris": [HEFTRUCK]}
    client.put("/v1/focus-occupations/heftruck", json=body)
    [hit] = _focus_of(client, f"{VAC_URL}/matches")
    assert (hit["via"], hit["label"], hit["matched"], hit["score"]) == (
        "title",
        "Heftruckchauffeur",
        "Heftruckchauffeur",
        1.0,
    )


def test_unknown_or_malformed_focus_esco_uri_is_a_422(client: TestClient, db_url: str) -> None:
    cases = [
        ({**LOGISTIEK, "esco_uris": [HEFTRUCK]}, "esco_uris.0"),  # nothing imported yet
    ]
    for body, field in cases:
        response = client.put(FOCUS_URL, json=body)
        assert response.status_code == 422, response.text
        assert field in [d["field"] for d in response.json()["detail"]]
    _import(db_url)
    cases = [
        ({**LOGISTIEK, "esco_uris": [HEFTRUCK, ESCO + "does-not-exist"]}, "esco_uris.1"),
        ({**LOGISTIEK, "esco_uris": ["heftruckchauffeur"]}, "esco_uris.0"),
        ({**LOGISTIEK, "esco_uris": HEFTRUCK}, "esco_uris"),
    ]
    for body, field in cases:
        response = client.put(FOCUS_URL, json=body)
        assert response.status_code == 422, response.text
        assert field in [d["field"] for d in response.json()["detail"]]
        assert client.get(FOCUS_URL).status_code == 404  # nothing written
    # An existing focus occupation is left as it was by a rejected replacement.
    assert client.put(FOCUS_URL, json={**LOGISTIEK, "esco_uris": [PAKHUIS]}).status_code == 201
    bad = {**LOGISTIEK, "esco_uris": [ESCO + "does-not-exist"]}
    assert client.put(FOCUS_URL, json=bad).status_code == 422
    assert client.get(FOCUS_URL).json()["esco_uris"] == [PAKHUIS]
