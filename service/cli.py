"""The ``werkmatch`` command: serve, migrate, import, demo."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from matching.esco import BUNDLED_ESCO_NL
from service.cli_keys import keys_app
from service.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from matching.embedder import Encoder
    from matching.vector_cache import CachedEncoder

app = typer.Typer(
    help="Werkmatch: job–candidate matching for Dutch public employment services.",
    no_args_is_help=True,
    add_completion=False,
)


class Entity(StrEnum):
    candidates = "candidates"
    vacancies = "vacancies"


def _setup_logging() -> None:
    from service.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
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
        _fail(f"migration failed: {exc}")
    typer.echo(f"database migrated to {revision}")


@app.command()
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

    _setup_logging()
    engine = make_engine(get_settings().resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        _fail(str(exc))
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


def _vector_cache(settings: Settings) -> Path:
    from service.store.occupations import VECTOR_CACHE

    return settings.data_dir / VECTOR_CACHE


def _fusion_encoder(settings: Settings) -> Encoder | None:
    """The configured encoder when the occupation normaliser is fused with it, else None."""
    if not settings.occupation_fusion:
        return None
    from matching.embedder import load_encoder

    return load_encoder(*settings.encoder_args())


@contextmanager
def _opened() -> Iterator[tuple[Session, Encoder, Settings]]:
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
            _fail(str(exc))
        encoder = load_encoder(*settings.encoder_args())
        with Session(engine) as session:
            yield session, encoder, settings
    finally:
        engine.dispose()


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

    from service.batch.importer import import_lines
    from service.store import crud

    if not file.is_file():
        _fail(f"no such file: {file}", code=2)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        _fail(f"{file} is not UTF-8 text", code=2)
    _setup_logging()
    kind = crud.CANDIDATES if entity is Entity.candidates else crud.VACANCIES
    started = time.perf_counter()
    with (
        _opened() as (session, encoder, settings),
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
    from matching.esco import BUNDLED_ESCO_NL, read_esco
    from matching.shipped_vectors import ShippedEncoder, shipped_path
    from service.batch.importer import import_lines
    from service.store import crud
    from service.store.crud import relink_all
    from service.store.models import FocusOccupationIn
    from service.store.occupations import import_occupations, ready_index
    from service.tools.demo_data import demo_candidates, demo_vacancies, focus_occupations

    if export is not None:
        export.mkdir(parents=True, exist_ok=True)
        for name, rows in (("candidates", demo_candidates()), ("vacancies", demo_vacancies())):
            target = export / f"{name}.jsonl"
            target.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
            )
            typer.echo(f"wrote {len(rows)} {name} to {target}")
        return
    if write_vectors:
        _write_demo_vectors()
        return
    _setup_logging()
    started = time.perf_counter()
    result: dict[str, object] = {}
    with _opened() as (session, model, settings):
        encoder = ShippedEncoder(model, shipped_path(model.model_id))
        stored_before = crud.count_rows(session)
        # The taxonomy first, so that the demo rows get their ESCO links as they are written.
        esco = import_occupations(session, read_esco(BUNDLED_ESCO_NL))
        # Its normaliser is built once, for both imports, and is the string one: embedding the
        # 24,000 labels for the fusion (about 210 CPU s with e5) would not fit `make run`'s
        # 2 minutes. The service embeds them in the background and then answers fused;
        # `werkmatch occupations infer` re-reads the demo rows with the fusion.
        occupations = ready_index(session, None, _vector_cache(settings))
        result["esco_occupations"] = sum(esco.values())
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
                occupations=occupations,
            )
            if report.rejected:
                _fail(f"demo {name} rejected: {report.rejected[:3]}")
            result[name] = (
                report.summary()["created"]
                + report.summary()["updated"]
                + report.summary()["unchanged"]
            )
        if (esco["created"] or esco["updated"]) and stored_before:
            # rows stored before the taxonomy changed (unchanged by this run) are linked again;
            # rows this run wrote were linked with the new taxonomy already
            relink_all(session, occupations)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["vectors_shipped"] = encoder.reused
    result["texts_embedded"] = encoder.computed
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(
            f"demo data loaded: {result['focus_occupations']} focus occupations, "
            f"{result['candidates']} candidates, {result['vacancies']} vacancies, "
            f"{result['esco_occupations']} ESCO occupations (ESCO, European Commission) "
            f"in {result['seconds']} s"
        )


def _write_demo_vectors() -> None:
    from matching.embedder import load_encoder
    from matching.shipped_vectors import ShippedEncoder, shipped_path
    from service.tools.demo_data import demo_texts

    settings = get_settings()
    started = time.perf_counter()
    model = load_encoder(*settings.encoder_args())
    encoder = ShippedEncoder(model, shipped_path(model.model_id), read=False)
    texts = demo_texts()
    step = settings.embed_batch_size
    for i in range(0, len(texts), step):
        encoder.embed(texts[i : i + step])
    path = encoder.write()
    typer.echo(
        json.dumps(
            {
                "model": model.model_id,
                "texts": len(texts),
                "path": str(path),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


@app.command()
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
        _fail("--workers needs --url", 2)
    if url is not None:
        report = _check_url(url.rstrip("/"), probes, workers)
    else:
        _setup_logging()
        report = _check_snapshot()
    if as_json:
        typer.echo(json.dumps(report, default=str))
    else:
        for line in report["lines"]:
            typer.echo(line)
    raise typer.Exit(report["exit"])


def _check_url(base: str, probes: int, expected: int | None) -> dict[str, Any]:
    """Ask /readyz up to ``probes`` times, a few connections at once (parallel connections are
    what spreads them over workers), until ``expected`` distinct workers answered."""
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def probe(_: int) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    workers: dict[str, dict[str, object]] = {}
    failed = False
    sent = 0
    burst = max(2, expected or 2)
    with ThreadPoolExecutor(burst) as pool:
        while sent < probes and (expected is None or len(workers) < expected):
            n = min(burst, probes - sent)
            sent += n
            try:
                answers = list(pool.map(probe, range(n)))
            except (OSError, ValueError) as exc:
                return {"exit": 2, "lines": [f"cannot reach {base}: {exc}"], "workers": {}}
            for status, body in answers:
                workers[str(body.get("worker", "?"))] = body
                failed |= status != 200
    lines: list[str] = []
    for pid, body in sorted(workers.items()):
        chk = body.get("check") or {}
        assert isinstance(chk, dict)
        lines.append(
            f"worker {pid}: {body.get('status')}, seq {body.get('change_log_seq')}, "
            f"candidates {chk.get('candidate')}, vacancies {chk.get('vacancy')} "
            f"{'; '.join(chk.get('problems', []))}".rstrip()
        )
    if expected is not None:
        failed |= len(workers) < expected
        lines.append(f"reached {len(workers)} of {expected} workers in {sent} probes")
    lines.append("FAILED" if failed else "ok")
    return {"exit": 1 if failed else 0, "lines": lines, "workers": workers}


def _check_snapshot() -> dict[str, Any]:
    from matching.embedder import load_encoder
    from matching.geo import default_locator
    from service.state.index_state import IndexState
    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        return {"exit": 2, "lines": [str(exc)]}
    encoder = load_encoder(*settings.encoder_args())
    state = IndexState(
        engine,
        encoder,
        default_locator(),
        settings.focus_threshold,
        data_dir=settings.data_dir,
        spec=settings.index_spec(),
    )
    started = state.start(repair=False, write_snapshot=False)
    engine.dispose()
    chk = started["check"]
    lines = [
        f"loaded from {started['loaded_from']} in {started['seconds']} s"
        + (
            f" (snapshot not used: {started['snapshot_rejected']})"
            if started["snapshot_rejected"]
            else ""
        ),
        f"change-log seq: index {chk.get('seq')}, database {chk.get('db_seq')}",
    ]
    for name in ("candidate", "vacancy"):
        lines.append(f"{name}: {chk.get(name)}")
    lines += [f"DRIFT {p}" for p in chk["problems"]]
    # No snapshot yet is normal (the next start rebuilds); an unusable one is reported.
    rejected = started["snapshot_rejected"] not in (None, "no snapshot")
    bad = not chk["ok"] or rejected
    lines.append("FAILED" if bad else "ok")
    return {"exit": 1 if bad else 0, "lines": lines, **started}


@app.command()
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
        _fail(f"cannot load {url}: {exc}", code=2)
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


@app.command()
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
        _fail(f"{failures} HTTP answers were not 2xx (or failed to connect): no valid figures")


DEFAULT_ESCO_DIR = BUNDLED_ESCO_NL  # ESCO v1.2.0 NL, a copy of ../shared/data/external/esco

occupations_app = typer.Typer(
    help="ESCO occupations (ESCO, European Commission, https://esco.ec.europa.eu).",
    no_args_is_help=True,
)
app.add_typer(occupations_app, name="occupations")
app.add_typer(keys_app, name="keys")


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
    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine
    from service.store.occupations import import_occupations, ready_index

    try:
        records = read_esco(path)
    except ValueError as exc:
        _fail(str(exc), code=2)
    if not records:
        _fail(f"{path} holds no occupations", code=2)
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        _fail(str(exc))
    started = time.perf_counter()
    with Session(engine) as session:
        counts = import_occupations(session, records)
        # The labels are embedded for the fusion only when there are rows to link with it
        # (the full taxonomy is minutes of CPU); otherwise the service embeds them at its start.
        encoder = _fusion_encoder(settings) if count_rows(session) else None
        index = ready_index(session, encoder, _vector_cache(settings))
        relinked = relink_all(session, index)
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


@occupations_app.command("infer")
def occupations_infer(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read occupations from every stored CV and vacancy again (inferred_occupations), and
    link them to ESCO again: the backfill for rows written before inference existed or before
    the occupations were imported. Rows that change are re-indexed by running services."""
    from sqlmodel import Session

    from service.store.crud import relink_all
    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine
    from service.store.occupations import ready_index

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        _fail(str(exc))
    started = time.perf_counter()
    with Session(engine) as session:
        index = ready_index(session, _fusion_encoder(settings), _vector_cache(settings))
        if index.get(session) is None:
            engine.dispose()
            _fail("no ESCO occupations stored: run `werkmatch occupations import` first")
        changed = relink_all(session, index)
    engine.dispose()
    summary = {"changed": changed, "seconds": round(time.perf_counter() - started, 2)}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"occupations read again: {changed['candidates']} candidates and "
            f"{changed['vacancies']} vacancies changed in {summary['seconds']} s"
        )


