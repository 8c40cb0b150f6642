"""Explanations as a record: every match answer carries its explanation, the model id and the
index version it was computed at, and the same request at the same version gives the same answer."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.matcher import Matcher
from service.state.index_state import SEARCH_ATTEMPTS
from tests.api.test_rematch import EMP, run, seed
from tests.factories import CARE_CV, FORKLIFT_CV, candidate

VERSION = re.compile(r"^(\d+):(flat|ivf\d+x\d+):(flat|ivf\d+x\d+)$")


def _ready(client: TestClient) -> tuple[str, int]:
    body = client.get("/readyz").json()
    return body["model"], body["change_log_seq"]


def _answers(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    """Every JSON endpoint that returns matches, with items."""
    out = {
        "vacancy matches": client.get(f"{EMP}/v-1/matches"),
        "candidate matches": client.get("/v1/candidates/k-1/matches"),
        "ad hoc candidates": client.post(
            "/v1/match", json={"target": "candidates", "text": FORKLIFT_CV}
        ),
        "ad hoc vacancies": client.post("/v1/match", json={"target": "vacancies", "text": CARE_CV}),
    }
    for name, resp in out.items():
        assert resp.status_code == 200, (name, resp.text)
    return {name: resp.json()["data"] for name, resp in out.items()}


def _without_record(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("model_id", "index_version")}


def test_every_match_carries_explanation_model_and_index_version(client: TestClient) -> None:
    seed(client)
    model, seq = _ready(client)
    first = _answers(client)
    for name, items in first.items():
        assert items, name
        for item in items:
            assert item["explanation"], name
            assert item["model_id"] == model
            match = VERSION.match(item["index_version"])
            assert match, item["index_version"]
            assert int(match.group(1)) == seq  # the index had applied every write, none after
            assert match.group(2) == match.group(3) == "flat"

    # the same requests at the same index version give the same answers
    assert _answers(client) == first

    # a write moves the version on; the answer shows which state it saw
    assert client.put("/v1/candidates/k-7", json=candidate()).status_code == 201
    _, later_seq = _ready(client)
    assert later_seq > seq
    for name, items in _answers(client).items():
        versions = {item["index_version"] for item in items}
        assert versions == {f"{later_seq}:flat:flat"}, name
    # the write did not touch the vacancies: their answers for k-1 are the same apart from it
    before = [_without_record(i) for i in first["candidate matches"]]
    after = client.get("/v1/candidates/k-1/matches").json()["data"]
    assert [_without_record(i) for i in after] == before


def test_rematch_new_matches_carry_the_runs_record(client: TestClient) -> None:
    seed(client)
    model, seq = _ready(client)
    finished = run(client)
    assert finished["model_id"] == model
    assert finished["change_seq_from"] == finished["change_seq_to"] == seq
    for url in ("/v1/caseworkers/cw-01/new-matches", f"{EMP}/v-1/new-matches"):
        items = client.get(url).json()["data"]
        assert items, url
        for item in items:
            assert item["explanation"]
            assert item["model_id"] == model
            assert item["index_version"] == f"{seq}:exact:exact"
            assert item["explanation_index_version"] == f"{seq}:flat:flat"

    # a later write: the stored score keeps the run's version, the explanation is rebuilt now
    assert client.put("/v1/candidates/k-8", json=candidate(caseworker_id="cw-09")).status_code
    _, now = _ready(client)
    item = client.get("/v1/caseworkers/cw-01/new-matches").json()["data"][0]
    assert item["index_version"] == f"{seq}:exact:exact"
    assert item["explanation_index_version"] == f"{now}:flat:flat"


def test_ui_fragments_show_the_record(client: TestClient) -> None:
    seed(client)
    model, seq = _ready(client)
    for url in ("/ui/f/vacancies/e-1/v-1", "/ui/f/candidates/k-1"):
        text = client.get(url).text
        assert model in text and f"{seq}:flat:flat" in text, url
    run(client)
    text = client.get("/ui/f/new-matches", params={"caseworker": "cw-01"}).text
    assert model in text and f"{seq}:exact:exact" in text and f"{seq}:flat:flat" in text


def test_a_search_that_overlaps_a_change_is_run_again(client: TestClient) -> None:
    """The version names exactly the state searched: a catch-up during the search (here: a
    write answered in the middle of it) makes it run again, at last holding changes back."""
    seed(client)
    state = client.app.state.werkmatch  # type: ignore[attr-defined]
    calls: list[int] = []

    def query(matcher: Matcher) -> int:
        calls.append(len(matcher.candidates))
        if len(calls) <= SEARCH_ATTEMPTS:  # another request writes and catches up meanwhile
            body = candidate(caseworker_id="cw-race")
            assert client.put(f"/v1/candidates/race-{len(calls)}", json=body).status_code == 201
        return len(matcher.candidates)

    with Session(state.engine) as session:
        seen, version = state.index.search(session, query)
    _, seq = _ready(client)
    assert len(calls) == SEARCH_ATTEMPTS + 1
    assert version == f"{seq}:flat:flat"
    assert seen == len(state.index.matcher.candidates) == 5 + SEARCH_ATTEMPTS


def test_openapi_documents_the_record(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("CandidateMatchItem", "VacancyMatchItem"):
        props = schemas[name]["properties"]
        assert "change-log" in props["index_version"]["description"]
        assert "model" in props["model_id"]["description"]
        assert {"explanation", "model_id", "index_version"} <= set(schemas[name]["required"])
    new = schemas["NewMatch"]["properties"]
    assert "exact" in new["index_version"]["description"]
    assert "explanation_index_version" in new
