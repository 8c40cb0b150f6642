"""Real processes for the reliability tests: the server (uvicorn workers) and a private
PostgreSQL cluster that a test may stop and start without touching the shared one."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from service.store.db import migrate
from tests.auth import make_token

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_client(timeout: float = 60, key: str | None = None) -> httpx.Client:
    """A client that opens a new connection per request, so requests spread over workers;
    with ``key`` its requests carry that API key."""
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(
        timeout=timeout,
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"Connection": "close", **auth},
    )


class ServerProcess:
    """``werkmatch serve --workers N`` in its own process group (so kill -9 reaches all)."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2) -> None:
        self.env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "WERKMATCH_LOG_LEVEL": "WARNING",
            # These tests drive more than one key's normal rate; the rate-limit test lowers it.
            "WERKMATCH_RATE_LIMIT_REQUESTS": "1000000",
            **env,
        }
        self.workers = workers
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.key: str | None = None

    def start(self) -> ServerProcess:
        """Start the server; ``self.key`` becomes an admin key in its (migrated) database."""
        if self.key is None and "WERKMATCH_DATABASE_URL" in self.env:
            self.key = make_token(self.env["WERKMATCH_DATABASE_URL"], "admin")
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child process owns it)
        cmd = [sys.executable, "-m", "service", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--workers", str(self.workers)],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 240) -> set[str]:
        """Wait until every worker answered /readyz with 200; returns their pids."""
        assert self.proc is not None
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        with fresh_client(10) as http:
            while len(seen) < self.workers:
                assert self.proc.poll() is None, f"server exited:\n{self.log()}"
                assert time.monotonic() < deadline, f"not ready, saw {seen}:\n{self.log()}"
                try:
                    r = http.get(f"{self.base}/readyz")
                    if r.status_code == 200:
                        seen.add(r.headers["x-werkmatch-worker"])
                        continue
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
        return seen

    def kill(self) -> None:
        """SIGKILL the parent and every worker at once: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        """A graceful stop (SIGTERM): workers finish and write their snapshots."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.kill()


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    assert path, f"PostgreSQL binary {name} not found"
    return path


def _runuser() -> str:
    """util-linux's runuser, found even when sbin directories are not on PATH (a bare CI
    environment)."""
    path = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    assert path, "runuser (util-linux) not found: needed to run initdb as postgres"
    return path


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on its own port, in a temporary directory."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wm-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # initdb refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/werkmatch"

    def _run(self, *cmd: str) -> None:
        full = [_runuser(), "-u", "postgres", "--", *cmd] if self.as_root else list(cmd)
        subprocess.run(full, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "pg.log"),
            "-o", opts, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self) -> str:
        admin = create_engine(
            self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE werkmatch"))
        admin.dispose()
        migrate(self.url)
        return self.url

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def eventually(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()
