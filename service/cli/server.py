"""``werkmatch migrate``, ``serve`` and ``check``: the database schema, the HTTP service and
the check of its indexes against the database."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from service.cli.common import fail, setup_logging
from service.config import get_settings


def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the database migrations (creates the SQLite file if needed)."""
    from service.store.db import make_engine
    from service.store.db import migrate as run_migrations

    settings = get_settings()
    url = settings.resolved_database_url()
    make_engine(url).dispose()  # creates the SQLite file's directory
    try:
        run_migrations(url, revision)
    except Exception as exc:
        fail(f"migration failed: {exc}")
    typer.echo(f"database migrated to {revision}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes. Each loads the model and indexes itself and follows the "
            "others' writes through the change log.",
        ),
    ] = 1,
) -> None:
    """Run the HTTP service (OpenAPI docs at /docs)."""
    import uvicorn

    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine

    setup_logging()
    engine = make_engine(get_settings().resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    # Workers are spawned (not forked) by uvicorn and build their state in the app's lifespan,
    # so no process forks after FAISS or torch started threads. This parent loads neither.
    # log_config=None keeps the JSON logging set up above; the access log is our own.
    uvicorn.run(
        "service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        timeout_graceful_shutdown=30,
        access_log=False,
        log_config=None,
    )


def check(
    url: Annotated[
        str | None,
        typer.Option(
            help="Base URL of a running service: check the indexes its workers hold in memory "
            "(via /readyz) instead of the snapshot on disk."
        ),
    ] = None,
    probes: Annotated[
        int,
        typer.Option(min=1, max=1000, help="With --url: most requests to spread over workers."),
    ] = 16,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="With --url: how many workers the service runs; probe until each answered "
            "(up to --probes requests) and fail if one was never reached.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compare every index with the database (ids, counts, change-log seq); exit 1 on drift.

    Without --url: loads the snapshot from the data directory, replays the change log and
    compares (exit 1 also when the snapshot is unusable, naming why). Exit 2: cannot check.
    With --url the kernel decides which worker accepts each probe, and an idle service tends to
    hand them all to one; --workers N makes the check say so instead of passing on a subset.
    """
    if workers is not None and url is None:
        fail("--workers needs --url", 2)
    if url is not None:
        from service.tools.readiness_probe import probe_workers

        report = probe_workers(url.rstrip("/"), probes, workers)
    else:
        setup_logging()
        from service.state.index_check import check_snapshot

        report = check_snapshot(get_settings())
    if as_json:
        typer.echo(json.dumps(report, default=str))
    else:
        for line in report["lines"]:
            typer.echo(line)
    raise typer.Exit(report["exit"])
