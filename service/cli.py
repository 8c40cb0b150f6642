"""The ``werkmatch`` command: serve, migrate, import, demo."""

from __future__ import annotations

import json
import logging
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.config import get_settings

app = typer.Typer(
    help="Werkmatch: job–candidate matching for Dutch public employment services.",
    no_args_is_help=True,
    add_completion=False,
)


class Entity(StrEnum):
    candidates = "candidates"
    vacancies = "vacancies"


def _setup_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the database migrations (creates the SQLite file if needed)."""
    from service.db import make_engine
    from service.db import migrate as run_migrations

    settings = get_settings()
    url = settings.resolved_database_url()
    make_engine(url).dispose()  # creates the SQLite file's directory
    try:
        run_migrations(url, revision)
    except Exception as exc:
        _fail(f"migration failed: {exc}")
    typer.echo(f"database migrated to {revision}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP service (OpenAPI docs at /docs)."""
    import uvicorn

    from service.db import SchemaNotMigrated, ensure_migrated, make_engine

    _setup_logging()
    engine = make_engine(get_settings().resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port)


def _session_and_encoder():  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from matching.embedder import load_encoder
    from service.db import SchemaNotMigrated, ensure_migrated, make_engine

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        _fail(str(exc))
    encoder = load_encoder(settings.model, settings.embed_batch_size, settings.chunk_overlap_tokens)
    return Session(engine), encoder, settings


@app.command("import")
def import_(
    entity: Annotated[Entity, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="JSON-lines file, one object per line.")],
    employer_id: Annotated[
        str | None, typer.Option(help="Employer for vacancy lines that name none.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import candidates or vacancies from a JSON-lines file (upsert by external_id)."""
    from tqdm import tqdm

    from service import crud
    from service.importer import import_lines

    if not file.is_file():
        _fail(f"no such file: {file}", code=2)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        _fail(f"{file} is not UTF-8 text", code=2)
    _setup_logging()
    session, encoder, settings = _session_and_encoder()
    kind = crud.CANDIDATES if entity is Entity.candidates else crud.VACANCIES
    started = time.perf_counter()
    with (
        session,
        tqdm(
            total=len(lines),
            unit=" rows",
            desc=f"import {entity.value}",
            file=sys.stderr,
            disable=None,
        ) as bar,
    ):
        report = import_lines(
            session=session,
            kind=kind,
            lines=lines,
            encoder=encoder,
            batch_size=max(settings.embed_batch_size * 2, 16),
            default_employer=employer_id,
            progress=bar.update,
        )
    summary = {**report.summary(), "seconds": round(time.perf_counter() - started, 2)}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"{entity.value}: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['rejected']} rejected "
            f"in {summary['seconds']} s"
        )
        for r in summary["rejections"]:
            typer.echo(f"  line {r['line']}: {r['reason']}")
    if report.rejected and not (
        report.counts["created"] or report.counts["updated"] or report.counts["unchanged"]
    ):
        raise typer.Exit(1)


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            help="Write candidates.jsonl and vacancies.jsonl to this folder instead of loading "
            "them (input for `werkmatch import`)."
        ),
    ] = None,
) -> None:
    """Load the made-up demo data set (focus occupations, candidates, vacancies); idempotent."""
    from service import crud
    from service.demo_data import demo_candidates, demo_vacancies, focus_occupations
    from service.importer import import_lines
    from service.models import FocusOccupationIn

    if export is not None:
        export.mkdir(parents=True, exist_ok=True)
        for name, rows in (("candidates", demo_candidates()), ("vacancies", demo_vacancies())):
            target = export / f"{name}.jsonl"
            target.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
            )
            typer.echo(f"wrote {len(rows)} {name} to {target}")
        return
    _setup_logging()
    session, encoder, settings = _session_and_encoder()
    started = time.perf_counter()
    result: dict[str, object] = {}
    with session:
        for f in focus_occupations():
            crud.upsert_focus(
                session=session,
                slug=f["slug"],
                data=FocusOccupationIn(name=f["name"], synonyms=f["synonyms"]),
            )
        result["focus_occupations"] = len(focus_occupations())
        for name, kind, rows in (
            ("candidates", crud.CANDIDATES, demo_candidates()),
            ("vacancies", crud.VACANCIES, demo_vacancies()),
        ):
            report = import_lines(
                session=session,
                kind=kind,
                lines=[json.dumps(r) for r in rows],
                encoder=encoder,
                batch_size=max(settings.embed_batch_size * 2, 16),
            )
            if report.rejected:
                _fail(f"demo {name} rejected: {report.rejected[:3]}")
            result[name] = (
                report.summary()["created"]
                + report.summary()["updated"]
                + report.summary()["unchanged"]
            )
    result["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(
            f"demo data loaded: {result['focus_occupations']} focus occupations, "
            f"{result['candidates']} candidates, {result['vacancies']} vacancies "
            f"in {result['seconds']} s"
        )


