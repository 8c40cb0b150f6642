"""The OpenAPI document: valid, and every operation summarised, exemplified and with its errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from service.api.app import create_app
from service.api.openapi_examples import EXAMPLES
from service.config import Settings
from tests.factories import vacancy


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document; building it needs no database or model (the lifespan does not run)."""
    path = tmp_path_factory.mktemp("openapi") / "w.db"
    return create_app(Settings(database_url=f"sqlite:///{path}")).openapi()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def _check(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    OAS31Validator({**schema, "components": doc["components"]}).validate(instance)


def test_spec_is_valid(doc: dict[str, Any]) -> None:
    validate(doc)
    assert len(_operations(doc)) >= 18


def test_every_operation_has_a_summary_description_and_errors(doc: dict[str, Any]) -> None:
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        summary = op.get("summary", "")
        # FastAPI's fallback is the function name in title case; ours is a sentence.
        assert summary and not op["operationId"].startswith(summary.lower().replace(" ", "_"))
        assert op.get("description"), where
        responses = op["responses"]
        assert "500" in responses, where
        error_codes = [c for c in responses if c.startswith(("4", "5"))]
        for code in error_codes:
            if path == "/readyz" and code == "503":
                continue  # the readiness detail, not an error body
            schema = responses[code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (where, code)
        if op.get("requestBody") or any(p["in"] in ("path", "query") for p in op["parameters"]):
            assert "422" in responses, where
        if "{" in path and method in ("get", "delete"):
            assert "404" in responses, where
        assert "HTTPValidationError" not in str(responses)
        assert any(p["name"] == "X-Request-ID" for p in op["parameters"]), where


def test_every_body_and_json_answer_has_a_valid_example(doc: dict[str, Any]) -> None:
    checked = 0
    for path, method, op in _operations(doc):
        media_types = list(op.get("requestBody", {}).get("content", {}).items())
        for response in op["responses"].values():
            media_types += list(response.get("content", {}).items())
        for media_type, media in media_types:
            assert "example" in media, f"{method.upper()} {path} {media_type} has no example"
            if media.get("schema"):
                _check(doc, media["schema"], media["example"])
                checked += 1
    assert checked > 50


def test_examples_are_valid_for_their_models(doc: dict[str, Any]) -> None:
    for model, example in EXAMPLES.items():
        model.model_validate(example)
        _check(doc, {"$ref": f"#/components/schemas/{model.__name__}"}, example)


def test_real_error_answers_match_the_documented_shape(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorBody"}
    url = "/v1/employers/e/vacancies/v"
    answers = [
        client.put(url, json=vacancy(postcode="0123AB")),
        client.put(url, content=b"x", headers={"Content-Type": "text/plain"}),
        client.get(url),
        client.get("/v1/vacancies", params={"limit": 0}),
        client.put("/v1/candidates/c", content=b"{", headers={"Content-Type": "application/json"}),
    ]
    assert [a.status_code for a in answers] == [422, 415, 404, 422, 422]
    for answer in answers:
        _check(doc, error, answer.json())
