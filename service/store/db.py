"""Database engine, sessions and the migration check.

Alembic migrations are the only way the schema changes: ``werkmatch migrate`` applies them and
the app refuses to start on a database that is not at the latest revision.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

import migrations

log = logging.getLogger(__name__)


class SchemaNotMigrated(RuntimeError):
    """The database is missing, empty or behind the code's migrations."""


SQLITE_POOL = 16


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A file database keeps as many connections as requests run at once (``SQLITE_POOL``):
        # SQLAlchemy's default of 5 made every request beyond the fifth open a connection,
        # set its pragmas and close it again (2 % of a served process's time under 8
        # concurrent requests). A SQLite connection costs a file handle and its page cache.
        sized = {"pool_size": SQLITE_POOL, "max_overflow": SQLITE_POOL}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
            **(sized if parsed.database and parsed.database != ":memory:" else {}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Freed cells and pages are overwritten with zeros, so an erased CV does not linger
            # in the file's free space (the default depends on how SQLite was compiled).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    # hide_parameters: database errors would otherwise carry row values (CV text, postcodes)
    # into logs.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


def alembic_config(url: str) -> Config:
    """Alembic configuration for ``url``, independent of the working directory."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_migrated(engine: Engine) -> None:
    """Raise :class:`SchemaNotMigrated` unless the database is at the head revision."""
    url = engine.url.render_as_string(hide_password=False)
    head, current = head_revision(url), current_revision(engine)
    if current != head:
        raise SchemaNotMigrated(
            f"database {engine.url.render_as_string(hide_password=True)} is at revision "
            f"{current or 'none (empty)'}, code expects {head}: run `werkmatch migrate` first"
        )


CHECKPOINT_BUSY_MS = 2000
CHECKPOINT_RETRIES = 30
CHECKPOINT_RETRY_S = 2.0


def _truncate_wal(engine: Engine) -> bool:
    """One ``wal_checkpoint(TRUNCATE)``; True when the WAL was emptied (no reader in the way)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        (previous,) = cur.execute("PRAGMA busy_timeout").fetchone()
        cur.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_MS}")
        try:
            busy, _, _ = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            cur.execute(f"PRAGMA busy_timeout={int(previous)}")
            cur.close()
        return bool(busy == 0)
    finally:
        raw.close()


def scrub_after_erasure(engine: Engine) -> bool:
    """Remove the pages of erased rows from SQLite's write-ahead log; no-op elsewhere.

    With ``secure_delete`` the delete writes zeroed page images, but the WAL still holds the
    older images (with the erased text) until a checkpoint has copied the new ones into the
    database file and the log is truncated. ``wal_checkpoint(TRUNCATE)`` does both; it has to
    wait for readers of older WAL frames, so it is tried once here (up to
    ``CHECKPOINT_BUSY_MS``) and, if a reader is in the way, retried in the background.
    Returns whether the log is empty now.

    PostgreSQL removes deleted rows physically only when (auto)vacuum runs; see
    docs/security.md.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return True
    if _truncate_wal(engine):
        return True

    def retry() -> None:
        for _ in range(CHECKPOINT_RETRIES):
            time.sleep(CHECKPOINT_RETRY_S)
            try:
                if _truncate_wal(engine):
                    return
            except Exception:  # the engine may be disposed meanwhile (shutdown)
                log.exception("checkpoint after an erasure failed")
                return
        log.warning("the SQLite WAL could not be truncated after an erasure: readers stayed")

    threading.Thread(target=retry, name="erasure-checkpoint", daemon=True).start()
    return False


def ping(session: Session) -> None:
    """Run ``SELECT 1``: raises the driver's error (a ``DBAPIError``) when the database cannot
    be reached."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]  # typed for select() only
