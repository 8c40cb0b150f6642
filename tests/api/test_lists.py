"""Every list answer is a list: paged with the same ``limit``/``offset``, and ``count`` is the
total over all pages. Walking the pages one item at a time gives every item once, and bad
paging parameters are a 422 naming the parameter, on every list route."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from service.config import Settings
from tests.auth import api_client
from tests.factories import CARE_CV, FORKLIFT_CV, HEFTRUCK_FOCUS, candidate, vacancy

EMP = "/v1/employers/emp-a/vacancies"
# list route -> how one item is told apart from the others
LISTS: dict[str, tuple[str, ...]] = {
    "/v1/candidates": ("candidate_id",),
    "/v1/vacancies": ("employer_id", "vacancy_id"),
    "/v1/focus-occupations": ("slug",),
    "/v1/audit": ("at", "request_id", "candidate_id", "action"),
    "/v1/reports/profile-completeness": ("candidate_id",),
    "/v1/caseworkers/cw-1/new-matches": ("vacancy_id", "candidate_id"),
    f"{EMP}/v-1/new-matches": ("vacancy_id", "candidate_id"),
}


@pytest.fixture
def client(settings: Settings, encoder: Encoder) -> Iterator[TestClient]:
    with api_client(settings, encoder) as c:
        for i in range(3):
            body = {**HEFTRUCK_FOCUS, "name": f"heftruckchauffeur {i}"}
            assert c.put(f"/v1/focus-occupations/focus-{i}", json=body).status_code == 201
        for i in range(4):
            cv = FORKLIFT_CV if i % 2 == 0 else CARE_CV
            body = candidate(cv + f" Kandidaat {i}.", caseworker_id="cw-1")
            if i % 2 == 1:  # incomplete profiles, for the report
                body = {"cv_text": cv, "caseworker_id": "cw-1", "postcode": "3011AB"}
            assert c.put(f"/v1/candidates/k-{i}", json=body).status_code == 201
        for i in range(3):
            assert c.put(f"{EMP}/v-{i}", json=vacancy()).status_code == 201
        resp = c.post("/v1/rematch-runs", json={"top_k": 10})
        assert resp.status_code == 202, resp.text
        run_id = resp.json()["run_id"]
        deadline = time.monotonic() + 120
        while c.get(f"/v1/rematch-runs/{run_id}").json()["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield c


def _key(item: dict[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(item.get(f) for f in fields)


@pytest.mark.parametrize("path", sorted(LISTS))
def test_every_list_pages_with_limit_offset_and_total_count(client: TestClient, path: str) -> None:
    whole = client.get(path, params={"limit": 200})
    assert whole.status_code == 200, whole.text
    body = whole.json()
    total = body["count"]
    assert total == len(body["data"]) >= 2, (path, body)
    fields = LISTS[path]
    if path == "/v1/audit":
        # the log grows with every read of candidate data; page over a fixed candidate
        path, total = "/v1/audit?candidate_id=k-0", None
        total = client.get(path, params={"limit": 200}).json()["count"]
    items = []
    for offset in range(total + 1):
        page = client.get(path, params={"limit": 1, "offset": offset})
        assert page.status_code == 200, page.text
        assert page.json()["count"] == total, (path, offset)
        assert len(page.json()["data"]) == (1 if offset < total else 0), (path, offset)
        items += [_key(i, fields) for i in page.json()["data"]]
    assert len(items) == len(set(items)) == total, path
    two = client.get(path, params={"limit": 2, "offset": 1}).json()["data"]
    assert [_key(i, fields) for i in two] == items[1:3]


@pytest.mark.parametrize("path", sorted(LISTS))
@pytest.mark.parametrize(
    ("param", "value"), [("limit", 0), ("limit", 201), ("limit", "x"), ("offset", -1)]
)
def test_bad_paging_is_a_422_naming_the_parameter(
    client: TestClient, path: str, param: str, value: Any
) -> None:
    resp = client.get(path, params={param: value})
    assert resp.status_code == 422, (path, param, value)
    assert [d["field"] for d in resp.json()["detail"]] == [param]


def test_new_matches_page_fragment_is_paged(client: TestClient) -> None:
    api = client.get("/v1/caseworkers/cw-1/new-matches", params={"limit": 200}).json()
    assert api["count"] > 0
    first = client.get("/ui/f/new-matches", params={"caseworker": "cw-1"})
    assert first.status_code == 200
    shown = first.text.count('class="match"')
    assert shown == min(api["count"], 25)
    beyond = client.get("/ui/f/new-matches", params={"caseworker": "cw-1", "offset": 10_000})
    assert beyond.status_code == 200 and beyond.text.count('class="match"') == 0
    bad = client.get("/ui/f/new-matches", params={"caseworker": "cw-1", "offset": -1})
    assert bad.status_code == 422
