"""One set of handlers renders every error as ``{"error", "detail"}``, and never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from service.errors import DATABASE_RETRY_AFTER, InvalidParameter, WerkmatchError, short_name
from service.security import headers as security_headers

log = logging.getLogger(__name__)


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
    return getattr(request.scope.get("route"), "path", "unmatched")


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
