"""Domain errors carry their HTTP status; one set of handlers renders ``{"error", "detail"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class WerkmatchError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


class NotFound(WerkmatchError):
    status_code = 404
    error = "not_found"


class InvalidParameter(WerkmatchError):
    """A request that is well-formed but asks for something that does not apply (422)."""

    status_code = 422
    error = "validation_error"

    def __init__(self, field: str, message: str, location: str = "query") -> None:
        super().__init__([{"field": field, "location": location, "message": message}])


class ServiceUnavailable(WerkmatchError):
    """Something the request needs is not loaded yet (e.g. no ESCO occupations imported)."""

    status_code = 503
    error = "unavailable"


class PayloadTooLarge(WerkmatchError):
    status_code = 413
    error = "payload_too_large"


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        location = loc[0] if loc else "body"
        field = ".".join(loc[1:]) or location
        out.append({"field": field, "location": location, "message": err.get("msg", "invalid")})
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as ``{"error": code, "detail": ...}``; never leak a stack trace."""

    @app.exception_handler(WerkmatchError)
    async def _domain(_: Request, exc: WerkmatchError) -> JSONResponse:
        return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "validation_error", "detail": _field_errors(exc)}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal_error", "detail": "unexpected server error"}, status_code=500
        )
