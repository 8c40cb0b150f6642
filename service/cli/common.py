"""What the commands share: logging, the error exit, the configured database and encoder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from service.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from matching.embedder import Encoder


def setup_logging() -> None:
    from service.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def show_result(result: dict[str, Any], as_json: bool, *lines: str) -> None:
    """A command's result: one JSON object with ``--json``, else the ``lines`` for a reader."""
    if as_json:
        typer.echo(json.dumps(result))
        return
    for line in lines:
        typer.echo(line)


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def vector_cache(settings: Settings) -> Path:
    from service.store.occupations import VECTOR_CACHE

    return settings.data_dir / VECTOR_CACHE


def fusion_encoder(settings: Settings) -> Encoder | None:
    """The configured encoder when the occupation normaliser is fused with it, else None."""
    if not settings.occupation_fusion:
        return None
    from matching.embedder import load_encoder

    return load_encoder(*settings.encoder_args())


def migrated_engine(settings: Settings) -> Engine:
    """An engine on the configured database once its schema is known to be migrated; exit 1
    naming the missing migration otherwise."""
    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine

    engine = make_engine(settings.resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        fail(str(exc))
    return engine


@contextmanager
def opened() -> Iterator[tuple[Session, Encoder, Settings]]:
    """A session on the configured (migrated) database, the configured encoder and the settings;
    the engine's pooled connections are closed when the command is done with them (left to the
    garbage collector they are dropped unclosed, mid-run for a command run in-process)."""
    from sqlmodel import Session

    from matching.embedder import load_encoder
    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        try:
            ensure_migrated(engine)
        except SchemaNotMigrated as exc:
            fail(str(exc))
        encoder = load_encoder(*settings.encoder_args())
        with Session(engine) as session:
            yield session, encoder, settings
    finally:
        engine.dispose()