@app.command()
def rematch(
    top_k: Annotated[
        int | None,
        typer.Option(min=1, max=200, help="Matches kept per vacancy and per candidate."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://HOST:8786); default: in-process."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run record as JSON.")] = False,
) -> None:
    """Rematch all open vacancies and active candidates (resumes a run whose process died).

    Exit codes: 0 done, 1 failed, 3 another run is in progress, 4 scheduler unreachable.
    """
    from tqdm import tqdm

    from matching.geo import default_locator
    from service.rematch_runs import (
        RunConflict,
        SchedulerUnreachable,
        claim_run,
        execute_run,
        executor_for,
    )
    from service.routes.rematch import run_out

    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        _fail(f"--scheduler must look like tcp://HOST:8786, got {scheduler!r}", code=2)
    _setup_logging()
    session, encoder, settings = _session_and_encoder()
    engine = session.get_bind()
    session.close()
    bar = tqdm(unit=" batches", desc="rematch", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        # connect to the cluster before taking the run slot: an unreachable scheduler starts
        # nothing
        with executor_for(settings, encoder, scheduler) as executor:
            try:
                run_id, resumed = claim_run(
                    engine,  # type: ignore[arg-type]
                    top_k or settings.rematch_top_k,
                    settings.rematch_stale_after_s,
                )
            except RunConflict as exc:
                _fail(str(exc.detail), code=3)
            if resumed:
                typer.secho(f"resuming rematch run {run_id}", err=True)
            bar.set_description(f"rematch run {run_id}")
            try:
                run = execute_run(
                    engine=engine,  # type: ignore[arg-type]
                    run_id=run_id,
                    encoder=encoder,
                    locator=default_locator(),
                    settings=settings,
                    executor=executor,
                    progress=progress,
                )
            except Exception as exc:
                _fail(f"rematch run {run_id} failed: {exc}")
    except SchedulerUnreachable as exc:
        _fail(str(exc.detail), code=4)
    finally:
        bar.close()
    out = run_out(run)
    if as_json:
        typer.echo(out.model_dump_json())
    else:
        c = out.counts
        typer.echo(
            f"rematch run {out.run_id} {out.state}: {c.get('matches', 0)} matches for "
            f"{c.get('vacancies', 0)} vacancies and {c.get('candidates', 0)} candidates; "
            f"{c.get('new', 0)} new, {c.get('unchanged', 0)} unchanged, "
            f"{c.get('disappeared', 0)} disappeared pairs; {c.get('texts_embedded', 0)} texts "
            f"embedded"
        )


@app.command("bench-rematch")
def bench_rematch(
    vacancies: Annotated[int, typer.Option(min=1, max=10_000_000)] = 10_000,
    candidates: Annotated[int, typer.Option(min=1, max=10_000_000)] = 100_000,
    top_k: Annotated[int, typer.Option(min=1, max=200)] = 50,
    changed: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of CVs changed before the 2nd run.")
    ] = 0.01,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address.")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="An EMPTY database to use (default: a temporary SQLite).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Benchmark a rematch on synthetic vectors (not part of the tests): time split and rates."""
    from matching.embedder import load_encoder
    from service.bench import bench_rematch as run_bench

    _setup_logging()
    settings = get_settings()
    encoder = load_encoder(settings.model, settings.embed_batch_size, settings.chunk_overlap_tokens)
    report = run_bench(
        settings=settings,
        encoder=encoder,
        vacancies=vacancies,
        candidates=candidates,
        top_k=top_k,
        changed=changed,
        scheduler=scheduler,
        database_url=database_url,
    )
    typer.echo(json.dumps(report, indent=None if as_json else 2, default=str))
