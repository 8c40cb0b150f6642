"""Test databases: copies of a migrated (or a populated) database, on SQLite and PostgreSQL.

A copy is a file copy for SQLite and ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL, so a
fixture can build expensive state once and hand every test its own copy of it.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "WERKMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# the ``params`` of a fixture that runs its tests once per backend
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def admin_engine() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def copy_database(source: str | Path, target_dir: Path) -> str:
    """A new database holding a copy of ``source``, returned as its URL: the SQLite file copied
    to ``target_dir``/werkmatch.db, or a database created from the PostgreSQL database of that
    name as its template. Drop a PostgreSQL copy with :func:`drop_database`."""
    if isinstance(source, Path):
        target = target_dir / "werkmatch.db"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    name = f"wm_t_{uuid.uuid4().hex[:12]}"
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            # a template must have no sessions; a pooled connection left open would refuse it
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": source},
            )
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    finally:
        admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Remove a PostgreSQL database made by :func:`copy_database` (SQLite files go with their
    temporary directory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


class LaterDrops:
    """Drops PostgreSQL databases in a thread of its own: a test's teardown hands over its copy
    and returns at once (a drop waits for the server's checkpoint, 0.2 to 2 s). At most
    ``pending`` copies wait, so a fast run cannot pile them up; :meth:`close` waits until every
    one is gone and says which could not be dropped."""

    def __init__(self, pending: int = 8) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=pending)
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="drop-databases", daemon=True)
        self._thread.start()

    def drop(self, url: str) -> None:
        self._queue.put(url)

    def _run(self) -> None:
        while (url := self._queue.get()) is not None:
            try:
                drop_database(url)
            except Exception as exc:  # reported by close(), after the tests
                self.errors.append(f"{make_url(url).database}: {exc}")

    def close(self) -> list[str]:
        self._queue.put(None)
        self._thread.join()
        return self.errors


def copy_source(url: str) -> Path | str:
    """What :func:`copy_database` copies the database at ``url`` from: its SQLite file or its
    PostgreSQL name."""
    parsed = make_url(url)
    assert parsed.database, url
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database)
    return parsed.database
