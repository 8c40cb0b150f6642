"""ASGI middleware that bounds request bodies (size, and the nesting depth of JSON), also when
they arrive chunked."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import send_error, short_name
from service.json_bounds import MAX_JSON_DEPTH, depth_message, duplicate_key, too_deep


def _is_json(scope: Scope) -> bool:
    """A body the app parses as JSON: no media type (read as JSON), or any JSON media type."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media: bytes = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


def route_pattern(template: str) -> re.Pattern[str]:
    """The paths a route template such as ``/v1/candidates/{candidate_id}/x`` matches."""
    parts = re.split(r"\{[^/{}]+\}", template)
    return re.compile("[^/]+".join(re.escape(p) for p in parts))


class BodySizeLimit:
    """Answer 413 when a request body exceeds ``max_bytes``, before the app reads any of it,
    and 422 naming the field when a JSON body nests deeper than ``MAX_JSON_DEPTH`` levels,
    before anything parses it (a parser's recursion is no place to find out), or names one
    key twice in an object (a parser would keep one value and drop the other unseen).

    ``routes`` gives single routes another limit: (method, route template, max bytes), e.g.
    the CV-document upload, whose files are larger than any JSON body.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, routes: Sequence[tuple[str, str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = [(m, route_pattern(t), n) for m, t, n in routes]

    def _limit(self, scope: Scope) -> int:
        for method, pattern, limit in self.routes:
            if scope["method"] == method and pattern.fullmatch(scope.get("path", "")):
                return limit
        return self.max_bytes

    @staticmethod
    async def _reject(send: Send, limit: int) -> None:
        await send_error(send, 413, "payload_too_large", f"request body exceeds {limit} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await self._reject(send, limit)
                    return
        # Buffer the body (at most the limit) so that chunked uploads are bounded too.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._reject(send, limit)
                return
            if not message.get("more_body", False):
                break

        if _is_json(scope):
            body = b"".join(m.get("body", b"") for m in messages)
            field = too_deep(body, MAX_JSON_DEPTH)
            if field is not None:
                detail = [{"field": field, "location": "body", "message": depth_message()}]
                await send_error(send, 422, "validation_error", detail)
                return
            key = duplicate_key(body) if body else None
            if key is not None:
                reason = "given more than once in one object; a parser would keep only one"
                detail = [{"field": short_name(key), "location": "body", "message": reason}]
                await send_error(send, 422, "validation_error", detail)
                return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)
