"""Time to ready after a restart at N candidates: snapshot + replay vs rebuild from the database.

Tops the database up to N made-up candidates (``service.tools.synthetic.insert_synthetic``:
vectors near their occupation's centre stored with their texts' hashes, no model calls), then
measures

* in-process ``IndexState.start()``: rebuild (no snapshot) and snapshot load + replay;
* a real ``werkmatch serve --workers 2``: seconds from launch until both workers answer
  ``/readyz`` 200, without and with a snapshot (this includes loading the model).

Usage (use a throw-away database; it needs to be migrated)::

    WERKMATCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_startup.py --candidates 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.embedder import load_encoder
from matching.geo import default_locator
from service.config import get_settings
from service.state.index_state import IndexState
from service.store.bulk_rows import all_ids
from service.store.db import ensure_migrated, make_engine
from service.store.models import Candidate
from service.tools.synthetic import insert_synthetic


def top_up(engine: Engine, n: int, model_id: str, dim: int) -> int:
    """Synthetic candidates until the database holds ``n``; how many were added."""
    with Session(engine) as s:
        have = len(all_ids(s, Candidate))
    added = max(0, n - have)
    done = [have]

    def progress(rows: int) -> None:
        done[0] += rows
        print(f"  inserted {done[0]}/{n}", file=sys.stderr)

    insert_synthetic(
        engine, model_id=model_id, dim=dim, vacancies=0, candidates=added, progress=progress
    )
    return added


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_time_to_ready(data_dir: Path, workers: int = 2, timeout: float = 900) -> float:
    port = _free_port()
    env = {**os.environ, "WERKMATCH_DATA_DIR": str(data_dir), "WERKMATCH_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: set[str] = set()
    try:
        while len(seen) < workers:
            if proc.poll() is not None or time.perf_counter() - started > timeout:
                raise RuntimeError("server did not become ready")
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/readyz", headers={"Connection": "close"}
                )
                with urllib.request.urlopen(req, timeout=30) as r:
                    if r.status == 200:
                        seen.add(r.headers["x-werkmatch-worker"])
                        continue
            except OSError:
                pass
            time.sleep(0.2)
        return round(time.perf_counter() - started, 2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # graceful: workers write their snapshot
        proc.wait(300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--no-server", action="store_true", help="Only the in-process figures.")
    args = parser.parse_args()
    settings = get_settings()
    if not settings.database_url:
        sys.exit("set WERKMATCH_DATABASE_URL to a throw-away, migrated database")
    engine = make_engine(settings.resolved_database_url())
    ensure_migrated(engine)
    encoder = load_encoder(settings.model, settings.embed_batch_size, settings.chunk_overlap_tokens)
    t = time.perf_counter()
    added = top_up(engine, args.candidates, encoder.model_id, encoder.dim)
    out: dict[str, object] = {
        "candidates": args.candidates,
        "inserted": added,
        "insert_seconds": round(time.perf_counter() - t, 1),
    }
    data_dir = Path(tempfile.mkdtemp(prefix="wm-bench-"))
    try:
        locator = default_locator()
        rebuild = IndexState(engine, encoder, locator, settings.focus_threshold).start()
        out["rebuild_seconds"] = rebuild["seconds"]
        state = IndexState(engine, encoder, locator, settings.focus_threshold, data_dir=data_dir)
        state.rebuild()
        t = time.perf_counter()
        path = state.write_snapshot()
        assert path is not None
        out["snapshot_write_seconds"] = round(time.perf_counter() - t, 2)
        out["snapshot_bytes"] = path.stat().st_size
        loaded = IndexState(
            engine, encoder, locator, settings.focus_threshold, data_dir=data_dir
        ).start()
        assert loaded["loaded_from"] == "snapshot" and loaded["check"]["ok"], loaded
        out["snapshot_load_seconds"] = loaded["seconds"]
        out["indexed"] = loaded["check"]["candidate"]
        if not args.no_server:
            shutil.rmtree(data_dir / "snapshots")
            out["server_ready_rebuild_seconds"] = server_time_to_ready(data_dir)
            out["server_ready_snapshot_seconds"] = server_time_to_ready(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        engine.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
