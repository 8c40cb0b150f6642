"""Shared fixtures: the real model (loaded once; the service tests see it through
tests.memo_encoder, which embeds each text once per run), fresh databases per test on SQLite and
PostgreSQL, and an app client per test.

Every API test runs twice, once per backend. Each test gets its own database: a copy of a
migrated SQLite file, or a PostgreSQL database created from a migrated template, so tests never
share state or depend on order. PostgreSQL tests fail (never skip) when the server is down.
"""

from __future__ import annotations

import logging
import os
import uuid

# pytest-xdist runs one process per core (``make test``: two on two cores). The model's torch,
# the e5 engine and the BLAS libraries otherwise each start a thread per core in every process:
# twice as many busy threads as cores, whose spinning at each step cost ten times the model's own
# work. The variable is read when those libraries load, so it is set before anything imports
# them; the servers the tests start inherit it. Only in the workers (xdist names them in the
# environment before this file is read): the controller's environment is what every worker
# inherits, so a value set there would be the whole machine's. A value set outside the suite
# wins.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _CORES_PER_WORKER = max(
        1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    )
    os.environ.setdefault("OMP_NUM_THREADS", str(_CORES_PER_WORKER))

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from matching.embedder import BUNDLED_MODEL, Encoder, SentenceTransformerEncoder, load_encoder
from service.api.app import create_app
from service.config import DEFAULT_MODEL, Settings
from service.observability import StderrHandler
from service.store.db import migrate
from tests.auth import bearer, make_token
from tests.databases import (
    BACKENDS,
    PG_URL,
    LaterDrops,
    admin_engine,
    copy_database,
    drop_database,
)
from tests.log_watch import LEAK_WATCH
from tests.memo_encoder import MemoEncoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The model the tests run: the product's default unless WERKMATCH_MODEL names another. Set in
# the environment so that every Settings() a test builds (and the app) agrees with the fixture.
TEST_MODEL = os.environ.setdefault("WERKMATCH_MODEL", DEFAULT_MODEL)


@pytest.fixture(scope="session")
def model() -> Encoder:
    """The real model the tests run (``TEST_MODEL``), loaded once for the whole run: for the
    tests of the model itself."""
    return load_encoder(TEST_MODEL, 32, 32)  # same cache key as the CLI and the app


@pytest.fixture(scope="session")
def encoder(model: Encoder) -> Encoder:
    """The real model for the service: each text embedded once per run (tests.memo_encoder)."""
    return MemoEncoder(model)


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEncoder:
    """The bundled sentence-transformers model, for tests of what only it has (its tokenizer
    windows and turns, the ONNX export, its model id)."""
    enc = load_encoder(BUNDLED_MODEL, 32, 32)
    assert isinstance(enc, SentenceTransformerEncoder)
    return enc


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are copied from."""
    name = f"wm_tpl_{uuid.uuid4().hex[:10]}"
    # An engine per use, disposed at once: a pooled connection held for the whole session
    # would be cut by the tests that end every session of the server, and then be left to
    # the garbage collector, which warns about it during whichever test runs then.
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # make the cause obvious instead of a cascade of errors
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}", pytrace=False)
    finally:
        admin.dispose()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield name
    drop_database(url)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that runs the CLI in process configures the root logger as the command does
    (its stderr handler, level INFO, warnings as records); undo that after the test, so that
    no later test captures other loggers' INFO records because of an earlier one."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)
    for handler in root.handlers[:]:
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    logging.captureWarnings(False)


@pytest.fixture(scope="session")
def later_drops() -> Iterator[LaterDrops]:
    """Drops the tests' PostgreSQL copies while the next tests run."""
    drops = LaterDrops()
    yield drops
    errors = drops.close()
    assert not errors, f"test databases left behind: {errors}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    if request.param == "sqlite":
        yield copy_database(request.getfixturevalue("sqlite_template"), tmp_path)
        return
    drops: LaterDrops = request.getfixturevalue("later_drops")
    url = copy_database(request.getfixturevalue("pg_template"), tmp_path)
    try:
        yield url
    finally:
        drops.drop(url)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # The occupation normaliser's fusion starts in a background thread; tests that write
    # right after an ESCO import would race it, so it is on only where a test asks for it
    # (tests/api/test_occupation_fusion.py).
    return Settings(database_url=db_url, data_dir=tmp_path / "data", occupation_fusion=False)


@pytest.fixture
def admin_token(settings: Settings) -> str:
    """A real admin key in the test's database."""
    return make_token(settings.resolved_database_url(), "admin")


@pytest.fixture
def client(settings: Settings, encoder: Encoder, admin_token: str) -> Iterator[TestClient]:
    """An app on a fresh database, with the real model, started and stopped around the test;
    its requests carry an admin key (role tests use their own keys)."""
    with TestClient(create_app(settings, encoder), headers=bearer(admin_token)) as c:
        yield c


# ---------------------------------------------------------------- no personal data in logs


def pytest_configure(config: pytest.Config) -> None:
    logging.setLogRecordFactory(LEAK_WATCH)
    # The application's own loggers log everything while the suite runs, so that the watch
    # sees debug and info records too (sqlalchemy stays at its default: its debug level is
    # meant to print result rows, and nobody runs production with it).
    for name in ("service", "matching", "werkmatch", "uvicorn"):
        logging.getLogger(name).setLevel(logging.DEBUG)


def pytest_testnodedown(node: Any, error: object) -> None:
    """With pytest-xdist (``make test`` runs two workers): the controller collects what each
    worker's watch saw, so one leak in any worker still fails the run."""
    out = getattr(node, "workeroutput", {})
    LEAK_WATCH.seen += int(out.get("leak_watch_seen", 0))
    LEAK_WATCH.leaks.extend(out.get("leak_watch_leaks", []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the findings to the controller
        workeroutput["leak_watch_seen"] = LEAK_WATCH.seen
        workeroutput["leak_watch_leaks"] = LEAK_WATCH.leaks[:100]
        return
    if LEAK_WATCH.leaks:
        print("\nPERSONAL DATA OR SECRETS IN APPLICATION LOGS:", *LEAK_WATCH.leaks[:20], sep="\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(f"\nlog watch: {LEAK_WATCH.seen} application log records, no watched value in any")
