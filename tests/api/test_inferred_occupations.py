"""Occupations read from the CV (and from vacancies without occupation), on both backends:
stored on every write, shown read-only, used by focus_only, the ranking and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.esco import read_esco
from service.store.db import make_engine
from service.store.occupations import import_occupations
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_VACANCY, candidate, vacancy

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
ESCO = "http://data.europa.eu/esco/occupation/"
HEFTRUCK = ESCO + "eeac6251-1974-42f5-91ed-513c6c883755"
MAGAZIJN = ESCO + "bea705fe-06ac-4147-b8e0-6e8ac1208d8f"
VAC_URL = "/v1/employers/e/vacancies/heftruck-32"
# The forklift CV (made up): no desired occupation, no skills, only the text.
FORKLIFT_CV = (
    "Magazijnmedewerker met heftruckcertificaat en reachtruckervaring. Vijf jaar orderpicken "
    "in een distributiecentrum in Tilburg, daarna inpakwerk bij een webwinkel."
)
FOCUS = {"name": "Heftruckchauffeur", "synonyms": ["vorkheftruckchauffeur"]}


def _import(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        import_occupations(session, read_esco(SUBSET))
    engine.dispose()


def _bare(cv_text: str, **overrides: Any) -> dict[str, Any]:
    return candidate(cv_text, desired_occupations=[], skills=[], **overrides)


def _matches(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{VAC_URL}/matches", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_the_forklift_cv_is_in_focus_and_ranks_first(client: TestClient, db_url: str) -> None:
    _import(db_url)
    assert client.put("/v1/focus-occupations/heftruckchauffeur", json=FOCUS).status_code == 201
    assert client.put(VAC_URL, json=FORKLIFT_VACANCY).status_code == 201
    assert client.put("/v1/candidates/forklift", json=_bare(FORKLIFT_CV)).status_code == 201
    client.put("/v1/candidates/cook", json=candidate(CATERING_CV, desired_occupations=["kok"]))
    client.put("/v1/candidates/carer", json=candidate(CARE_CV, desired_occupations=["Zorg"]))
    denied = "Geen heftruckcertificaat. Werkervaring als kok in een hotel in Tilburg."
    client.put("/v1/candidates/no-cert", json=_bare(denied))

    body = client.get("/v1/candidates/forklift").json()
    assert body["desired_occupations"] == []  # what was stated stays as stated
    inferred = {o["uri"]: o for o in body["inferred_occupations"]}
    assert {HEFTRUCK, MAGAZIJN} <= set(inferred)
    for o in body["inferred_occupations"]:
        assert o["field"] == "cv_text"
        assert FORKLIFT_CV[o["start"] : o["end"]] == o["snippet"]
    assert (inferred[HEFTRUCK]["snippet"], inferred[HEFTRUCK]["via"]) == (
        "heftruckcertificaat",
        "cue",
    )
    assert (inferred[MAGAZIJN]["snippet"], inferred[MAGAZIJN]["via"]) == (
        "Magazijnmedewerker",
        "title",
    )

    in_focus = _matches(client, focus_only=True)
    assert [m["candidate_id"] for m in in_focus] == ["forklift"]
    [first] = in_focus
    assert first["focus"]["via"] == "cv"  # the answer says the focus was read, not stated
    assert first["focus"]["matched"] == "heftruckcertificaat"
    assert (
        "Focusberoep: beide in 'Heftruckchauffeur' (afgeleid uit cv: 'heftruckcertificaat', 90%)"
        in first["explanation"]
    )
    assert any(
        line.startswith("Beroep: beide in ESCO 'heftruckchauffeur'")
        and "afgeleid uit cv: 'heftruckcertificaat'" in line
        for line in first["explanation"]
    ), first["explanation"]
    everyone = _matches(client)
    assert everyone[0]["candidate_id"] == "forklift"
    assert {"cook", "carer", "no-cert"} <= {m["candidate_id"] for m in everyone}

    # The next write reads the CV again: without the certificate nor a forklift title, out.
    client.put("/v1/candidates/forklift", json=_bare("Vijf jaar ervaring als kok in Tilburg."))
    assert HEFTRUCK not in {
        o["uri"] for o in client.get("/v1/candidates/forklift").json()["inferred_occupations"]
    }
    assert _matches(client, focus_only=True) == []


def test_a_stated_occupation_is_not_read_again_and_wins_the_focus(
    client: TestClient, db_url: str
) -> None:
    _import(db_url)
    client.put("/v1/focus-occupations/heftruckchauffeur", json=FOCUS)
    client.put(VAC_URL, json=FORKLIFT_VACANCY)
    body = candidate(FORKLIFT_CV, desired_occupations=["Heftruckchauffeur"])
    stored = client.put("/v1/candidates/c", json=body).json()
    assert [link["uri"] for link in stored["desired_occupations_esco"]] == [HEFTRUCK]
    assert HEFTRUCK not in {o["uri"] for o in stored["inferred_occupations"]}
    assert MAGAZIJN in {o["uri"] for o in stored["inferred_occupations"]}
    [item] = _matches(client, focus_only=True)
    assert (item["focus"]["via"], item["focus"]["matched"]) == ("title", "Heftruckchauffeur")


def test_a_vacancy_without_occupation_is_read_from_its_title_then_its_text(
    client: TestClient, db_url: str
) -> None:
    _import(db_url)
    titled = {**FORKLIFT_VACANCY, "occupation": None, "title": "Magazijnmedewerker 24 uur"}
    stored = client.put("/v1/employers/e/vacancies/titled", json=titled).json()
    assert stored["occupation_esco"]["uri"] == MAGAZIJN  # the title is linked: text not read
    assert stored["inferred_occupations"] == []

    text_only = {
        **FORKLIFT_VACANCY,
        "occupation": None,
        "title": "Nieuwe collega gezocht",
        "description": "Voor ons distributiecentrum zoeken wij versterking. "
        "Een geldig heftruckcertificaat is vereist.",
    }
    stored = client.put("/v1/employers/e/vacancies/text", json=text_only).json()
    assert stored["occupation_esco"] is None
    [read] = stored["inferred_occupations"]
    assert (read["uri"], read["field"], read["snippet"]) == (
        HEFTRUCK,
        "description",
        "heftruckcertificaat",
    )
    assert text_only["description"][read["start"] : read["end"]] == read["snippet"]
    with_occupation = client.put("/v1/employers/e/vacancies/x", json=vacancy()).json()
    assert with_occupation["inferred_occupations"] == []  # an occupation is stated

    client.put("/v1/candidates/c", json=candidate(desired_occupations=["Heftruckchauffeur"]))
    data = client.get("/v1/candidates/c/matches").json()["data"]
    [item] = [m for m in data if m["vacancy_id"] == "text"]
    assert any(
        "afgeleid uit vacature: 'heftruckcertificaat'" in line for line in item["explanation"]
    ), item


def test_inferred_occupations_are_read_only(client: TestClient, db_url: str) -> None:
    _import(db_url)
    sent = [{"uri": HEFTRUCK, "preferred_label": "heftruckchauffeur", "score": 1.0}]
    for url, body in (
        ("/v1/candidates/c", {**_bare(FORKLIFT_CV), "inferred_occupations": sent}),
        (VAC_URL, {**FORKLIFT_VACANCY, "inferred_occupations": sent}),
    ):
        response = client.put(url, json=body)
        assert response.status_code == 422, response.text
        fields = [d["field"] for d in response.json()["detail"]]
        assert any("inferred_occupations" in f for f in fields), fields
        assert client.get(url).status_code == 404  # nothing written


def test_the_completeness_report_lists_them_as_suggestions(client: TestClient, db_url: str) -> None:
    _import(db_url)
    client.put("/v1/candidates/forklift", json=_bare(FORKLIFT_CV))
    client.put("/v1/candidates/stated", json=candidate(FORKLIFT_CV))
    report = client.get("/v1/reports/profile-completeness").json()
    assert report["missing_counts"]["desired_occupation"] == 1  # a suggestion fills nothing
    assert report["occupation_suggested"] == 1
    [row] = report["data"]
    assert row["candidate_id"] == "forklift" and row["missing"] == ["desired_occupation"]
    assert {"heftruckchauffeur", "magazijnmedewerker"} <= set(row["suggested_occupations"])
