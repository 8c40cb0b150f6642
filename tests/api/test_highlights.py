"""Highlighted spans of the shared lexical terms in match items, on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from matching.text import content_terms
from tests.factories import CATERING_CV, FORKLIFT_CV, candidate, vacancy

VAC_URL = "/v1/employers/e/vacancies/hulpkok"
KITCHEN_VACANCY = vacancy(
    title="Hulpkok",
    occupation="hulpkok",
    skills=["afwassen"],
    description=(
        "Ons RESTAURANT zoekt een hulpkok voor de keuken en de afwas. Een diploma SOCIALE "
        "HYGIENE is een pré."
    ),
)


def _check_offsets(items: list[dict], texts: dict[str, str]) -> set[tuple[str, str]]:
    """Every highlight points at its term in its text; returns (side, covered text) pairs."""
    seen = set()
    for item in items:
        for h in item["highlights"]:
            covered = texts[h["side"]][h["start"] : h["end"]]
            assert h["term"] in content_terms(covered), (h, covered)
            seen.add((h["side"], covered))
    return seen


def test_match_items_point_at_shared_terms_in_cv_and_vacancy(client: TestClient) -> None:
    client.put(VAC_URL, json=KITCHEN_VACANCY)
    client.put("/v1/candidates/kok", json=candidate(CATERING_CV, desired_occupations=["hulpkok"]))
    texts = {"cv": CATERING_CV, "vacancy": KITCHEN_VACANCY["description"]}

    [item] = client.get(f"{VAC_URL}/matches").json()["data"]
    seen = _check_offsets([item], texts)
    # Case and accents differ between the texts: "Hygiëne" in the CV, "HYGIENE" in the vacancy.
    assert {("cv", "Hygiëne"), ("vacancy", "HYGIENE"), ("cv", "restaurant")} <= seen
    assert ("vacancy", "RESTAURANT") in seen and ("cv", "keuken") in seen
    shown = {h["term"] for h in item["highlights"]}
    cv_terms = set(content_terms(CATERING_CV + " ; hulpkok ; heftruck rijden ; orderpicken"))
    vac_terms = set(content_terms(KITCHEN_VACANCY["description"] + " ; Hulpkok ; afwassen"))
    assert shown <= cv_terms & vac_terms  # only terms the lexical signal shared
    assert {"hygiene", "restaurant", "keuken"} <= shown

    # The other direction gives the same spans.
    [back] = client.get("/v1/candidates/kok/matches").json()["data"]
    assert _check_offsets([back], texts) == seen


def test_ad_hoc_query_text_is_the_query_side(client: TestClient) -> None:
    client.put("/v1/candidates/kok", json=candidate(CATERING_CV))
    client.put("/v1/candidates/heftruck", json=candidate(FORKLIFT_CV))
    query = "Gezocht: hulpkok voor een Restaurant, kennis van Sociale Hygiëne"
    body = {"target": "candidates", "text": query}
    items = client.post("/v1/match", json=body).json()["data"]
    cvs = {"kok": CATERING_CV, "heftruck": FORKLIFT_CV}
    for item in items:
        _check_offsets([item], {"query": query, "cv": cvs[item["candidate_id"]]})
    kok = next(i for i in items if i["candidate_id"] == "kok")
    assert {"query", "cv"} == {h["side"] for h in kok["highlights"]}


def test_no_shared_terms_no_highlights(client: TestClient) -> None:
    client.put(VAC_URL, json=vacancy(description="Zie de titel.", skills=[], occupation=None))
    client.put("/v1/candidates/c", json=candidate("Kort cv.", skills=[], desired_occupations=[]))
    [item] = client.get(f"{VAC_URL}/matches").json()["data"]
    assert item["highlights"] == []