@app.command("eval-occupations")
def eval_occupations(
    folders: Annotated[
        list[Path],
        typer.Argument(
            help="MELO-format folders: queries.tsv, corpus_elements.tsv, annotations.tsv, "
            "concept_mapping.tsv (one result each; --dense embeds a corpus shared by several "
            "folders once)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    dense: Annotated[
        bool,
        typer.Option(
            "--dense",
            help="Rank by the embedding model instead (WERKMATCH_MODEL): cosine of the title "
            "and a concept's nearest label.",
        ),
    ] = False,
    fused: Annotated[
        bool,
        typer.Option(
            "--fused",
            help="Rank by the normaliser fused with the embedding model (WERKMATCH_MODEL).",
        ),
    ] = False,
) -> None:
    """Concept-level accuracy@1, MRR and recall@10 of the occupation normaliser on MELO data."""
    from matching.melo import dense_scores, evaluate, fused_scores, load_melo

    if dense and fused:
        _fail("--dense and --fused exclude each other", code=2)

    sets = []
    for folder in folders:
        if not folder.is_dir():
            _fail(f"no such folder: {folder}", code=2)
        try:
            data = load_melo(folder)
        except ValueError as exc:
            _fail(str(exc), code=2)
        if not data.queries:
            _fail(f"{folder} has no annotated queries", code=2)
        sets.append(data)
    encoder = _eval_encoder() if dense or fused else None
    for data in sets:
        started = time.perf_counter()
        if encoder is not None:
            ranker = fused_scores if fused else dense_scores
            result = evaluate(data, scores=ranker(data, encoder))
            result["model"] = encoder.model_id
            result["ranking"] = "fused" if fused else "dense"
        else:
            result = evaluate(data)
        result["seconds"] = round(time.perf_counter() - started, 2)
        if as_json:
            typer.echo(json.dumps(result))
            continue
        ranking = f", {result['ranking']} with {result['model']}" if "model" in result else ""
        typer.echo(
            f"{result['dataset']}: {result['queries']} queries, {result['concepts']} "
            f"concepts{ranking}"
        )
        typer.echo(f"{'part':8} {'queries':>7} {'acc@1':>6} {'MRR':>6} {'R@10':>6}")
        rows = [("all", result), *result["by_part"].items()]  # type: ignore[attr-defined]
        for name, m in rows:
            typer.echo(
                f"{name:8} {m['queries']:>7} {m['accuracy@1']:>6.3f} {m['mrr']:>6.3f} "
                f"{m['recall@10']:>6.3f}"
            )


class EvalMode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


def _eval_encoder() -> CachedEncoder:
    """The configured encoder, its vectors of evaluation texts cached on disk by model id
    (``var/vector-cache``, or ``WERKMATCH_EVAL_CACHE``): reruns embed only new texts."""
    from matching.embedder import load_encoder
    from matching.vector_cache import CachedEncoder

    root = Path(os.environ.get("WERKMATCH_EVAL_CACHE", "var/vector-cache"))
    return CachedEncoder(load_encoder(*get_settings().encoder_args()), root)


@app.command("eval")
def eval_(
    folder: Annotated[
        Path, typer.Argument(help="candidates.jsonl, vacancies.jsonl, qrels.tsv (EVAL-FORMAT.md).")
    ],
    mode: Annotated[EvalMode, typer.Option(help="Ranking to evaluate.")] = EvalMode.hybrid,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Score every mode (and the occupation signal alone) on the same pairs.",
        ),
    ] = False,
) -> None:
    """nDCG@10, recall@10/50 and MRR of the CV ↔ vacancy ranking on a data set.

    The folder is loaded into a fresh temporary store through the API's import path.
    """
    from service.tools.evaluation import compare_modes, run_eval

    if not folder.is_dir():
        _fail(f"no such folder: {folder}", code=2)
    _setup_logging()
    try:
        if compare:
            table = compare_modes(folder, _eval_encoder())
        else:
            result = run_eval(folder, _eval_encoder(), mode.value)
    except ValueError as exc:
        _fail(str(exc), code=2)
    if compare:
        if as_json:
            typer.echo(json.dumps(table))
            return
        typer.echo(
            f"{folder}: {table['model']}, weights {table['weights']}, "
            f"semantic floor {table['semantic_floor']}"
        )
        typer.echo(f"{'mode':10} {'nDCG@10':>8} {'R@10':>6} {'MRR':>6}")
        modes = table["modes"]
        for name, m in modes.items():  # type: ignore[attr-defined]
            typer.echo(f"{name:10} {m['ndcg@10']:>8.3f} {m['recall@10']:>6.3f} {m['mrr']:>6.3f}")
        best = max(modes[m]["ndcg@10"] for m in ("dense", "lexical", "occupation"))  # type: ignore[index]
        margin = modes["hybrid"]["ndcg@10"] - best  # type: ignore[index]
        verdict = "hybrid >= best single" if margin >= 0 else "HYBRID BELOW best single"
        typer.echo(f"{verdict}: nDCG@10 {margin:+.3f}")
        return
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['dataset']} ({result['mode']}), {result['seconds']} s")
    typer.echo(f"{'direction':10} {'queries':>7} {'nDCG@10':>8} {'R@10':>6} {'R@50':>6} {'MRR':>6}")
    rows = [*result["by_direction"].items(), ("all", result)]  # type: ignore[attr-defined]
    for name, m in rows:
        queries = sum(m["queries"].values()) if isinstance(m["queries"], dict) else m["queries"]
        typer.echo(
            f"{name:10} {queries:>7} {m['ndcg@10']:>8.3f} {m['recall@10']:>6.3f} "
            f"{m['recall@50']:>6.3f} {m['mrr']:>6.3f}"
        )


