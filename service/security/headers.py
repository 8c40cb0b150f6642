"""Security headers on every answer, and CORS only for the origins the operator lists.

Every answer gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy`` and
``Cross-Origin-Resource-Policy: same-origin``, HSTS (browsers ignore it over plain HTTP) and a
Content-Security-Policy:

* the JSON API: ``default-src 'none'`` (a JSON answer loads nothing and may not be framed);
* ``/ui``: its own scripts, styles and fetches only (``'self'``); no inline script or style;
* ``/docs`` and ``/redoc``: FastAPI's pages load Swagger UI and ReDoc from a CDN. Only those
  packages' paths are allowed, plus what each needs: the inline bootstrap script of Swagger UI
  (allowed by its SHA-256 hash, computed from the page as served), ReDoc's styles (it injects
  them at run time, so ``'unsafe-inline'`` styles there only), its web worker (``blob:``) and
  fonts and footer logo, and FastAPI's favicon.

Answers under ``/v1`` and the ``/ui`` fragments carry personal data: ``Cache-Control:
no-store``.

CORS is closed by default: without ``WERKMATCH_CORS_ORIGINS`` no answer carries a CORS header
and a browser on another origin cannot read any answer. With it, only those origins, only the
methods the API has, and only the headers a client needs (``Authorization``, ``Content-Type``,
``X-Request-ID``); no cookies (``allow_credentials`` off: keys travel in ``Authorization``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.observability import worker_id

SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
REDOC_CDN = "https://cdn.jsdelivr.net/npm/redoc@2/"
FASTAPI_FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"
GOOGLE_FONTS_CSS = "https://fonts.googleapis.com/css"
GOOGLE_FONTS = "https://fonts.gstatic.com"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"  # ReDoc's "API docs by Redocly" footer

# FastAPI's defaults (create_app does not change them).
DOCS_PATH, REDOC_PATH, OAUTH2_REDIRECT_PATH = "/docs", "/redoc", "/docs/oauth2-redirect"

_NO_FRAMING = "frame-ancestors 'none'; base-uri 'none'"
API_CSP = f"default-src 'none'; form-action 'none'; {_NO_FRAMING}"
UI_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    f"connect-src 'self'; form-action 'self'; {_NO_FRAMING}"
)
_DOCS_CSP = {
    DOCS_PATH: (
        f"default-src 'none'; script-src {SWAGGER_CDN} {{hashes}}; style-src {SWAGGER_CDN}; "
        f"img-src 'self' data: {FASTAPI_FAVICON}; connect-src 'self'; form-action 'none'; "
        f"{_NO_FRAMING}"
    ),
    REDOC_PATH: (
        f"default-src 'none'; script-src {REDOC_CDN}; worker-src blob:; "
        f"style-src 'unsafe-inline' {GOOGLE_FONTS_CSS}; font-src {GOOGLE_FONTS}; "
        f"img-src 'self' data: {FASTAPI_FAVICON} {REDOC_LOGO}; connect-src 'self'; "
        "form-action 'none'; "
        f"{_NO_FRAMING}"
    ),
    OAUTH2_REDIRECT_PATH: f"default-src 'none'; script-src {{hashes}}; {_NO_FRAMING}",
}

COMMON_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}

CORS_METHODS = ("GET", "PUT", "POST", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "X-Request-ID")
CORS_EXPOSED = ("X-Request-ID", "Retry-After")

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _is_ui(path: str) -> bool:
    return path == "/ui" or path.startswith("/ui/")


def headers_for(path: str) -> dict[str, str]:
    """The security headers of an answer to ``path`` (not the docs pages: see the middleware)."""
    out = dict(COMMON_HEADERS)
    out["Content-Security-Policy"] = UI_CSP if _is_ui(path) else API_CSP
    if path.startswith(("/v1/", "/ui/f/")) or path == "/v1":
        out["Cache-Control"] = "no-store"
    return out


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP hash sources (``'sha256-...'``) of the inline ``<script>`` elements of a page."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_csp(path: str, html: bytes) -> str:
    """The CSP of a documentation page, allowing exactly its own inline scripts."""
    hashes = " ".join(inline_script_hashes(html)) or "'none'"
    return _DOCS_CSP[path].replace("{hashes}", hashes)


_Encoded = tuple[frozenset[bytes], tuple[tuple[bytes, bytes], ...]]


def _encode(headers: dict[str, str]) -> _Encoded:
    added = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
    return frozenset(name for name, _ in added), added


def _with(
    message: Message,
    headers: dict[str, str] | _Encoded,
    before: tuple[tuple[bytes, bytes], ...] = (),
) -> Message:
    """``message`` with ``headers`` replacing any of the same name, after ``before`` (added as
    they are)."""
    names, added = _encode(headers) if isinstance(headers, dict) else headers
    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    return {**message, "headers": [*kept, *before, *added]}


# The API's, the UI's, and each of those with no-store: encoded once, not per answer.
_ENCODED: dict[tuple[bool, bool], _Encoded] = {}


def _encoded_for(path: str) -> _Encoded:
    kind = (_is_ui(path), path.startswith(("/v1/", "/ui/f/")) or path == "/v1")
    found = _ENCODED.get(kind)
    if found is None:
        found = _ENCODED[kind] = _encode(headers_for(path))
    return found


class WorkerHeader:
    """Name the answering process (``X-Werkmatch-Worker: <opaque id>``, see
    ``observability.worker_id``): which of several uvicorn workers served a request matters
    when following a write to a read. :class:`SecurityHeaders` adds it itself unless CORS is
    on (then this layer sits inside CORS, so a preflight answer carries no worker name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_pid(message: Message) -> None:
            if message["type"] == "http.response.start":
                pid = (b"x-werkmatch-worker", worker_id().encode())
                message = {**message, "headers": [*message.get("headers", []), pid]}
            await send(message)

        await self.app(scope, receive, send_with_pid)


class SecurityHeaders:
    """ASGI middleware: the headers of the module docstring, the worker's name
    (:class:`WorkerHeader`), and CORS when origins are given. One layer for all of them: every
    wrapper is a call and a ``send`` closure per request."""

    def __init__(self, app: ASGIApp, cors_origins: Sequence[str] = ()) -> None:
        self.app: ASGIApp = app
        self._name_worker = not cors_origins
        if cors_origins:
            self.app = CORSMiddleware(
                WorkerHeader(app),
                allow_origins=list(cors_origins),
                allow_methods=list(CORS_METHODS),
                allow_headers=list(CORS_HEADERS),
                expose_headers=list(CORS_EXPOSED),
                allow_credentials=False,
                max_age=600,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in _DOCS_CSP:
            await self._docs_page(scope, receive, send, path)
            return
        headers = _encoded_for(path)
        worker = self._worker()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with(message, headers, worker)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _worker(self) -> tuple[tuple[bytes, bytes], ...]:
        if not self._name_worker:
            return ()
        return ((b"x-werkmatch-worker", worker_id().encode()),)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Hold a (small) documentation page until its inline scripts can be hashed."""
        start: Message | None = None
        body: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(body)
            headers = {**COMMON_HEADERS, "Content-Security-Policy": docs_csp(path, html)}
            await send(_with(start, headers, self._worker()))
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, buffer)
