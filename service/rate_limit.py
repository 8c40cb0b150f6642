"""Per-key rate limits that hold across workers and hosts: fixed windows counted in Redis when
``WERKMATCH_REDIS_URL`` is set, otherwise in the database every worker shares.

The same counters bound requests without a valid key per client address (:func:`address_key`):
over that bound the access gate answers 429 without writing an audit record per request (see
:mod:`service.auth`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from service.security_models import RateWindow

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


class DatabaseLimiter:
    """Counts in the ``rate_window`` table with one atomic upsert per request."""

    def __init__(self, engine: Engine, limit: int, width_s: int = 60) -> None:
        self.engine = engine
        self.limit = limit
        self.width = width_s
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def hit(self, key_id: str) -> Verdict:
        window, retry = _window(self.width, time.time())
        stmt = self._insert(RateWindow).values(key_id=key_id, window=window, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key_id", "window"], set_={"count": RateWindow.count + 1}
        ).returning(RateWindow.count)
        with Session(self.engine) as session:
            count = int(session.execute(stmt).scalar_one())
            if count == 1:  # first request of a new window: drop this key's old windows
                session.execute(
                    delete(RateWindow).where(
                        RateWindow.key_id == key_id,  # type: ignore[arg-type]
                        RateWindow.window < window,  # type: ignore[arg-type]
                    )
                )
            session.commit()
        return Verdict(count <= self.limit, self.limit, max(0, self.limit - count), retry, count)


class RedisLimiter:
    """Counts in Redis: INCR plus EXPIRE in one round trip."""

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


def make_limiter(
    engine: Engine, redis_url: str | None, limit: int, width_s: int = 60
) -> RateLimiter | None:
    """The limiter the settings ask for; None when limits are off (``limit == 0``)."""
    if limit <= 0:
        return None
    if redis_url:
        return RedisLimiter(redis_url, limit, width_s)
    return DatabaseLimiter(engine, limit, width_s)
