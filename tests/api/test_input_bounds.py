"""JSON depth and size bounds on every JSON route, and lists that no stored row can break."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from service.config import Settings
from service.json_bounds import MAX_FREE_JSON_BYTES, MAX_JSON_DEPTH, raw_depth
from service.store.crud import relink_all
from service.store.db import make_engine
from service.store.occupations import OccupationIndex
from tests.auth import bearer, make_token
from tests.factories import candidate, vacancy

VAC = "/v1/employers/transport-bv/vacancies"
LD = {"Content-Type": "application/ld+json"}


def nested(depth: int, leaf: Any = 1) -> Any:
    """An object chain ``{"a": {"a": ... leaf}}`` of ``depth`` levels."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def _only_error(resp: Any, field: str, *words: str) -> None:
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert [d["field"] for d in detail] == [field], detail
    for word in words:
        assert word in detail[0]["message"], detail


def _posting(**extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": "Heftruckchauffeur",
        "description": "Heftruck rijden in het magazijn.",
        **extra,
    }


def test_raw_depth_ignores_brackets_in_strings() -> None:
    assert raw_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert raw_depth(b'{"a": "\\"[[[", "b": {}}') == 2
    assert raw_depth(b"[" * 5000) == 5000
    assert raw_depth(b"") == 0


@pytest.mark.parametrize("depth", [260, 280, 310, 3000])
def test_deep_extra_properties_refused_nothing_stored(client: TestClient, depth: int) -> None:
    # Built as text: json.dumps itself cannot encode thousands of levels.
    deep = '{"a":' * depth + "1" + "}" * depth
    body = json.dumps(vacancy())[:-1] + f', "extra_properties": {deep}}}'
    resp = client.put(
        f"{VAC}/poison", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    _only_error(resp, "extra_properties", f"at most {MAX_JSON_DEPTH}")
    assert client.get(f"{VAC}/poison").status_code == 404
    listed = client.get("/v1/vacancies", params={"limit": 200})
    assert listed.status_code == 200 and listed.json()["count"] == 0


def test_depth_bound_is_exact(client: TestClient) -> None:
    # The body is level 1, extra_properties level 2: its value may nest MAX_JSON_DEPTH - 1.
    fits = client.put(f"{VAC}/fits", json=vacancy(extra_properties=nested(MAX_JSON_DEPTH - 1)))
    assert fits.status_code == 201, fits.text
    assert fits.json()["extra_properties"] == nested(MAX_JSON_DEPTH - 1)
    deeper = client.put(f"{VAC}/deeper", json=vacancy(extra_properties=nested(MAX_JSON_DEPTH)))
    _only_error(deeper, "extra_properties", f"at most {MAX_JSON_DEPTH}")
    assert client.get(f"{VAC}/deeper").status_code == 404
    assert client.get(f"{VAC}/fits").json()["withheld"] == []


def test_big_extra_properties_refused(client: TestClient) -> None:
    big = {f"k{i}": "x" * 100 for i in range(MAX_FREE_JSON_BYTES // 100)}
    resp = client.put(f"{VAC}/big", json=vacancy(extra_properties=big))
    _only_error(resp, "extra_properties", f"at most {MAX_FREE_JSON_BYTES} bytes")
    assert client.get(f"{VAC}/big").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "/v1/candidates/kand-deep"),
        ("PUT", f"{VAC}/deep"),
        ("PUT", "/v1/focus-occupations/deep"),
        ("POST", "/v1/match"),
        ("POST", "/v1/occupations/normalize"),
        ("POST", "/v1/rematch-runs"),
        ("PUT", "/v1/matches/transport-bv/deep/kand-deep/status"),
    ],
)
@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000])
def test_too_deep_to_parse_is_422_on_every_json_route(
    client: TestClient, method: str, url: str, body: bytes
) -> None:
    resp = client.request(method, url, content=body, headers={"Content-Type": "application/json"})
    _only_error(resp, "body" if body.startswith(b"[") else "a", "nested deeper")
    # The connection is still usable, and nothing was stored.
    assert client.get("/v1/candidates/kand-deep").status_code == 404
    assert client.get("/healthz").status_code == 200


