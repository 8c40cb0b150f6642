"""GET /v1/reports/profile-completeness on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import candidate

URL = "/v1/reports/profile-completeness"


def test_profile_completeness_lists_what_is_missing(client: TestClient) -> None:
    assert client.get(URL).json() == {
        "active_candidates": 0,
        "complete": 0,
        "missing_counts": {"desired_occupation": 0, "hours": 0, "location": 0, "ladder_step": 0},
        "occupation_suggested": 0,
        "data": [],
        "count": 0,
    }
    client.put("/v1/candidates/a-full", json=candidate())
    client.put(
        "/v1/candidates/b-bare",
        json=candidate(
            desired_occupations=[],
            hours_per_week_min=None,
            hours_per_week_max=None,
            postcode=None,
            participation_ladder_step=None,
            caseworker_id="cw-02",
        ),
    )
    client.put("/v1/candidates/c-coords", json=candidate(postcode=None, lat=52.0, lon=4.5))
    client.put(
        "/v1/candidates/d-nohours", json=candidate(hours_per_week_min=None, hours_per_week_max=None)
    )
    client.put("/v1/candidates/e-inactive", json=candidate(desired_occupations=[], active=False))
    body = client.get(URL).json()
    assert (body["active_candidates"], body["complete"], body["count"]) == (4, 2, 2)
    assert body["missing_counts"] == {
        "desired_occupation": 1,
        "hours": 2,
        "location": 1,
        "ladder_step": 1,
    }
    assert body["data"] == [
        {
            "candidate_id": "b-bare",
            "caseworker_id": "cw-02",
            "missing": ["desired_occupation", "hours", "location", "ladder_step"],
            "suggested_occupations": [],  # no ESCO occupations imported: nothing read
        },
        {
            "candidate_id": "d-nohours",
            "caseworker_id": "cw-01",
            "missing": ["hours"],
            "suggested_occupations": [],
        },
    ]
    page = client.get(URL, params={"limit": 1, "offset": 1}).json()
    assert [d["candidate_id"] for d in page["data"]] == ["d-nohours"] and page["count"] == 2
    mine = client.get(URL, params={"caseworker_id": "cw-02"}).json()
    assert (mine["active_candidates"], mine["count"]) == (1, 1)


def test_profile_completeness_bad_query(client: TestClient) -> None:
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"caseworker_id": "bad id!"}, "caseworker_id"),
    ]:
        response = client.get(URL, params=params)
        assert response.status_code == 422, params
        assert [d["field"] for d in response.json()["detail"]] == [field]
