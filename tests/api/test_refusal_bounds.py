"""Refused requests are recorded within bounds, so they are no free write amplifier.

Requests without a valid key count against their client address: up to
``unauthenticated_limit`` per window answer 401 with an audit record each; beyond it they
answer 429, are counted, and only the first one over the bound is recorded. A key's forbidden
(403) requests spend its rate budget, and of its requests over that budget (429) one per
window is recorded. Requests with a valid key are never blocked by anyone's refusals and are
audited as always.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.security.rate_limit import address_key
from service.store.db import make_engine
from service.store.security_models import AuditEvent
from tests.auth import bearer, make_token
from tests.factories import candidate
from tests.live_server import LiveServer, watch_problems

REDIS_URL = "redis://127.0.0.1:6379/15"
BOUND = 5
WINDOW_S = 3600  # long windows: a test rarely has to wait for a fresh one
TARGET = "kand-0002"


def _fresh_window(needed_s: float = 30) -> None:
    """Sleep into the next window when this one has fewer than ``needed_s`` seconds left, so
    that every count below falls in one window."""
    left = WINDOW_S - time.time() % WINDOW_S
    if left < needed_s:
        time.sleep(left + 0.05)


def _address() -> str:
    """A client address of this test alone (counters in Redis outlive the test's database)."""
    return "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3))


def _forget(settings: Settings, *addresses: str) -> None:
    """Drop this test's address counters from Redis (they would outlive its database)."""
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        for address in addresses:
            client.delete(*client.keys(f"werkmatch:rate:{address_key(address)}:*") or ["-"])


def _records(engine: Engine, **where: object) -> list[AuditEvent]:
    with Session(engine) as s:
        stmt = select(AuditEvent).where(
            *(getattr(AuditEvent, name) == value for name, value in where.items())
        )
        return list(s.exec(stmt.order_by(col(AuditEvent.id))).all())


@pytest.fixture(params=["database", "redis"])
def bounded(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    update: dict[str, object] = {
        "unauthenticated_limit": BOUND,
        "unauthenticated_window_s": WINDOW_S,
        "rate_limit_window_s": WINDOW_S,
    }
    if request.param == "redis":
        update["redis_url"] = REDIS_URL
    return settings.model_copy(update=update)


@pytest.fixture
def app(bounded: Settings, encoder: Encoder) -> Iterator[FastAPI]:
    app = create_app(bounded, encoder)
    with TestClient(app):  # runs the lifespan; the clients below come from other addresses
        yield app


def _client(app: FastAPI, address: str, token: str | None = None) -> TestClient:
    return TestClient(app, client=(address, 50000), headers=bearer(token) if token else None)


def test_requests_without_a_key_are_bounded_per_address(app: FastAPI, bounded: Settings) -> None:
    url = bounded.resolved_database_url()
    engine = make_engine(url)
    admin, intake = make_token(url, "admin"), make_token(url, "intake")
    attacker, neighbour = _address(), _address()
    assert _client(app, _address(), intake).put(f"/v1/candidates/{TARGET}", json=candidate())
    _fresh_window()
    anonymous = _client(app, attacker)
    codes = [anonymous.get(f"/v1/candidates/{TARGET}").status_code for _ in range(3)]
    # a malformed key, a key in the URL and an unknown key are refusals of the same kind
    codes.append(anonymous.get(f"/v1/candidates/{TARGET}", headers=bearer("wm_nope")).status_code)
    codes.append(anonymous.get(f"/v1/candidates/{TARGET}?key={admin}").status_code)
    over = [anonymous.get(f"/v1/candidates/{TARGET}") for _ in range(40)]
    assert codes == [401] * BOUND
    assert {r.status_code for r in over} == {429}
    assert over[-1].json() == {
        "error": "too_many_unauthenticated",
        "detail": "too many requests without a valid API key from this address; retry after "
        "the Retry-After seconds",
    }
    assert 1 <= int(over[-1].headers["retry-after"]) <= WINDOW_S
    # BOUND records of the refusals, one of the bound being reached, none of the other 39
    refused = _records(engine, candidate_id=TARGET, outcome="refused")
    assert [(r.status, r.key_id) for r in refused] == [(401, None)] * BOUND
    assert [(r.action, r.status, r.candidate_id) for r in _records(engine, action="refusals")] == [
        ("refusals", 429, None)
    ]
    # the bound is per address: another address is refused and recorded as before
    assert _client(app, neighbour).get(f"/v1/candidates/{TARGET}").status_code == 401
    assert len(_records(engine, candidate_id=TARGET, outcome="refused")) == BOUND + 1
    # a valid key is neither blocked by the refusals nor left unaudited, from either address
    for address in (attacker, neighbour):
        assert _client(app, address, intake).get(f"/v1/candidates/{TARGET}").status_code == 200
    allowed = _records(engine, candidate_id=TARGET, outcome="allowed", method="GET")
    assert len(allowed) == 2
    # the real records are one filter away, however many refusals came before them
    listed = _client(app, attacker, admin).get(
        "/v1/audit", params={"candidate_id": TARGET, "outcome": "allowed", "limit": 2}
    )
    assert listed.status_code == 200
    assert [r["method"] for r in listed.json()["data"]] == ["GET", "GET"]
    _forget(bounded, attacker, neighbour)
    engine.dispose()


def test_a_key_over_its_rate_is_recorded_once_per_window(
    bounded: Settings, encoder: Encoder
) -> None:
    """429s of a key over its budget are counted; one per window is recorded. Forbidden (403)
    requests spend the key's budget, so they are bounded by it too."""
    limited = bounded.model_copy(update={"rate_limit_requests": 3})
    url = limited.resolved_database_url()
    engine = make_engine(url)
    employer = make_token(url, "employer", employer_id="emp-a")
    kid = employer.split("_")[1]
    with TestClient(create_app(limited, encoder), headers=bearer(employer)) as client:
        _fresh_window()
        codes = [client.get(f"/v1/candidates/{TARGET}").status_code for _ in range(12)]
    assert codes == [403] * 3 + [429] * 9
    assert [r.status for r in _records(engine, key_id=kid)] == [403, 403, 403, 429]
    engine.dispose()


def test_no_record_when_the_counter_is_unreachable(settings: Settings, encoder: Encoder) -> None:
    """Without a working counter the refusal stands (401) but writes nothing: an uncounted
    refusal must not become an unbounded write."""
    port = random.randrange(20000, 30000)  # nothing listens there: Redis is "down"
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    engine = make_engine(down.resolved_database_url())
    with TestClient(create_app(down, encoder)) as client:
        for _ in range(3):
            assert client.get(f"/v1/candidates/{TARGET}").status_code == 401
        # with a key, the per-key limiter is just as unreachable: 503, never unlimited
        token = make_token(down.resolved_database_url(), "admin")
        assert client.get("/v1/candidates", headers=bearer(token)).status_code == 503
    assert _records(engine) == []
    engine.dispose()


def test_bad_bound_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="unauthenticated_limit"):
        Settings(unauthenticated_limit=-1)
    with pytest.raises(ValueError, match="unauthenticated_window_s"):
        Settings(unauthenticated_window_s=0)


def test_a_burst_from_behind_a_proxy_is_bounded_exactly(
    bounded: Settings, encoder: Encoder
) -> None:
    """200 parallel requests without a key, through a real server behind a trusted proxy
    (``X-Forwarded-For``): exactly BOUND are recorded, however the workers interleave, and a
    valid key from another address works throughout."""
    url = bounded.resolved_database_url()
    engine = make_engine(url)
    intake = make_token(url, "intake")
    attacker, colleague = _address(), _address()
    codes: list[int] = []
    mine: list[int] = []
    with LiveServer(bounded, encoder) as live, watch_problems() as problems:
        with httpx.Client(base_url=live.base, headers=bearer(intake)) as http:
            r = http.put(f"/v1/candidates/{TARGET}", json=candidate())
            assert r.status_code == 201
        _fresh_window()
        barrier = threading.Barrier(9)

        def attack() -> None:
            with httpx.Client(base_url=live.base, headers={"X-Forwarded-For": attacker}) as h:
                barrier.wait()
                codes.extend(h.get(f"/v1/candidates/{TARGET}").status_code for _ in range(25))

        def work() -> None:
            headers = {**bearer(intake), "X-Forwarded-For": colleague}
            with httpx.Client(base_url=live.base, headers=headers) as h:
                barrier.wait()
                mine.extend(h.get(f"/v1/candidates/{TARGET}").status_code for _ in range(10))

        threads = [threading.Thread(target=attack) for _ in range(8)]
        threads.append(threading.Thread(target=work))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert sorted(codes) == [401] * BOUND + [429] * (200 - BOUND)
    assert mine == [200] * 10
    assert len(_records(engine, candidate_id=TARGET, outcome="refused")) == BOUND
    assert len(_records(engine, action="refusals")) == 1
    assert len(_records(engine, candidate_id=TARGET, outcome="allowed", method="GET")) == 10
    # one warning line for the bound being reached, nothing else
    assert [r.getMessage().split(" sent ")[1] for r in problems.records] == [
        f"more than {BOUND} requests without a valid key in a window; answering 429"
    ]
    _forget(bounded, attacker, colleague)
    engine.dispose()