class EvalSource(StrEnum):
    esco_nl = "esco-nl"
    hahu_en = "hahu-en"
    esco_hard = "esco-hard"


@app.command("eval-data")
def eval_data(
    source: Annotated[EvalSource, typer.Argument(help="Which set to build.")],
    out: Annotated[Path, typer.Argument(help="Folder to write <set>-tuning and <set>-test to.")],
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="ESCO NL folder (esco-nl, esco-hard) or the hahu CSV (hahu-en); default: the "
            "copy in ../shared/data/external. esco-hard writes esco-nl-noname, esco-nl-prose "
            "and esco-en-nl (ESCO NL descriptions without the occupation's name; English CVs "
            "from the ESCO English skill profiles).",
        ),
    ] = None,
) -> None:
    """Build a CV ↔ vacancy evaluation set, split into a tuning and a test part."""
    from service.tools.eval_data import build_esco_hard, build_esco_nl, build_hahu_en

    external = Path("../shared/data/external")
    try:
        if source is EvalSource.esco_nl:
            counts = build_esco_nl(input_path or external / "esco/nl/v1.2.0", out)
        elif source is EvalSource.esco_hard:
            profiles = external / "esco/en/v1.2.0/occupation_skill_profiles_en.jsonl"
            if not profiles.is_file():
                _fail(f"no such file: {profiles}", code=2)
            built = build_esco_hard(input_path or external / "esco/nl/v1.2.0", profiles, out)
            for variant, parts in built.items():
                for part, n in parts.items():
                    typer.echo(
                        f"wrote {out / f'{variant}-{part}'}: {n} candidates and {n} vacancies"
                    )
            return
        else:
            path = input_path or external / "hahu-vacancies/redacted_hahu_test_with_id.csv"
            if not path.is_file():
                _fail(f"no such file: {path}", code=2)
            counts = build_hahu_en(path, out)
    except (ValueError, KeyError) as exc:
        _fail(f"cannot build {source.value}: {exc}", code=2)
    for part, n in counts.items():
        typer.echo(f"wrote {out / f'{source.value}-{part}'}: {n} candidates and {n} vacancies")


