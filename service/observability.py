"""Operations: Prometheus metrics, request ids and JSON logs without personal data.

Each app has its own metrics registry (tests build many apps in one process). Requests are
labelled by their *route template* (``/v1/candidates/{candidate_id}``), never by the raw path or
query string, so neither ids nor search texts reach a metric label or a log line. Bodies are
never logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import secrets
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matching.embedder import Embedded, Encoder

_WORKER_IDS: dict[int, str] = {}


def worker_id() -> str:
    """An opaque name of this process (8 hex digits, new in every process): answers tell the
    workers apart by it without telling a caller the host's process ids. The lifespan logs
    which pid it stands for."""
    pid = os.getpid()
    if pid not in _WORKER_IDS:  # after a fork the child draws its own
        _WORKER_IDS[pid] = secrets.token_hex(4)
    return _WORKER_IDS[pid]


REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
access_log = logging.getLogger("werkmatch.access")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
EMBED_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The app's metrics, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "werkmatch_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "werkmatch_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.embed_seconds = Histogram(
            "werkmatch_embedding_duration_seconds",
            "Time of one embedding call (a batch of texts) of the model.",
            buckets=EMBED_BUCKETS,
            registry=self.registry,
        )
        self.embedded_texts = Counter(
            "werkmatch_embedded_texts",
            "Texts embedded by the model (reused vectors are not counted).",
            registry=self.registry,
        )

    def watch(self, collector: Collector) -> None:
        self.registry.register(collector)


class IndexCollector(Collector):
    """Index sizes and change-log position, read at scrape time from the app's state."""

    def __init__(self, state_of: Callable[[], Any]) -> None:
        self._state_of = state_of

    def collect(self) -> Iterator[Metric]:
        state = self._state_of()
        if state is None:  # before the lifespan has built the state
            return
        sizes = GaugeMetricFamily(
            "werkmatch_index_size", "Vectors in the in-memory index, by kind.", labels=["kind"]
        )
        matcher = state.index.matcher
        sizes.add_metric(["candidate"], len(matcher.candidates))
        sizes.add_metric(["vacancy"], len(matcher.vacancies))
        yield sizes
        yield GaugeMetricFamily(
            "werkmatch_change_log_applied_seq",
            "Last change-log entry applied to this process's indexes.",
            value=state.index.last_seq,
        )
        info = GaugeMetricFamily(
            "werkmatch_model_info", "The embedding model in use (value is 1).", labels=["model"]
        )
        info.add_metric([state.encoder.model_id], 1)
        yield info


class TimedEncoder:
    """An Encoder that records each ``embed`` call's duration and text count."""

    def __init__(self, inner: Encoder, metrics: Metrics) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self._metrics = metrics

    def embed(self, texts: Sequence[str]) -> Embedded:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self._metrics.embed_seconds.observe(time.perf_counter() - started)
            self._metrics.embedded_texts.inc(len(texts))


def route_template(scope: Scope) -> str:
    """The matched route's path template; "unmatched" when no route matched (404s).

    Mounted apps (the static files) do not leave their route in the scope; they count as
    ``<mount path>/{path}``.
    """
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    request_path = scope.get("path", "")
    for route in getattr(scope.get("app"), "routes", ()):
        if isinstance(route, Mount) and request_path.startswith(route.path + "/"):
            return route.path + "/{path}"
    return "unmatched"


def incoming_request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a safe token, else a new random id."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")  # ASGI header values are bytes
            if _REQUEST_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class RequestObservability:
    """Outermost ASGI middleware: request id in and out, metrics, one access-log line.

    The access log holds method, route template, status, duration and request id: no path
    values, no query string, no body.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)


# ---------------------------------------------------------------- JSON logs

_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


def format_exception_safely(exc_info: Any) -> str:
    """A traceback without the exception's message: messages of database and validation errors
    can quote the values involved (a CV, a name), and logs must not hold personal data."""
    etype, _value, tb = exc_info
    frames = "".join(traceback.format_tb(tb))
    name = getattr(etype, "__qualname__", str(etype))
    return f"Traceback (most recent call last):\n{frames}{name} (message withheld from logs)"


class SafeTextFormatter(logging.Formatter):
    """The plain-text format, with tracebacks that leave out exception messages."""

    def formatException(self, ei: Any) -> str:
        return format_exception_safely(ei)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any ``extra``.
    Tracebacks leave out exception messages (see :func:`format_exception_safely`)."""

    def formatException(self, ei: Any) -> str:
        return format_exception_safely(ei)

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid is not None:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of each record.

    A plain StreamHandler keeps the stream it was created with; when a caller (a test runner,
    a CLI embedding) swaps ``sys.stderr`` later, records went to a closed stream.
    """

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str, fmt: str) -> None:
    """Root logging to stderr, as JSON lines (``fmt="json"``) or plain text."""
    handler = StderrHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(SafeTextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Python's warnings (a library's SAWarning, say) would print as bare text lines on stderr;
    # as records they are JSON lines like everything else.
    logging.captureWarnings(True)
    # uvicorn's own access log prints raw paths and query strings (ids, search texts); ours
    # prints route templates instead.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
