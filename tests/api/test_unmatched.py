"""GET /v1/reports/unmatched on both backends: after a rematch run on data built so that each
reason occurs, who is in no open vacancy's top-k, why, and the counts; paging and bad input;
a caseload-limited key sees its caseload only."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, candidate, vacancy

URL = "/v1/reports/unmatched"
FORKLIFT = "/v1/employers/emp-a/vacancies/v-forklift"
CARE = "/v1/employers/emp-a/vacancies/v-care"
ROTTERDAM = {"postcode": None, "lat": 51.92, "lon": 4.48}
GRONINGEN = {"postcode": None, "lat": 53.22, "lon": 6.57}

# candidate id -> (body, the reasons the report must give; empty: in a top-k, not reported)
PEOPLE: dict[str, tuple[dict[str, Any], list[str]]] = {
    # the forklift vacancy's one best candidate
    "a-top": (candidate(FORKLIFT_CV, caseworker_id="cw-1", **ROTTERDAM), []),
    # the care vacancy's one best candidate
    "f-care": (
        candidate(
            CARE_CV,
            desired_occupations=["verzorgende IG"],
            skills=["persoonlijke verzorging"],
            client_group="groeien",
            caseworker_id="cw-2",
            **ROTTERDAM,
        ),
        [],
    ),
    # lives 200 km away and travels 10 km at most
    "b-far": (
        candidate(FORKLIFT_CV, max_travel_km=10, caseworker_id="cw-1", **GRONINGEN),
        ["no_vacancy_in_reach"],
    ),
    # fits the care vacancy, which asks a driving licence they lack
    "c-nolicence": (
        candidate(
            CARE_CV,
            desired_occupations=["verzorgende IG"],
            driving_licence=False,
            client_group="groeien",
            caseworker_id="cw-2",
            **ROTTERDAM,
        ),
        ["licence_required"],
    ),
    # 8 to 12 hours a week; both vacancies ask 32 or 36
    "d-hours": (
        candidate(
            CATERING_CV,
            desired_occupations=["hulpkok"],
            hours_per_week_min=8,
            hours_per_week_max=12,
            caseworker_id="cw-1",
            **ROTTERDAM,
        ),
        ["hours_mismatch"],
    ),
    # no occupation, hours or ladder step
    "e-bare": (
        candidate(
            CATERING_CV,
            desired_occupations=[],
            hours_per_week_min=None,
            hours_per_week_max=None,
            participation_ladder_step=None,
            client_group=None,
            caseworker_id="cw-2",
            **ROTTERDAM,
        ),
        ["missing_fields"],
    ),
    # nothing lacking: another candidate simply scored higher
    "g-second": (
        candidate(
            FORKLIFT_CV,
            desired_occupations=["orderpicker"],
            skills=["orderpicken"],
            caseworker_id="cw-1",
            **ROTTERDAM,
        ),
        ["outranked"],
    ),
}
FORKLIFT_BODY = vacancy(lat=51.87, lon=4.60, postcode=None, hours_per_week=32)
CARE_BODY = vacancy(
    title="Verzorgende IG thuiszorg",
    description=(
        "Voor onze thuiszorgteams in Rotterdam zoeken wij een verzorgende IG. Je verleent "
        "persoonlijke verzorging aan ouderen en rapporteert in het zorgdossier. Je rijdt "
        "met de auto van cliënt naar cliënt."
    ),
    occupation="verzorgende IG",
    skills=["persoonlijke verzorging"],
    hours_per_week=36,
    requires_driving_licence=True,
    lat=51.92,
    lon=4.48,
    postcode=None,
)


def _rematch(client: TestClient, top_k: int = 1) -> int:
    resp = client.post("/v1/rematch-runs", json={"top_k": top_k})
    assert resp.status_code == 202, resp.text
    run_id = int(resp.json()["run_id"])
    deadline = time.monotonic() + 120
    while (state := client.get(f"/v1/rematch-runs/{run_id}").json()["state"]) == "running":
        assert time.monotonic() < deadline, "rematch run did not finish"
        time.sleep(0.1)
    assert state == "succeeded"
    return run_id


@pytest.fixture
def world(client: TestClient) -> TestClient:
    for cid, (body, _) in PEOPLE.items():
        assert client.put(f"/v1/candidates/{cid}", json=body).status_code == 201, cid
    assert client.put(FORKLIFT, json=FORKLIFT_BODY).status_code == 201
    assert client.put(CARE, json=CARE_BODY).status_code == 201
    return client


def test_no_run_yet_and_bad_input(client: TestClient) -> None:
    body = client.get(URL).json()
    assert body["run"] is None and body["count"] == 0 and body["data"] == []
    assert set(body["reason_counts"]) == set(body["reason_labels"])
    assert not any(body["reason_counts"].values())
    page = client.get("/ui/f/unmatched", params={"caseworker": "cw-1"})
    assert page.status_code == 200 and "nog geen nachtelijke run" in page.text
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"caseworker_id": "bad id!"}, "caseworker_id"),
        ({"client_group": "iedereen"}, "client_group"),
        ({"organisation_id": "bad id!"}, "organisation_id"),
        ({"organisation": "x"}, "organisation"),
    ]:
        resp = client.get(URL, params=params)
        assert resp.status_code == 422, params
        assert [d["field"] for d in resp.json()["detail"]] == [field], params
    for params, field in [
        ({"caseworker": "cw-1", "offset": -1}, "offset"),
        ({"caseworker": "bad id!"}, "caseworker"),
        ({"caseworker_id": "cw-1"}, "caseworker_id"),
    ]:
        resp = client.get("/ui/f/unmatched", params=params)
        assert resp.status_code == 422, params
        assert [d["field"] for d in resp.json()["detail"]] == [field], params


def test_each_reason_after_a_rematch_run(world: TestClient, settings: Settings) -> None:
    """One run, read by the API, a caseload-limited key and the page."""
    run_id = _rematch(world)
    resp = world.get(URL, params={"limit": 200})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["run"]["run_id"] == run_id and body["run"]["top_k"] == 1
    assert body["active_candidates"] == len(PEOPLE)
    expected = {cid: why for cid, (_, why) in PEOPLE.items() if why}
    got = {item["candidate_id"]: [r["code"] for r in item["reasons"]] for item in body["data"]}
    assert got == expected
    assert body["count"] == len(expected)
    assert [i["candidate_id"] for i in body["data"]] == sorted(expected)
    assert body["reason_counts"] == {
        "no_vacancy_in_reach": 1,
        "licence_required": 1,
        "hours_mismatch": 1,
        "missing_fields": 1,
        "not_indexed": 0,
        "outranked": 1,
    }
    assert body["client_group_counts"] == {
        "matchen": 3,
        "groeien": 1,
        "faciliteren": 0,
        "zorgen": 0,
        "unknown": 1,
    }
    assert body["missing_counts"] == {
        "desired_occupation": 1,
        "hours": 1,
        "location": 0,
        "ladder_step": 1,
    }
    by_id = {i["candidate_id"]: i for i in body["data"]}
    assert by_id["e-bare"]["missing"] == ["desired_occupation", "hours", "ladder_step"]
    labels = body["reason_labels"]
    for item in body["data"]:
        for reason in item["reasons"]:
            assert reason["label"] == labels[reason["code"]] and reason["detail"]
    assert "10 km" in by_id["b-far"]["reasons"][0]["detail"]
    # nothing passes b-far's travel distance, so the run holds no vacancy for them
    assert by_id["b-far"]["best_score"] is None and by_id["b-far"]["closest_vacancy"] is None
    # the care vacancy is filtered out for c-nolicence; the forklift one came closest
    closest = by_id["c-nolicence"]["closest_vacancy"]
    assert closest["vacancy_id"] == "v-forklift" and closest["employer_id"] == "emp-a"
    assert closest["score"] == by_id["c-nolicence"]["best_score"] > 0
    second = by_id["g-second"]
    assert second["closest_vacancy"]["vacancy_id"] == "v-forklift"
    assert 0 < second["best_score"] == second["closest_vacancy"]["score"]
    _caseload_limited_key_sees_its_caseload_only(world, settings)
    _page_lists_a_caseworkers_unmatched_with_a_chart_of_reasons(world)


def test_filters_paging_and_what_changes_after_the_run(
    world: TestClient, settings: Settings
) -> None:
    _rematch(world)
    whole = world.get(URL, params={"limit": 200}).json()
    ids = [i["candidate_id"] for i in whole["data"]]
    page = world.get(URL, params={"limit": 2, "offset": 1}).json()
    assert [i["candidate_id"] for i in page["data"]] == ids[1:3]
    assert page["count"] == whole["count"] and page["reason_counts"] == whole["reason_counts"]
    assert world.get(URL, params={"offset": 1000}).json()["data"] == []

    mine = world.get(URL, params={"caseworker_id": "cw-2"}).json()
    assert [i["candidate_id"] for i in mine["data"]] == ["c-nolicence", "e-bare"]
    assert mine["active_candidates"] == 3  # f-care, c-nolicence, e-bare
    groeien = world.get(URL, params={"client_group": "groeien"}).json()
    assert [i["candidate_id"] for i in groeien["data"]] == ["c-nolicence"]
    assert groeien["client_group_counts"]["groeien"] == 1
    assert groeien["client_group_counts"]["matchen"] == 0
    _organisation_filter_and_bound_keys(world, settings)

    # A candidate added after the run was not in it: not reported until the next run.
    late = candidate(CATERING_CV, desired_occupations=[], caseworker_id="cw-2", **ROTTERDAM)
    assert world.put("/v1/candidates/h-late", json=late).status_code == 201
    # Closing the care vacancy leaves its top candidate in no open vacancy's top-k.
    assert world.put(CARE, json={**CARE_BODY, "status": "closed"}).status_code == 200
    after = world.get(URL, params={"caseworker_id": "cw-2"}).json()
    assert [i["candidate_id"] for i in after["data"]] == ["c-nolicence", "e-bare", "f-care"]
    # an inactive candidate is not reported
    gone = {**PEOPLE["e-bare"][0], "active": False}
    assert world.put("/v1/candidates/e-bare", json=gone).status_code == 200
    assert "e-bare" not in {i["candidate_id"] for i in world.get(URL).json()["data"]}


def _organisation_filter_and_bound_keys(world: TestClient, settings: Settings) -> None:
    """An admin files two candidates under organisation gem-a; the filter and keys bound to an
    organisation see only theirs (who is listed still comes from the run)."""
    for cid in ("b-far", "d-hours"):
        body = {**PEOPLE[cid][0], "organisation_id": "gem-a"}
        assert world.put(f"/v1/candidates/{cid}", json=body).status_code == 200, cid
    gem_a = world.get(URL, params={"organisation_id": "gem-a"}).json()
    assert [i["candidate_id"] for i in gem_a["data"]] == ["b-far", "d-hours"]
    assert gem_a["active_candidates"] == 2
    url = settings.resolved_database_url()
    bound_a = bearer(make_token(url, "director", organisation_id="gem-a"))
    mine = world.get(URL, params={"limit": 200}, headers=bound_a).json()
    assert [i["candidate_id"] for i in mine["data"]] == ["b-far", "d-hours"]
    bound_b = bearer(make_token(url, "director", organisation_id="gem-b"))
    for params in ({}, {"organisation_id": "gem-a"}):
        other = world.get(URL, params=params, headers=bound_b).json()
        assert (other["active_candidates"], other["count"], other["data"]) == (0, 0, []), params
    for cid in ("b-far", "d-hours"):  # back as they were, for the rest of the test
        body = {**PEOPLE[cid][0], "organisation_id": None}
        assert world.put(f"/v1/candidates/{cid}", json=body).status_code == 200, cid


def _caseload_limited_key_sees_its_caseload_only(world: TestClient, settings: Settings) -> None:
    url = settings.resolved_database_url()
    cw1 = bearer(make_token(url, "director", caseworker_id="cw-1"))
    mine = world.get(URL, params={"limit": 200}, headers=cw1).json()
    assert [i["candidate_id"] for i in mine["data"]] == ["b-far", "d-hours", "g-second"]
    assert mine["active_candidates"] == 4 and mine["count"] == 3
    assert mine["client_group_counts"]["unknown"] == 0
    assert mine["reason_counts"]["licence_required"] == 0
    # asking for another caseload is an empty report, as if those candidates did not exist
    other = world.get(URL, params={"caseworker_id": "cw-2"}, headers=cw1).json()
    assert (other["active_candidates"], other["count"], other["data"]) == (0, 0, [])
    employer = bearer(make_token(url, "employer", employer_id="emp-a"))
    assert world.get(URL, headers=employer).status_code == 403


def _page_lists_a_caseworkers_unmatched_with_a_chart_of_reasons(world: TestClient) -> None:
    page = "/ui/f/unmatched"
    empty = world.get(page)
    assert empty.status_code == 200 and 'class="match' not in empty.text
    resp = world.get(page, params={"caseworker": "cw-1"})
    assert resp.status_code == 200
    html = resp.text
    for cid in ("b-far", "d-hours", "g-second"):
        assert f'data-candidate="{cid}"' in html
    assert "c-nolicence" not in html and "e-bare" not in html  # another caseworker's
    assert "3 van de 4 actieve kandidaten van cw-1 niet gevonden" in html
    api = world.get(URL, params={"caseworker_id": "cw-1"}).json()["reason_counts"]
    for code, n in api.items():
        assert f'data-reason="{code}" data-count="{n}"' in html
    assert "<svg" in html and "Geen open vacature binnen de reisafstand" in html
    assert "<script" not in html and "style=" not in html  # the page's CSP allows neither
