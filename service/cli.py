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


DEFAULT_ESCO_DIR = Path("../shared/data/external/esco/nl/v1.2.0")

occupations_app = typer.Typer(
    help="ESCO occupations (ESCO, European Commission, https://esco.ec.europa.eu).",
    no_args_is_help=True,
)
app.add_typer(occupations_app, name="occupations")


@occupations_app.command("import")
def occupations_import(
    path: Annotated[
        Path,
        typer.Argument(
            help="An ESCO CSV export: a folder with occupations_*.csv (and ISCOGroups_*.csv) "
            "or an occupations CSV file."
        ),
    ] = DEFAULT_ESCO_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load ESCO occupations (labels, descriptions, ISCO-08 codes) into the database.

    Stored vacancies and candidates are then linked to ESCO again with the new taxonomy.
    """
    from sqlmodel import Session

    from matching.esco import read_esco
    from service.db import SchemaNotMigrated, ensure_migrated, make_engine
    from service.occupation_links import relink_all
    from service.occupations import OccupationIndex, import_occupations

    try:
        records = read_esco(path)
    except ValueError as exc:
        _fail(str(exc), code=2)
    if not records:
        _fail(f"{path} holds no occupations", code=2)
    engine = make_engine(get_settings().resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        _fail(str(exc))
    started = time.perf_counter()
    with Session(engine) as session:
        counts = import_occupations(session, records)
        relinked = relink_all(session, OccupationIndex())
    engine.dispose()
    summary = {**counts, "relinked": relinked, "seconds": round(time.perf_counter() - started, 2)}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"occupations: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged in {summary['seconds']} s; ESCO links updated "
            f"on {relinked['vacancies']} vacancies, {relinked['candidates']} candidates"
        )


@app.command("eval-occupations")
def eval_occupations(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A MELO-format folder: queries.tsv, corpus_elements.tsv, annotations.tsv, "
            "concept_mapping.tsv."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Concept-level accuracy@1, MRR and recall@10 of the occupation normaliser on MELO data."""
    from matching.melo import evaluate, load_melo

    if not folder.is_dir():
        _fail(f"no such folder: {folder}", code=2)
    started = time.perf_counter()
    try:
        data = load_melo(folder)
    except ValueError as exc:
        _fail(str(exc), code=2)
    if not data.queries:
        _fail(f"{folder} has no annotated queries", code=2)
    result = evaluate(data)
    result["seconds"] = round(time.perf_counter() - started, 2)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['dataset']}: {result['queries']} queries, {result['concepts']} concepts")
    typer.echo(f"{'part':8} {'queries':>7} {'acc@1':>6} {'MRR':>6} {'R@10':>6}")
    rows = [("all", result), *result["by_part"].items()]  # type: ignore[attr-defined]
    for name, m in rows:
        typer.echo(
            f"{name:8} {m['queries']:>7} {m['accuracy@1']:>6.3f} {m['mrr']:>6.3f} "
            f"{m['recall@10']:>6.3f}"
        )
