"""``werkmatch rematch``: the nightly rematch from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from service.cli.common import fail, opened, setup_logging


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
    full: Annotated[
        bool | None,
        typer.Option(
            "--full/--incremental",
            help="Store every list afresh, or only those that changed since the previous "
            "successful run (same result). Default: incremental when the previous run left "
            "its state.",
        ),
    ] = None,
) -> None:
    """Rematch all open vacancies and active candidates (resumes a run whose process died).

    Exit codes: 0 done, 1 failed, 2 bad option (also --incremental with no previous run to
    build on), 3 another run is in progress, 4 scheduler unreachable.
    """
    from sqlalchemy import Engine
    from tqdm import tqdm

    from matching.geo import default_locator
    from service.api.routes.rematch import run_out
    from service.batch.rematch_runs import (
        RematchFailed,
        RunConflict,
        SchedulerUnreachable,
        incremental_blocker,
        run_rematch,
    )

    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        fail(f"--scheduler must look like tcp://HOST:8786, got {scheduler!r}", code=2)
    setup_logging()
    with opened() as (session, encoder, settings):
        engine = session.get_bind()
        assert isinstance(engine, Engine)  # opened binds its session to an engine
        if full is False:
            blocker = incremental_blocker(
                session, encoder.model_id, top_k or settings.rematch_top_k, settings
            )
            if blocker is not None:
                fail(f"--incremental: {blocker}; run with --full", code=2)
        session.close()  # the run opens its own; this one would idle in its read transaction
        bar = tqdm(unit=" batches", desc="rematch", file=sys.stderr, disable=None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        def claimed(run_id: int, resumed: bool) -> None:
            if resumed:
                typer.secho(f"resuming rematch run {run_id}", err=True)
            bar.set_description(f"rematch run {run_id}")

        try:
            run = run_rematch(
                engine=engine,
                encoder=encoder,
                make_locator=default_locator,
                settings=settings,
                top_k=top_k or settings.rematch_top_k,
                scheduler=scheduler,
                full=full,
                progress=progress,
                claimed=claimed,
            )
        except RunConflict as exc:
            fail(str(exc.detail), code=3)
        except RematchFailed as exc:
            fail(f"rematch run {exc.run_id} failed: {exc.cause}")
        except SchedulerUnreachable as exc:
            fail(str(exc.detail), code=4)
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
