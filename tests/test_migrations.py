"""Migrations: head matches the models (no drift), downgrade works, unmigrated DB is refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlmodel import SQLModel

from matching.embedder import Encoder
from service.app import create_app
from service.config import Settings
from service.db import SchemaNotMigrated, current_revision, head_revision, make_engine, migrate


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

    from service.db import alembic_config

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
