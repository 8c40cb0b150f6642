"""The engine: a SQLite file database keeps a connection per concurrent request instead of
opening (and setting up) a new one for each request beyond SQLAlchemy's default five."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from service.store.db import SQLITE_POOL, make_engine


def test_sqlite_file_engine_reuses_a_connection_per_concurrent_request(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    opened: list[int] = []

    @event.listens_for(engine, "connect")
    def _count(_conn: Any, _record: Any) -> None:
        opened.append(1)

    concurrent = 12  # more than SQLAlchemy's default pool of 5, fewer than ours
    assert concurrent <= SQLITE_POOL
    barrier = threading.Barrier(concurrent)

    def request() -> None:
        with engine.connect() as conn:
            barrier.wait(timeout=30)  # every connection checked out at once
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"

    try:
        for _round in range(3):
            threads = [threading.Thread(target=request) for _ in range(concurrent)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        # the first round opened them; the next two reused every one
        assert len(opened) == concurrent
    finally:
        engine.dispose()


def test_in_memory_sqlite_engine_still_works() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
