"""Migrations: head matches the models (no drift), downgrade works, unmigrated DB is refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlmodel import SQLModel

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.store.db import (
    SchemaNotMigrated,
    current_revision,
    head_revision,
    make_engine,
    migrate,
)


def test_head_has_no_drift_from_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) == head_revision(db_url)
    migrate(db_url, "head")  # idempotent
    from alembic import command

    from service.store.db import alembic_config

    command.downgrade(alembic_config(db_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(db_url)
    assert {"candidate", "vacancy", "change_log"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_app_refuses_an_unmigrated_database(tmp_path, encoder: Encoder) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path)
    with (
        pytest.raises(SchemaNotMigrated, match="werkmatch migrate"),
        TestClient(create_app(settings, encoder)),
    ):
        pass


def test_every_revision_steps_up_and_down(db_url: str) -> None:
    """Walk the chain one revision at a time: up, down one, up again, on both backends."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from service.store.db import alembic_config

    cfg = alembic_config(db_url)
    chain = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions("base", "heads")]
    chain.reverse()  # oldest first
    assert chain and chain[-1] == head_revision(db_url)
    engine = make_engine(db_url)
    command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    previous = None
    for revision in chain:
        command.upgrade(cfg, revision)
        assert current_revision(engine) == revision
        command.downgrade(cfg, previous or "base")
        assert current_revision(engine) == previous
        command.upgrade(cfg, revision)
        previous = revision
    assert current_revision(engine) == head_revision(db_url)
    engine.dispose()
