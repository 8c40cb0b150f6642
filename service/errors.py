"""Domain errors carry their HTTP status; one set of handlers renders ``{"error", "detail"}``."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Send

from service import security_headers

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER = 5


class WerkmatchError(Exception):
    status_code = 400
    error = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After when set

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


class UnsupportedMediaType(WerkmatchError):
    status_code = 415
    error = "unsupported_media_type"


class ServiceUnavailable(WerkmatchError):
    """Something the request needs is not loaded yet (e.g. no ESCO occupations imported)."""

    status_code = 503
    error = "unavailable"


class PayloadTooLarge(WerkmatchError):
    status_code = 413
    error = "payload_too_large"


class FieldError(BaseModel):
    field: str = Field(description="The parameter or body field at fault (dotted path).")
    location: str = Field(description="path, query, header or body.")
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx body."""

    error: str = Field(description="Machine-readable code, e.g. validation_error, not_found.")
    detail: list[FieldError] | str = Field(description="Field errors (422) or a message.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "error": "validation_error",
                    "detail": [
                        {"field": "postcode", "location": "body", "message": "invalid postcode"}
                    ],
                }
            ]
        }
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Not found"},
    413: {"model": ErrorBody, "description": "Request body too large"},
    422: {"model": ErrorBody, "description": "Invalid input; `detail` names each field"},
}


MAX_NAME_CHARS = 100


def short_name(name: str) -> str:
    """A field name as an error names it: a caller's unknown key or parameter is echoed only
    this far, so that an error never returns a megabyte the caller sent as a name."""
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            # FastAPI locates a decode error at ("body", <character offset>): the field at
            # fault is the body; the offset belongs in the message.
            where = err.get("loc", ("body", "?"))[-1]
            reason = err.get("ctx", {}).get("error", "invalid")
            message = f"not valid JSON: {reason} at character {where}"
            out.append({"field": "body", "location": "body", "message": message})
            continue
        loc = [str(p) for p in err.get("loc", ())]
        location = loc[0] if loc else "body"
        field = short_name(".".join(loc[1:]) or location)
        out.append({"field": field, "location": location, "message": err.get("msg", "invalid")})
    return out


def _route(request: Request) -> str:
    """The route template for logs: never the raw path, whose ids identify people."""
    return getattr(request.scope.get("route"), "path", "unmatched")  # type: ignore[no-any-return]


def _domain_response(exc: WerkmatchError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return JSONResponse(
        {"error": exc.error, "detail": exc.detail}, status_code=exc.status_code, headers=headers
    )


def _allowed_methods(request: Request) -> list[str]:
    """The methods some route fully matches at the request's path (asked of the routes
    themselves: FastAPI nests included routers, whose routes a flat scan would miss)."""
    routes = request.app.router.routes
    return [
        method
        for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as ``{"error": code, "detail": ...}``; never leak a stack trace."""

    @app.exception_handler(WerkmatchError)
    async def _domain(_: Request, exc: WerkmatchError) -> JSONResponse:
        return _domain_response(exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # Connection-level failures (server down, restarting, network) are temporary: 503 and
        # the pool's pre-ping reconnects once the server is back. Anything else is a bug.
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            log.warning(
                "database unavailable on %s %s: %s",
                request.method,
                _route(request),
                type(exc.orig).__name__,
            )
            return JSONResponse(
                {"error": "database_unavailable", "detail": "the database is not reachable; retry"},
                status_code=503,
                headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
            )
        log.exception("database error on %s %s", request.method, _route(request))
        return JSONResponse(
            {"error": "internal_error", "detail": "unexpected server error"}, status_code=500
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": "validation_error", "detail": _field_errors(exc)}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's only 400: a JSON body it cannot decode (e.g. not UTF-8). Answer as for
            # any other unreadable body (the vacancy PUT reads its own): a 422 naming `body`.
            return _domain_response(InvalidParameter("body", "not valid JSON", location="body"))
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the methods of the first route with this path; the resource
            # supports those of every route with it (e.g. GET, PUT and DELETE of a candidate).
            headers["Allow"] = ", ".join(_allowed_methods(request))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=headers or None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, _route(request))
        # Starlette answers this one outside every middleware: the headers come along here.
        return JSONResponse(
            {"error": "internal_error", "detail": "unexpected server error"},
            status_code=500,
            headers=security_headers.headers_for(request.url.path),
        )


async def send_error(
    send: Send,
    status: int,
    error: str,
    detail: str | list[dict[str, str]],
    retry: int | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer ``{"error", "detail"}`` straight over ASGI, for middleware that refuses a
    request before the app (and its exception handlers) sees it."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    if retry is not None:
        headers.append((b"retry-after", str(retry).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
