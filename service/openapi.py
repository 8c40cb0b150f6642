"""The OpenAPI document: FastAPI's, plus the schemas that only ``openapi_extra`` refers to."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.models import VacancyIn


def install_openapi(app: FastAPI) -> None:
    """Build the document once, on first request, with ``VacancyIn`` among the components.

    The vacancy PUT reads its body itself (JSON or JobPosting JSON-LD), so FastAPI does not see
    ``VacancyIn``; its schema is added here for the request body's ``$ref``.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["VacancyIn"] = VacancyIn.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