@app.command("eval-fit")
def eval_fit(
    folders: Annotated[list[Path], typer.Argument(help="Tuning-part evaluation folders.")],
    write: Annotated[
        Path | None, typer.Option(help="Write the weights to this JSON file (the ranking config).")
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Fit the configured model's calibration (semantic floor and weights, stored "
            "under models.<model> in the file) with a penalty for falling below a single "
            "signal, instead of the top-level weights.",
        ),
    ] = False,
) -> None:
    """Fit the hybrid weights on tuning sets: the best mean nDCG@10 on a 0.05 grid."""
    from service.tools.evaluation import compute_signals, fit_weights

    for folder in folders:
        if not folder.is_dir():
            _fail(f"no such folder: {folder}", code=2)
    _setup_logging()
    encoder = _eval_encoder()
    try:
        tables = [compute_signals(folder, encoder) for folder in folders]
    except ValueError as exc:
        _fail(str(exc), code=2)
    if not calibrate:
        weights, value = fit_weights(tables)
        typer.echo(json.dumps({"weights": weights, "mean_ndcg@10": value}))
        if write is not None:
            old = json.loads(write.read_text(encoding="utf-8")) if write.is_file() else {}
            write.write_text(
                json.dumps(
                    {
                        **old,
                        "weights": weights,
                        "fitted_on": [str(f) for f in folders],
                        "mean_ndcg@10": value,
                        "how": "werkmatch eval-fit (grid step 0.05, best mean nDCG@10)",
                    },
                    indent=2,
                )
                + "\n",
                encoding="utf-8",
            )
        return
    from matching.ranking import model_key
    from service.tools.evaluation import fit_calibration

    calibration, record = fit_calibration(tables)
    entry = {
        "weights": calibration.weights,
        "semantic_floor": calibration.semantic_floor,
        "fitted_on": [str(f) for f in folders],
        **record,
        "how": "werkmatch eval-fit --calibrate (floor grid, weight grid step 0.05; mean "
        "nDCG@10 minus 2 x mean shortfall below the best single signal)",
    }
    typer.echo(json.dumps({"model": encoder.model_id, **entry}))
    if write is not None:
        config = json.loads(write.read_text(encoding="utf-8")) if write.is_file() else {}
        config.setdefault("models", {})[model_key(encoder.model_id)] = entry
        write.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


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
        RunConflict,
        SchedulerUnreachable,
        claim_run,
        execute_run,
        executor_for,
        incremental_blocker,
    )

    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        _fail(f"--scheduler must look like tcp://HOST:8786, got {scheduler!r}", code=2)
    _setup_logging()
    with _opened() as (session, encoder, settings):
        engine = session.get_bind()
        assert isinstance(engine, Engine)  # _opened binds its session to an engine
        if full is False:
            blocker = incremental_blocker(
                session, encoder.model_id, top_k or settings.rematch_top_k, settings
            )
            if blocker is not None:
                _fail(f"--incremental: {blocker}; run with --full", code=2)
        session.close()  # the run opens its own; this one would idle in its read transaction
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
                        engine,
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
                        engine=engine,
                        run_id=run_id,
                        encoder=encoder,
                        locator=default_locator(),
                        settings=settings,
                        executor=executor,
                        progress=progress,
                        full=full,
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

    _setup_logging()
    if no_database:
        if database_url is not None:
            _fail("--database-url and --no-database exclude each other", code=2)
        try:
            report = bench_rematch_core(
                vacancies=vacancies, candidates=candidates, top_k=top_k, changed=changed,
                verify=verify, scheduler=scheduler,
            )  # fmt: skip
        except RuntimeError as exc:
            _fail(str(exc), code=1)
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


@app.command("bench-rematch-store")
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
            _fail(f"--database-url must be a sqlite:/// or postgresql URL, got {url!r}", code=2)
    _setup_logging()
    try:
        report = run_bench(
            database_urls=list(database_url or []),
            vacancies=vacancies,
            candidates=candidates,
            top_k=top_k,
            changed=changed,
        )
    except Exception as exc:
        _fail(f"bench-rematch-store failed: {type(exc).__name__}: {exc}")
    typer.echo(json.dumps(report, indent=None if as_json else 2))