def test_too_deep_jobposting_names_the_property(client: TestClient) -> None:
    resp = client.put(f"{VAC}/jp", json=_posting(baseSalary=nested(280)), headers=LD)
    _only_error(resp, "baseSalary", "nested deeper")
    # Within the body bound, but too deep to keep inside extra_properties: named too.
    resp = client.put(f"{VAC}/jp", json=_posting(baseSalary=nested(MAX_JSON_DEPTH - 1)), headers=LD)
    _only_error(resp, "baseSalary", f"at most {MAX_JSON_DEPTH - 2}")
    big = {"note": "x" * (MAX_FREE_JSON_BYTES + 1)}
    resp = client.put(f"{VAC}/jp", json=_posting(baseSalary=big), headers=LD)
    _only_error(resp, "baseSalary", "bytes")
    assert client.get(f"{VAC}/jp").status_code == 404
    ok = client.put(f"{VAC}/jp", json=_posting(baseSalary=nested(MAX_JSON_DEPTH - 2)), headers=LD)
    assert ok.status_code == 201, ok.text


def test_a_poison_row_stored_before_the_bounds_breaks_no_read(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows written before the bounds existed: the row is shown with the field withheld, and
    the list and the employer's own reads keep working for everyone."""
    for vid in ("before", "poison", "after"):
        assert client.put(f"{VAC}/{vid}", json=vacancy()).status_code == 201
    engine = make_engine(settings.resolved_database_url())
    try:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE vacancy SET extra_properties = :deep WHERE external_id = 'poison'"),
                {"deep": json.dumps(nested(300))},
            )
    finally:
        engine.dispose()
    employer = bearer(
        make_token(settings.resolved_database_url(), "employer", employer_id="transport-bv")
    )
    with caplog.at_level(logging.WARNING, logger="service.api.rendering"):
        one = client.get(f"{VAC}/poison", headers=employer)
        listed = client.get("/v1/vacancies", params={"limit": 200})
    assert one.status_code == 200, one.text
    assert one.json()["extra_properties"] is None
    assert one.json()["withheld"] == ["extra_properties"]
    assert listed.status_code == 200, listed.text
    assert [v["vacancy_id"] for v in listed.json()["data"]] == ["before", "poison", "after"]
    assert any("withheld" in r.getMessage() for r in caplog.records)
    # Relinking every row to ESCO (after an import) takes the row as stored, and goes on.
    engine = make_engine(settings.resolved_database_url())
    try:
        with Session(engine) as session:
            assert relink_all(session, OccupationIndex()) == {"vacancies": 0, "candidates": 0}
    finally:
        engine.dispose()
    # The employer can replace it with a bounded one.
    fixed = client.put(f"{VAC}/poison", json=vacancy(extra_properties={"a": 1}))
    assert fixed.status_code == 200 and fixed.json()["withheld"] == []


def test_a_row_that_cannot_be_rendered_is_left_out_of_the_list(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    for cid in ("kand-a", "kand-b", "kand-c"):
        assert client.put(f"/v1/candidates/{cid}", json=candidate()).status_code == 201
    engine = make_engine(settings.resolved_database_url())
    try:
        with engine.begin() as conn:  # a value no longer in the client groups
            conn.execute(
                text("UPDATE candidate SET client_group = 'oud' WHERE external_id = 'kand-b'")
            )
    finally:
        engine.dispose()
    with caplog.at_level(logging.ERROR, logger="service.api.rendering"):
        listed = client.get("/v1/candidates")
    assert listed.status_code == 200, listed.text
    assert [c["candidate_id"] for c in listed.json()["data"]] == ["kand-a", "kand-c"]
    assert listed.json()["count"] == 3
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "left out of the list" in message and "kand-b" not in message
