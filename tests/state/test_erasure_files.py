"""Erasure on disk without the app: removing older snapshot files (and waiting for a writer),
and scrubbing an erased row out of a SQLite database file and its write-ahead log."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from service.state import snapshot as snap
from service.store import db

HEADER = {"model_id": "m", "dim": 2, "candidates": 0, "vacancies": 0, "database": "d"}


def _snapshot(path: Path, seq: int, secret: str = "") -> None:
    snap.write_snapshot(path, {**HEADER, "seq": seq}, {"secret": secret})


def test_erase_older_removes_earlier_snapshots_and_leftover_temp_files(tmp_path: Path) -> None:
    d = tmp_path / "snapshots"
    _snapshot(d / "index-a.snap", 5)
    _snapshot(d / "index-b.snap", 10)
    _snapshot(d / "index-c.snap", 7)  # written after the erasure at 7 was applied
    (d / "index-d.snap").write_bytes(b"not a snapshot")
    (d / ".index-b.snap.123.tmp").write_bytes(b"half a snapshot")  # a killed writer's
    (d / ".index-e.snap.77.tmp").write_bytes(b"half of a first snapshot")
    removed = snap.erase_older(d, 7)
    assert sorted(p.name for p in removed) == [
        ".index-b.snap.123.tmp",
        ".index-e.snap.77.tmp",
        "index-a.snap",
        "index-d.snap",
    ]
    assert sorted(p.name for p in d.iterdir() if not p.name.endswith(".lock")) == [
        "index-b.snap",
        "index-c.snap",
    ]
    assert snap.erase_older(d, 7) == []
    assert snap.erase_older(tmp_path / "none", 7) == []


def test_erase_older_waits_for_a_write_in_progress_and_judges_its_result(
    tmp_path: Path,
) -> None:
    path = tmp_path / "snapshots" / "index-a.snap"
    _snapshot(path, 3)
    done: list[list[Path]] = []
    with snap.writer_lock(path) as mine:
        assert mine
        with snap.writer_lock(path) as second:
            assert not second  # a second writer (thread or process) does not get in
        eraser = threading.Thread(target=lambda: done.append(snap.erase_older(path.parent, 9)))
        eraser.start()
        time.sleep(0.5)
        assert eraser.is_alive() and path.exists()
        _snapshot(path, 8, secret="erased at 9")  # the writer's older state lands now
    eraser.join(10)
    assert done == [[path]] and not path.exists()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE person (id INTEGER PRIMARY KEY, cv TEXT)"))
        filler = [{"cv": f"filler {i} " * 300} for i in range(100)]
        conn.execute(text("INSERT INTO person (cv) VALUES (:cv)"), filler)
        conn.execute(text("INSERT INTO person (cv) VALUES (:cv)"), {"cv": "wisproefqq " * 2000})
    yield engine
    engine.dispose()


def _marker_in(path: Path) -> list[str]:
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return [f.name for f in files if f.is_file() and b"wisproefqq" in f.read_bytes()]


def test_sqlite_erasure_leaves_no_trace_in_the_file_or_the_wal(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "w.db"
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)"))  # part of it in the db file too
    assert _marker_in(path) == ["w.db", "w.db-wal"]
    with sqlite_engine.begin() as conn:
        conn.execute(text("DELETE FROM person WHERE cv LIKE 'wisproefqq%'"))
    assert _marker_in(path) == ["w.db", "w.db-wal"]  # the delete alone is not enough
    assert db.scrub_after_erasure(sqlite_engine)
    assert _marker_in(path) == []
    assert path.with_name("w.db-wal").stat().st_size == 0


def test_sqlite_scrub_is_retried_until_a_reader_has_gone(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "CHECKPOINT_BUSY_MS", 100)
    monkeypatch.setattr(db, "CHECKPOINT_RETRY_S", 0.2)
    path = tmp_path / "w.db"
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM person").fetchone()[0] == 101  # holds the WAL
    with sqlite_engine.begin() as conn:
        conn.execute(text("DELETE FROM person WHERE cv LIKE 'wisproefqq%'"))
    assert not db.scrub_after_erasure(sqlite_engine)
    time.sleep(0.5)
    assert "w.db-wal" in _marker_in(path)  # still there while the reader reads
    reader.rollback()
    reader.close()
    deadline = time.monotonic() + 10
    while _marker_in(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marker_in(path) == []
