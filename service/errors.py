"""Domain errors carry their HTTP status and render as ``{"error", "detail"}``
(the app's handlers: ``service.api.error_handlers``)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from starlette.types import Send

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
