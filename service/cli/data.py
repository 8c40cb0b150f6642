"""``werkmatch import`` and ``demo``: rows from JSON-lines files, and the made-up demo data."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import fail, opened, setup_logging, show_result, vector_cache


class Entity(StrEnum):
    candidates = "candidates"
    vacancies = "vacancies"


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

    from service.batch.importer import import_lines
    from service.store import crud

    if not file.is_file():
        fail(f"no such file: {file}", code=2)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text", code=2)
    setup_logging()
    kind = crud.CANDIDATES if entity is Entity.candidates else crud.VACANCIES
    started = time.perf_counter()
    with (
        opened() as (session, encoder, settings),
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
    show_result(
        summary,
        as_json,
        f"{entity.value}: {summary['created']} created, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged, {summary['rejected']} rejected "
        f"in {summary['seconds']} s",
        *(f"  line {r['line']}: {r['reason']}" for r in summary["rejections"]),
    )
    if report.rejected and not (
        report.counts["created"] or report.counts["updated"] or report.counts["unchanged"]
    ):
        raise typer.Exit(1)


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            help="Write candidates.jsonl and vacancies.jsonl to this folder instead of loading "
            "them (input for `werkmatch import`)."
        ),
    ] = None,
    write_vectors: Annotated[
        bool,
        typer.Option(
            "--write-vectors",
            help="Embed the demo texts with the configured model and write their vectors to "
            "matching/data/vectors/<model>/demo.npz (nothing is loaded). `werkmatch demo` "
            "reuses them; a text or model they were not made for is embedded as usual.",
        ),
    ] = False,
) -> None:
    """Load the made-up demo data set (focus occupations, candidates, vacancies) and the ESCO NL
    occupations (ESCO, European Commission, https://esco.ec.europa.eu); idempotent.

    The demo texts' vectors are taken from the shipped file of the running model when it has
    them (``--write-vectors`` makes it), so the load does not wait for the encoder."""
    from service.config import get_settings
    from service.tools.demo_load import DemoRejected, export_demo, load_demo, write_demo_vectors

    if export is not None:
        for name, count, target in export_demo(export):
            typer.echo(f"wrote {count} {name} to {target}")
        return
    if write_vectors:
        typer.echo(json.dumps(write_demo_vectors(get_settings())))
        return
    setup_logging()
    started = time.perf_counter()
    with opened() as (session, model, settings):
        try:
            loaded = load_demo(session, model, settings, vector_cache(settings))
        except DemoRejected as exc:
            fail(str(exc))
    result = loaded.counts
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["vectors_shipped"] = loaded.vectors_shipped
    result["texts_embedded"] = loaded.texts_embedded
    show_result(
        result,
        as_json,
        f"demo data loaded: {result['focus_occupations']} focus occupations, "
        f"{result['candidates']} candidates, {result['vacancies']} vacancies, "
        f"{result['esco_occupations']} ESCO occupations (ESCO, European Commission) "
        f"in {result['seconds']} s",
    )
