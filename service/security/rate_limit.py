"""Per-key rate limits in fixed windows: counted in Redis when ``WERKMATCH_REDIS_URL`` is set
(one budget over every worker and host), otherwise in each worker process's memory (a budget
per worker; never a database write per request).

The same counters bound requests without a valid key per client address (:func:`address_key`):
over that bound the access gate answers 429 without writing an audit record per request (see
:mod:`service.security.auth`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import ClassVar, Protocol

import anyio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window resets
    count: int = 0  # requests counted in this window, this one included


class RateLimiter(Protocol):
    def hit(self, key_id: str) -> Verdict: ...


async def count(limiter: RateLimiter, key_id: str) -> Verdict:
    """``limiter.hit`` from the event loop: a count in this process's memory runs right here
    (a dictionary update is cheaper than a hand-off to a worker thread and back); a count that
    waits on the network (Redis) runs in a worker thread."""
    if getattr(limiter, "in_process", False):
        return limiter.hit(key_id)
    return await anyio.to_thread.run_sync(limiter.hit, key_id)


class LimiterUnavailable(Exception):
    """The counter store cannot be reached; the request is refused with a 503, not let through."""


def address_key(host: str | None) -> str:
    """The counter name of a client address: ``a:`` and a hash (addresses are personal data
    and IPv6 ones are longer than a key id column), never the address itself."""
    digest = hashlib.sha256(f"werkmatch-address:{host or 'unknown'}".encode()).hexdigest()
    return "a:" + digest[:24]


def _window(width: int, now: float) -> tuple[int, int]:
    window = int(now // width)
    retry = max(1, int((window + 1) * width - now + 0.999))
    return window, retry


class ProcessLimiter:
    """Counts in this process's memory: no database write, no round trip.

    Each worker process counts on its own, so with ``n`` workers a key gets up to ``n`` times
    the limit per window (see docs/security.md); set ``WERKMATCH_REDIS_URL`` for one budget
    over all workers and hosts.
    """

    in_process: ClassVar[bool] = True  # never blocks: :func:`count` calls it in the event loop

    def __init__(self, limit: int, width_s: int = 60, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.width = width_s
        self.max_keys = max_keys  # bounds memory under a flood of client addresses
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key_id: str) -> Verdict:
        window, retry = _window(self.width, time.time())
        with self._lock:
            if window != self._window:  # a new window: every count starts again
                self._window, self._counts = window, {}
            elif key_id not in self._counts and len(self._counts) >= self.max_keys:
                # Full: count the newcomer as over the limit rather than forget anyone's count.
                return Verdict(False, self.limit, 0, retry, self.limit + 2)
            count = self._counts[key_id] = self._counts.get(key_id, 0) + 1
        return Verdict(count <= self.limit, self.limit, max(0, self.limit - count), retry, count)


class RedisLimiter:
    """Counts in Redis: INCR plus EXPIRE in one round trip."""

    in_process: ClassVar[bool] = False  # a network round trip: :func:`count` uses a thread

    def __init__(self, url: str, limit: int, width_s: int = 60) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.limit = limit
        self.width = width_s

    def hit(self, key_id: str) -> Verdict:
        import redis

        window, retry = _window(self.width, time.time())
        name = f"werkmatch:rate:{key_id}:{window}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(name)
            pipe.expire(name, self.width * 2)
            count = int(pipe.execute()[0])
        except redis.RedisError as exc:
            log.warning("rate-limit store unreachable: %s", type(exc).__name__)
            raise LimiterUnavailable from exc
        return Verdict(count <= self.limit, self.limit, max(0, self.limit - count), retry, count)


def make_limiter(redis_url: str | None, limit: int, width_s: int = 60) -> RateLimiter | None:
    """The limiter the settings ask for; None when limits are off (``limit == 0``)."""
    if limit <= 0:
        return None
    if redis_url:
        return RedisLimiter(redis_url, limit, width_s)
    return ProcessLimiter(limit, width_s)
