"""Vacancy endpoints: employer-scoped idempotent upsert, read, delete, list and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.store.models import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS
from tests.factories import vacancy

URL = "/v1/employers/emp-a/vacancies/v1"


def test_put_creates_then_is_idempotent(client: TestClient) -> None:
    first = client.put(URL, json=vacancy())
    assert first.status_code == 201, first.text
    assert first.json()["employer_id"] == "emp-a" and first.json()["vacancy_id"] == "v1"
    assert first.json()["status"] == "open" and first.json()["kind"] == "regular"
    again = client.put(URL, json=vacancy())
    assert again.status_code == 200 and again.json() == first.json()
    closed = client.put(URL, json=vacancy(status="closed"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_same_vacancy_id_under_two_employers_is_two_vacancies(client: TestClient) -> None:
    assert client.put(URL, json=vacancy()).status_code == 201
    other = "/v1/employers/emp-b/vacancies/v1"
    assert client.put(other, json=vacancy(title="Magazijnmedewerker")).status_code == 201
    assert client.get(URL).json()["title"] == "Heftruckchauffeur (m/v) 32 uur"
    assert client.get(other).json()["title"] == "Magazijnmedewerker"
    assert client.delete(other).status_code == 204
    assert client.get(URL).status_code == 200
    assert client.get(other).status_code == 404


def test_list_with_status_and_employer_filters(client: TestClient) -> None:
    client.put("/v1/employers/emp-a/vacancies/v1", json=vacancy())
    client.put("/v1/employers/emp-a/vacancies/v2", json=vacancy(status="closed"))
    client.put("/v1/employers/emp-b/vacancies/v3", json=vacancy(status="filled"))
    assert client.get("/v1/vacancies").json()["count"] == 3
    open_ = client.get("/v1/vacancies", params={"status": "open"}).json()
    assert [v["vacancy_id"] for v in open_["data"]] == ["v1"]
    done = client.get("/v1/vacancies", params=[("status", "closed"), ("status", "filled")]).json()
    assert done["count"] == 2
    assert client.get("/v1/vacancies", params={"employer_id": "emp-b"}).json()["count"] == 1
    page = client.get("/v1/vacancies", params={"limit": 1, "offset": 1}).json()
    assert [v["vacancy_id"] for v in page["data"]] == ["v2"] and page["count"] == 3
    assert client.get("/v1/vacancies", params={"status": "gone"}).status_code == 422
    assert client.get("/v1/vacancies", params={"limit": 1000}).status_code == 422


def test_unknown_vacancy_is_404(client: TestClient) -> None:
    assert client.get(URL).status_code == 404
    assert client.delete(URL).status_code == 404


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({k: v for k, v in vacancy().items() if k != "description"}, "description"),
    ({k: v for k, v in vacancy().items() if k != "title"}, "title"),
    (vacancy(description="   "), "description"),
    (vacancy(description="x" * (MAX_DESCRIPTION_CHARS + 1)), "description"),
    (vacancy(title="t" * (MAX_TITLE_CHARS + 1)), "title"),
    (vacancy(title=["a"]), "title"),
    (vacancy(kind="internship"), "kind"),
    (vacancy(status="paused"), "status"),
    (vacancy(hours_per_week=0), "hours_per_week"),
    (vacancy(hours_per_week=80), "hours_per_week"),
    (vacancy(postcode="0123AB"), "postcode"),
    (vacancy(closes_on="31-12-2026"), "closes_on"),
    (vacancy(requires_driving_licence="misschien"), "requires_driving_licence"),
    (vacancy(employer_id="someone-else"), "employer_id"),
    (vacancy(salary=3000), "salary"),
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_bad_body_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    before = client.put(URL, json=vacancy()).json()
    resp = client.put(URL, json=body)
    assert resp.status_code == 422, resp.text
    assert field in [d["field"] for d in resp.json()["detail"]], resp.json()
    assert client.get(URL).json() == before


@pytest.mark.parametrize(
    "url",
    [
        "/v1/employers/bad employer/vacancies/v1",
        "/v1/employers/emp-a/vacancies/" + "v" * 65,
        "/v1/employers/emp-a/vacancies/v;1",
    ],
)
def test_bad_ids_in_path_are_422(client: TestClient, url: str) -> None:
    assert client.put(url, json=vacancy()).status_code == 422
    assert client.get(url).status_code == 422
    assert client.delete(url).status_code == 422
    assert client.get(url + "/matches").status_code == 422
