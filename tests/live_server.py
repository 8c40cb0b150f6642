"""The app under a real uvicorn server in a thread of the test process, and a helper that fires
requests at it at the same instant from several threads.

The test process has loaded the model already, so the server starts in a second or two; the
requests cross a real socket and run in the server's thread pool exactly as in production.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from matching.embedder import Encoder
from service.api.app import create_app
from service.api.deps import AppState
from service.config import Settings
from tests.reliability.processes import free_port


class LiveServer:
    """``create_app(settings, encoder)`` served by uvicorn on a free local port."""

    def __init__(self, settings: Settings, encoder: Encoder) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, encoder)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            assert self.thread.is_alive(), "the server thread exited during start-up"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    @property
    def state(self) -> AppState:
        """The running app's state (engine, indexes), for checks after a race."""
        return self.app.state.werkmatch  # type: ignore[no-any-return]

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)


@dataclass
class Problems:
    """What the application reported while a race ran: log records at WARNING or above, and
    warnings issued outside logging (printed as plain text, not as a JSON log line)."""

    records: list[logging.LogRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records] + self.warnings


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@contextmanager
def watch_problems() -> Iterator[Problems]:
    """Collect every warning and every application log record at WARNING or above.

    ``warnings.catch_warnings`` replaces module-level state, so it also sees warnings issued in
    the server's threads.
    """
    found = Problems()
    handler = _Collect(found.records)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
            found.warnings.extend(f"{w.category.__name__}: {w.message}" for w in caught)
    finally:
        root.removeHandler(handler)


@dataclass(frozen=True)
class Call:
    """One request of a race: a JSON body (or none), sent as ``media`` type."""

    method: str
    path: str
    body: Any = None
    media: str = "application/json"
    key: str | None = None  # another key than the race's own


def race(base: str, key: str, calls: Sequence[Call], timeout: float = 60) -> list[httpx.Response]:
    """Send the calls each from its own thread and connection, released together by a
    barrier; the answers in the order of ``calls``."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | BaseException | None] = [None] * len(calls)

    def one(i: int) -> None:
        call = calls[i]
        content = None if call.body is None else json.dumps(call.body).encode()
        headers = {"Authorization": f"Bearer {call.key or key}", "Content-Type": call.media}
        with httpx.Client(base_url=base, timeout=timeout, headers=headers) as http:
            http.get("/healthz")  # connect before the barrier: the requests then start at once
            barrier.wait()
            try:
                answers[i] = http.request(call.method, call.path, content=content)
            except BaseException as exc:  # reported by the caller
                answers[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)
    out: list[httpx.Response] = []
    for a in answers:
        if not isinstance(a, httpx.Response):
            raise AssertionError(f"a racing request did not get an answer: {a!r}")
        out.append(a)
    return out


def statuses(answers: Sequence[httpx.Response]) -> list[int]:
    return sorted(a.status_code for a in answers)
