"""POST /v1/occupations/normalize on both backends: before and after an ESCO import, bad input."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.esco import read_esco
from service.store.db import make_engine
from service.store.occupations import import_occupations

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
URL = "/v1/occupations/normalize"


def _import(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return import_occupations(session, read_esco(SUBSET))
    finally:
        engine.dispose()


def test_normalize_needs_imported_occupations(client: TestClient, db_url: str) -> None:
    response = client.post(URL, json={"title": "Heftruckchauffeur"})
    assert response.status_code == 503
    assert "werkmatch occupations import" in response.json()["detail"]
    assert _import(db_url)["created"] == 26
    # The running app sees the import made by another connection (as by the CLI).
    response = client.post(URL, json={"title": "Heftruckchauffeur (m/v) 32 uur", "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["normalized"] == "heftruckchauffeur" and body["count"] == 2
    top = body["data"][0]
    assert top["preferred_label"] == "heftruckchauffeur"
    assert top["isco_code"] == "8344"
    assert top["isco_label"]
    assert top["matched_label"] == "heftruckchauffeur" and top["score"] == 1.0
    assert _import(db_url) == {"created": 0, "updated": 0, "unchanged": 26}


def test_normalize_dutch_variants(client: TestClient, db_url: str) -> None:
    _import(db_url)
    for title, expected in [
        ("Chauffeur heftruck", "heftruckchauffeur"),
        ("Kapster 24 uur", "kapper"),
        ("Senior Schoonmaakster", "schoonmaker gebouwen"),
    ]:
        data = client.post(URL, json={"title": title}).json()["data"]
        assert len(data) == 5 and data[0]["preferred_label"] == expected, title


BAD_BODIES = [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 12}, "title"),
    ({"title": "(m/v) 32 uur"}, "title"),
    ({"title": "Kok", "limit": 0}, "limit"),
    ({"title": "Kok", "limit": 51}, "limit"),
    ({"title": "Kok", "top": 3}, "top"),
]


def test_normalize_bad_input_names_the_field(client: TestClient, db_url: str) -> None:
    _import(db_url)
    for body, field in BAD_BODIES:  # one app per backend keeps the suite fast
        response = client.post(URL, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "validation_error"
        assert field in [d["field"] for d in response.json()["detail"]], body
