"""ESCO links on write and the ESCO occupation match in ranking, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.esco import read_esco
from matching.profiles import EscoLink, Side
from matching.ranking import SAME_ISCO_FACTOR, UNCALIBRATED
from service.store.crud import relink_all
from service.store.db import make_engine
from service.store.occupations import OccupationIndex, import_occupations
from tests.factories import CATERING_CV, candidate, vacancy
from tests.oracle.ranking_oracle import score_pair

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
ESCO = "http://data.europa.eu/esco/occupation/"
HEFTRUCK = ESCO + "eeac6251-1974-42f5-91ed-513c6c883755"
PAKHUIS = ESCO + "808becc8-5a4e-4e71-a043-c2ea32b56ae3"
VAC_URL = "/v1/employers/e/vacancies/v"


def _import(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        import_occupations(session, read_esco(SUBSET))
    engine.dispose()


def test_vacancy_and_candidate_are_linked_to_esco_on_write(client: TestClient, db_url: str) -> None:
    _import(db_url)
    vac = client.put(VAC_URL, json=vacancy(occupation=None)).json()
    link = vac["occupation_esco"]
    assert link["uri"] == HEFTRUCK and link["isco_code"] == "8344"
    assert link["source"] == "normalised" and link["matched"] == "Heftruckchauffeur (m/v) 32 uur"
    assert link["score"] == 1.0
    cand = client.put(
        "/v1/candidates/c", json=candidate(desired_occupations=["Chauffeur heftruck", "Zanger"])
    ).json()
    # "Zanger" has no good ESCO match in the subset, so it is not linked.
    assert [x["uri"] for x in cand["desired_occupations_esco"]] == [HEFTRUCK]
    assert client.get("/v1/candidates/c").json()["desired_occupations_esco"][0]["uri"] == HEFTRUCK


def test_caller_chosen_esco_uri_overrides_normalisation(client: TestClient, db_url: str) -> None:
    _import(db_url)
    body = vacancy(esco_uri=PAKHUIS)
    link = client.put(VAC_URL, json=body).json()["occupation_esco"]
    assert (link["uri"], link["source"], link["score"]) == (PAKHUIS, "caller", 1.0)
    assert client.put(VAC_URL, json=body).status_code == 200  # idempotent
    cand = client.put("/v1/candidates/c", json=candidate(desired_esco_uris=[PAKHUIS])).json()
    assert [(x["uri"], x["source"]) for x in cand["desired_occupations_esco"]] == [
        (PAKHUIS, "caller"),
        (HEFTRUCK, "normalised"),
    ]


def test_unknown_or_malformed_esco_uri_is_a_422(client: TestClient, db_url: str) -> None:
    _import(db_url)
    cases = [
        (VAC_URL, vacancy(esco_uri=ESCO + "does-not-exist"), "esco_uri"),
        (VAC_URL, vacancy(esco_uri="heftruckchauffeur"), "esco_uri"),
        (
            "/v1/candidates/c",
            candidate(desired_esco_uris=[HEFTRUCK, ESCO + "x"]),
            "desired_esco_uris.1",
        ),
        ("/v1/candidates/c", candidate(desired_esco_uris="not a list"), "desired_esco_uris"),
    ]
    for url, body, field in cases:
        response = client.put(url, json=body)
        assert response.status_code == 422, response.text
        assert field in [d["field"] for d in response.json()["detail"]]
        assert client.get(url).status_code == 404  # nothing written


def test_without_imported_occupations_nothing_is_linked(client: TestClient) -> None:
    assert client.put(VAC_URL, json=vacancy()).json()["occupation_esco"] is None
    assert client.put("/v1/candidates/c", json=candidate()).json()["desired_occupations_esco"] == []


def test_same_esco_occupation_is_explained_in_matches(client: TestClient, db_url: str) -> None:
    _import(db_url)
    client.put(VAC_URL, json=vacancy())
    # Desired occupation worded differently from the vacancy title; ESCO links both.
    client.put(
        "/v1/candidates/forklift",
        json=candidate(desired_occupations=["vorkheftruckbestuurder"]),
    )
    client.put(
        "/v1/candidates/catering",
        json=candidate(cv_text=CATERING_CV, desired_occupations=["kok"], skills=["koken"]),
    )
    data = client.get(f"{VAC_URL}/matches").json()["data"]
    assert data[0]["candidate_id"] == "forklift"
    assert "Beroep: beide in ESCO 'heftruckchauffeur', ISCO 8344 (100%)" in data[0]["explanation"]
    assert data[0]["signals"]["occupation"] == 1.0
    assert not any("ESCO" in line for line in data[1]["explanation"])


def test_occupations_import_relinks_existing_rows(client: TestClient, db_url: str) -> None:
    client.put(VAC_URL, json=vacancy())
    client.put("/v1/candidates/c", json=candidate())
    assert client.get(VAC_URL).json()["occupation_esco"] is None
    _import(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        assert relink_all(session, OccupationIndex()) == {"vacancies": 1, "candidates": 1}
        assert relink_all(session, OccupationIndex()) == {"vacancies": 0, "candidates": 0}
    engine.dispose()
    assert client.get(VAC_URL).json()["occupation_esco"]["uri"] == HEFTRUCK
    top = client.get(f"{VAC_URL}/matches").json()["data"][0]  # the app caught up
    assert any("beide in ESCO 'heftruckchauffeur'" in line for line in top["explanation"])


def test_import_rejects_lines_with_unknown_esco_uris(client: TestClient, db_url: str) -> None:
    from service.batch.importer import import_lines

    _import(db_url)
    engine = make_engine(db_url)
    encoder = client.app.state.werkmatch.encoder  # type: ignore[attr-defined]
    from service.store import crud

    lines = [
        json.dumps({"external_id": "ok", **candidate()}),
        json.dumps({"external_id": "bad", **candidate(desired_esco_uris=[ESCO + "nope"])}),
    ]
    with Session(engine) as session:
        report = import_lines(session=session, kind=crud.CANDIDATES, lines=lines, encoder=encoder)
    engine.dispose()
    assert report.counts["created"] == 1
    assert report.rejected == [
        (2, f"desired_esco_uris.0: {ESCO}nope is not an imported ESCO occupation")
    ]


def _side(*links: EscoLink) -> Side:
    return Side(occupations=(), key_terms=frozenset(), terms=frozenset(), location=None, esco=links)


def test_same_isco_group_scores_less_than_the_same_occupation() -> None:
    heftruck = EscoLink("u:heftruck", "heftruckchauffeur", "8344", 0.9)
    other_8344 = EscoLink("u:other", "andere heftruckfunctie", "8344", 1.0)
    kok = EscoLink("u:kok", "kok", "5120", 1.0)
    same = score_pair(
        vacancy_side=_side(heftruck),
        cand_side=_side(heftruck),
        cosine=0.0,
        query_is_vacancy=True,
        calibration=UNCALIBRATED,
    )
    group = score_pair(
        vacancy_side=_side(heftruck),
        cand_side=_side(other_8344),
        cosine=0.0,
        query_is_vacancy=True,
        calibration=UNCALIBRATED,
    )
    other = score_pair(
        vacancy_side=_side(heftruck),
        cand_side=_side(kok),
        cosine=0.0,
        query_is_vacancy=True,
        calibration=UNCALIBRATED,
    )
    assert same.signals["occupation"] == 0.9  # the weaker link's score
    assert group.signals["occupation"] == pytest.approx(0.9 * SAME_ISCO_FACTOR)
    assert other.signals["occupation"] == 0.0
    assert "Beroep: beide in ESCO 'heftruckchauffeur', ISCO 8344 (90%)" in same.explanation
    assert any("zelfde ISCO-beroepsgroep 8344" in line for line in group.explanation)
    assert not any("ESCO" in line or "ISCO" in line for line in other.explanation)


def test_a_link_needs_the_threshold_of_the_normalisers_score_scale() -> None:
    from matching.occupations import (
        FUSED_THRESHOLDS,
        STRING_THRESHOLDS,
        OccupationHit,
        ScoreThresholds,
    )
    from service.store.occupation_links import _normalised

    class Stub:
        """Answers every title with one hit of a fixed score."""

        def __init__(self, score: float, thresholds: ScoreThresholds) -> None:
            self.score = score
            self.thresholds = thresholds

        def normalize(self, title: str, limit: int = 5) -> list[OccupationHit]:
            return [OccupationHit("urn:x", "heftruckchauffeur", "8344", title, self.score)]

    between = (FUSED_THRESHOLDS.link + STRING_THRESHOLDS.link) / 2  # 0.55
    assert FUSED_THRESHOLDS.link < between < STRING_THRESHOLDS.link
    assert _normalised(Stub(between, STRING_THRESHOLDS), "Heftruckchauffeur") is None  # type: ignore[arg-type]
    link = _normalised(Stub(between, FUSED_THRESHOLDS), "Heftruckchauffeur")  # type: ignore[arg-type]
    assert link is not None and link["score"] == between and link["source"] == "normalised"
    assert _normalised(Stub(0.49, FUSED_THRESHOLDS), "Heftruckchauffeur") is None  # type: ignore[arg-type]
