"""``werkmatch occupations``: load the ESCO taxonomy and read occupations from stored rows
again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from matching.esco import BUNDLED_ESCO_NL
from service.cli.common import fail, fusion_encoder, migrated_engine, show_result, vector_cache
from service.config import get_settings

DEFAULT_ESCO_DIR = BUNDLED_ESCO_NL  # ESCO v1.2.0 NL, a copy of ../shared/data/external/esco

occupations_app = typer.Typer(
    help="ESCO occupations (ESCO, European Commission, https://esco.ec.europa.eu).",
    no_args_is_help=True,
)


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
    from service.store.crud import count_rows, relink_all
    from service.store.occupations import fusion_adapter, import_occupations, ready_index

    try:
        records = read_esco(path)
    except ValueError as exc:
        fail(str(exc), code=2)
    if not records:
        fail(f"{path} holds no occupations", code=2)
    settings = get_settings()
    engine = migrated_engine(settings)
    started = time.perf_counter()
    with Session(engine) as session:
        counts = import_occupations(session, records)
        # The labels are embedded for the fusion only when there are rows to link with it
        # (the full taxonomy is minutes of CPU); otherwise the service embeds them at its start.
        encoder = fusion_encoder(settings) if count_rows(session) else None
        index = ready_index(
            session,
            encoder,
            vector_cache(settings),
            fusion_adapter(settings.occupation_adapter, encoder),
        )
        relinked = relink_all(session, index)
    engine.dispose()
    summary = {**counts, "relinked": relinked, "seconds": round(time.perf_counter() - started, 2)}
    show_result(
        summary,
        as_json,
        f"occupations: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged in {summary['seconds']} s; ESCO links updated "
        f"on {relinked['vacancies']} vacancies, {relinked['candidates']} candidates",
    )


@occupations_app.command("infer")
def occupations_infer(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read occupations from every stored CV and vacancy again (inferred_occupations), and
    link them to ESCO again: the backfill for rows written before inference existed or before
    the occupations were imported. Rows that change are re-indexed by running services."""
    from sqlmodel import Session

    from service.store.crud import relink_all
    from service.store.occupations import fusion_adapter, ready_index

    settings = get_settings()
    engine = migrated_engine(settings)
    started = time.perf_counter()
    with Session(engine) as session:
        encoder = fusion_encoder(settings)
        index = ready_index(
            session,
            encoder,
            vector_cache(settings),
            fusion_adapter(settings.occupation_adapter, encoder),
        )
        if index.get(session) is None:
            engine.dispose()
            fail("no ESCO occupations stored: run `werkmatch occupations import` first")
        changed = relink_all(session, index)
    engine.dispose()
    summary = {"changed": changed, "seconds": round(time.perf_counter() - started, 2)}
    show_result(
        summary,
        as_json,
        f"occupations read again: {changed['candidates']} candidates and "
        f"{changed['vacancies']} vacancies changed in {summary['seconds']} s",
    )
