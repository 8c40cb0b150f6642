"""``werkmatch loadtest``, ``bench``, ``bench-rematch`` and ``bench-rematch-store``: load and
benchmarks (figures come from here, never from the tests)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from service.cli.common import fail, setup_logging
from service.config import get_settings


def loadtest(
    url: Annotated[str, typer.Option(help="Base URL of the running service.")] = (
        "http://127.0.0.1:8000"
    ),
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="Duration of the run.")] = 60,
    clients: Annotated[int, typer.Option(min=1, max=512, help="Concurrent clients.")] = 32,
    seed: Annotated[int, typer.Option(help="Random seed (also part of the written ids).")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    key: Annotated[
        str | None,
        typer.Option(envvar="WERKMATCH_KEY", help="Admin API key (or set WERKMATCH_KEY)."),
    ] = None,
) -> None:
    """Mixed writes and match queries against a running service, then verify every
    acknowledged write; exit 1 on any 5xx, transport error or missing write.

    Writes made-up candidates with ids starting ``load-``: run it against a test database.
    """
    from service.tools.loadtest import run_load

    try:
        result = run_load(url, seconds=seconds, clients=clients, seed=seed, key=key)
    except (OSError, RuntimeError) as exc:
        fail(f"cannot load {url}: {exc}", code=2)
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            typer.echo(f"{key}: {value}")
    bad = summary["server_errors_5xx"] or summary["transport_errors"] or summary["verify_failures"]
    raise typer.Exit(1 if bad else 0)


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a comma-separated list of integers") from None
    if not sizes or any(n < 100 or n > 20_000_000 for n in sizes):
        raise typer.BadParameter("each size must be between 100 and 20,000,000")
    return sizes


def bench(
    sizes: Annotated[
        str, typer.Option(help="Collection sizes (candidates), comma-separated.")
    ] = "10000,100000,1000000",
    http_sizes: Annotated[
        str, typer.Option(help="Sizes also measured through HTTP (real server + wrk).")
    ] = "10000,100000",
    queries: Annotated[int, typer.Option(min=10, max=100_000, help="Queries per size.")] = 300,
    duration: Annotated[float, typer.Option(min=1, max=600, help="Seconds per HTTP run.")] = 10,
    connections: Annotated[int, typer.Option(min=1, max=256, help="HTTP connections.")] = 8,
    index_kind: Annotated[str, typer.Option(help="auto, flat or ivf.")] = "auto",
    nlist: Annotated[int | None, typer.Option(min=1, max=65536)] = None,
    nprobe: Annotated[int | None, typer.Option(min=1, max=65536)] = None,
    ivf_threshold: Annotated[int, typer.Option(min=1)] = 200_000,
    ingest: Annotated[bool, typer.Option(help="Also time ingest vs plain encode.")] = True,
    serve_sizes: Annotated[
        str,
        typer.Option(
            help="Sizes served by the real server from the database and then from a snapshot "
            "(ready time, resident memory); none unless given (`make bench`: 100000,1000000)."
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per size.")] = False,
) -> None:
    """Benchmark index build, memory, query latency, recall, HTTP throughput and ingest."""
    from service.tools.scale_bench import run

    if index_kind not in ("auto", "flat", "ivf"):
        raise typer.BadParameter("must be auto, flat or ivf", param_hint="--index-kind")
    size_list = _sizes(sizes)
    http_list = _sizes(http_sizes) if http_sizes.strip() else []
    spec = {"kind": index_kind, "ivf_threshold": ivf_threshold, "nlist": nlist, "nprobe": nprobe}

    def emit(result: dict[str, Any]) -> None:
        if as_json:
            typer.echo(json.dumps(result))
        else:
            typer.echo(" ".join(f"{k}={v}" for k, v in result.items()))

    serve_list = _sizes(serve_sizes) if serve_sizes.strip() else []
    failures = run(
        size_list, http_list, queries, duration, connections, spec, ingest, emit, serve_list
    )
    if failures:
        fail(f"{failures} HTTP answers were not 2xx (or failed to connect): no valid figures")


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
    no_database: Annotated[
        bool,
        typer.Option(
            "--no-database", help="The rematch core alone on in-memory rows (no model, no storing)."
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            help="With --no-database: check the incremental run against a full run (and with "
            "--scheduler the cluster's full run against one in this process)."
        ),
    ] = False,
) -> None:
    """Benchmark a rematch on synthetic vectors (not part of the tests): time split and rates."""
    from matching.embedder import load_encoder
    from service.tools.bench import bench_rematch as run_bench
    from service.tools.bench import bench_rematch_core

    setup_logging()
    if no_database:
        if database_url is not None:
            fail("--database-url and --no-database exclude each other", code=2)
        try:
            report = bench_rematch_core(
                vacancies=vacancies, candidates=candidates, top_k=top_k, changed=changed,
                verify=verify, scheduler=scheduler,
            )  # fmt: skip
        except RuntimeError as exc:
            fail(str(exc), code=1)
        typer.echo(json.dumps(report, indent=None if as_json else 2, default=str))
        return
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


def bench_rematch_store(
    vacancies: Annotated[int, typer.Option(min=1, max=1_000_000)] = 1_000,
    candidates: Annotated[int, typer.Option(min=1, max=10_000_000)] = 10_000,
    top_k: Annotated[int, typer.Option(min=1, max=200)] = 50,
    changed: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of the lists changed before the 2nd store."),
    ] = 0.01,
    database_url: Annotated[
        list[str] | None,
        typer.Option(
            help="An EMPTY database to measure (repeat for several; default: a temporary SQLite)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on one line.")] = False,
) -> None:
    """Benchmark storing a rematch run's matches (not part of the tests): the bulk store, full
    and incremental, against the previous row insert, per database. Exit 1 on any error or
    when an incremental store differs from a full one."""
    from service.tools.store_bench import bench_rematch_store as run_bench

    for url in database_url or []:
        if not url.startswith(("sqlite:///", "postgresql")):
            fail(f"--database-url must be a sqlite:/// or postgresql URL, got {url!r}", code=2)
    setup_logging()
    try:
        report = run_bench(
            database_urls=list(database_url or []),
            vacancies=vacancies,
            candidates=candidates,
            top_k=top_k,
            changed=changed,
        )
    except Exception as exc:
        fail(f"bench-rematch-store failed: {type(exc).__name__}: {exc}")
    typer.echo(json.dumps(report, indent=None if as_json else 2))
