"""Per-key rate limits: counted in each worker process (default) or in Redis, shared by every
worker; the request over the limit answers 429 with Retry-After and is audited as refused."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import anyio
import pytest
import redis
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.security.rate_limit import ProcessLimiter, RedisLimiter, count
from tests.auth import bearer, make_token
from tests.reliability.processes import ServerProcess, fresh_client

REDIS_URL = "redis://127.0.0.1:6379/15"
LIMIT = 5


WINDOW_S = 3600  # long windows, so that a test rarely has to wait for a fresh one


def _start_of_a_fresh_window(needed_s: float = 20, width: float = WINDOW_S) -> None:
    """Sleep into the next window when this one has fewer than ``needed_s`` seconds left, so
    the counts below fall in one fixed window and can be asserted exactly."""
    left = width - time.time() % width
    if left < needed_s:
        time.sleep(left + 0.05)


@pytest.fixture(params=["process", "redis"])
def limited(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    update: dict[str, object] = {"rate_limit_requests": LIMIT, "rate_limit_window_s": WINDOW_S}
    if request.param == "redis":
        update["redis_url"] = REDIS_URL
    return settings.model_copy(update=update)


def test_over_the_limit_is_429_per_key(limited: Settings, encoder: Encoder) -> None:
    url = limited.resolved_database_url()
    first, second = make_token(url, "director"), make_token(url, "director")
    with TestClient(create_app(limited, encoder)) as client:
        _start_of_a_fresh_window()
        codes = [client.get("/v1/candidates", headers=bearer(first)).status_code for _ in range(8)]
        assert codes == [200] * LIMIT + [429] * 3
        over = client.get("/v1/candidates", headers=bearer(first))
        assert over.status_code == 429
        assert over.json() == {
            "error": "rate_limited",
            "detail": "too many requests for this key; retry after the Retry-After seconds",
        }
        assert 1 <= int(over.headers["retry-after"]) <= WINDOW_S
        # another key has its own budget; public routes need none
        assert client.get("/v1/candidates", headers=bearer(second)).status_code == 200
        assert client.get("/healthz").status_code == 200
        # the refusal is audited
        admin = bearer(make_token(url, "admin"))
        rows = client.get("/v1/audit?limit=200", headers=admin).json()["data"]
        assert any(r["status"] == 429 and r["outcome"] == "refused" for r in rows)


def test_bad_limit_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_limit_requests"):
        Settings(rate_limit_requests=-1)


def test_limiters_count_one_window_per_key() -> None:
    kid = uuid.uuid4().hex[:12]
    limiters = [ProcessLimiter(3, 60), RedisLimiter(REDIS_URL, 3, 60)]
    _start_of_a_fresh_window(5, width=60)
    for limiter in limiters:
        verdicts = [limiter.hit(kid) for _ in range(4)]
        assert [v.allowed for v in verdicts] == [True, True, True, False]
        assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
        assert limiter.hit("other" + kid).allowed
    redis.Redis.from_url(REDIS_URL).delete(*redis.Redis.from_url(REDIS_URL).keys(f"*{kid}*"))


def test_the_process_limiter_starts_each_window_afresh_and_is_exact_under_threads() -> None:
    limiter = ProcessLimiter(50, 3600)
    import threading

    verdicts = []
    threads = [
        threading.Thread(target=lambda: verdicts.extend(limiter.hit("k") for _ in range(10)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(v.count for v in verdicts) == list(range(1, 81))
    assert sum(v.allowed for v in verdicts) == 50
    limiter._window -= 1  # as if the window had passed
    assert limiter.hit("k").count == 1
    full = ProcessLimiter(5, 3600, max_keys=2)
    assert full.hit("a").allowed and full.hit("b").allowed
    assert not full.hit("c").allowed  # a flood of new names is refused, nobody is forgotten
    assert full.hit("a").count == 2


def test_the_process_count_runs_in_the_event_loop_and_redis_in_a_thread() -> None:
    """The in-process count costs no hand-off to a worker thread; the Redis round trip does not
    block the event loop."""
    kid = uuid.uuid4().hex[:12]
    seen: dict[str, int] = {}

    class Watched:
        def __init__(self, name: str, limiter: ProcessLimiter | RedisLimiter) -> None:
            self.name, self.limiter = name, limiter
            self.in_process = limiter.in_process

        def hit(self, key_id: str):  # type: ignore[no-untyped-def]
            seen[self.name] = threading.get_ident()
            return self.limiter.hit(key_id)

    async def both() -> tuple[int, int]:
        loop = threading.get_ident()
        a = await count(Watched("process", ProcessLimiter(3, 60)), kid)
        b = await count(Watched("redis", RedisLimiter(REDIS_URL, 3, 60)), kid)
        return loop, a.count + b.count

    loop, counted = anyio.run(both)
    assert counted == 2
    assert seen["process"] == loop
    assert seen["redis"] != loop
    redis.Redis.from_url(REDIS_URL).delete(*redis.Redis.from_url(REDIS_URL).keys(f"*{kid}*"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_without_redis_each_worker_counts_its_own_budget(db_url: str, tmp_path: Path) -> None:
    """The documented default (docs/security.md): no shared counter, so with two workers a key
    gets the limit once per worker: exactly min(requests, limit) pass on each."""
    env = {
        "WERKMATCH_DATABASE_URL": db_url,
        "WERKMATCH_DATA_DIR": str(tmp_path / "data"),
        "WERKMATCH_RATE_LIMIT_REQUESTS": "20",
        "WERKMATCH_RATE_LIMIT_WINDOW_S": str(WINDOW_S),
    }
    server = ServerProcess(env, tmp_path / "server.log").start()
    try:
        assert len(server.wait_ready()) == 2
        token = make_token(db_url, "director")
        per_worker: dict[str, list[int]] = {}
        _start_of_a_fresh_window(40)
        with fresh_client(30, key=token) as http:
            for _ in range(60):
                r = http.get(f"{server.base}/v1/focus-occupations")
                per_worker.setdefault(r.headers["x-werkmatch-worker"], []).append(r.status_code)
        assert len(per_worker) == 2, "requests did not reach both workers"
        for codes in per_worker.values():
            passed = min(len(codes), 20)
            assert codes == [200] * passed + [429] * (len(codes) - passed), server.log()
    finally:
        server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_limit_holds_across_two_workers(db_url: str, tmp_path: Path) -> None:
    env = {
        "WERKMATCH_DATABASE_URL": db_url,
        "WERKMATCH_DATA_DIR": str(tmp_path / "data"),
        "WERKMATCH_RATE_LIMIT_REQUESTS": "40",
        "WERKMATCH_RATE_LIMIT_WINDOW_S": str(WINDOW_S),
        "WERKMATCH_REDIS_URL": REDIS_URL,
    }
    server = ServerProcess(env, tmp_path / "server.log").start()
    try:
        assert len(server.wait_ready()) == 2
        token = make_token(db_url, "director")
        statuses: dict[int, int] = {}
        workers: set[str] = set()
        _start_of_a_fresh_window(40)
        with fresh_client(30, key=token) as http:
            for _ in range(60):
                r = http.get(f"{server.base}/v1/focus-occupations")
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                workers.add(r.headers["x-werkmatch-worker"])
        assert len(workers) == 2, "requests did not reach both workers"
        # one budget for both workers: 40 in the window, not 40 per worker
        assert statuses == {200: 40, 429: 20}, server.log()
    finally:
        server.stop()
