"""Index snapshots on disk: written atomically, verified completely before use.

A snapshot file holds both indexes (FAISS vectors + id map), the facts of every indexed row,
the focus-occupation list and the change-log sequence they reflect. Layout::

    WERKMATCH-SNAPSHOT 1\\n
    <header: one line of JSON: model_id, dim, seq, counts, database, sha256 of the payload>\\n
    <payload: pickle>

Writing goes to a temporary file in the same directory, which is fsynced, renamed over the
previous snapshot and the directory fsynced; a crash at any point leaves either the old or the
new snapshot, never a torn one. Reading checks the magic line, the checksum, model, dimension
and that the id maps and facts agree; any mismatch raises :class:`SnapshotInvalid` and the
caller rebuilds from the database. The file is only ever read back by this service from its
own data directory (pickle is not for untrusted input).

Erasure: a snapshot holds the facts (external id, terms of the CV) and the vector of every
indexed candidate, so erasing a candidate must also remove every snapshot that may still hold
it; see :func:`erase_older`.
"""

from __future__ import annotations

import fcntl
import gc
import glob
import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"WERKMATCH-SNAPSHOT 1\n"


class SnapshotInvalid(Exception):
    """The snapshot is missing, torn, corrupt, or was made for another model or database."""


@dataclass(frozen=True)
class SnapshotHeader:
    model_id: str
    dim: int
    seq: int
    candidates: int
    vacancies: int
    database: str
    sha256: str


def snapshot_path(data_dir: Path, model_id: str) -> Path:
    """One snapshot file per model, so switching models never loads the wrong vectors."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:80]
    return data_dir / "snapshots" / f"index-{slug}.snap"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def writer_lock(path: Path, *, wait: bool = False) -> Iterator[bool]:
    """Inter-process lock on writing ``path``: yields False when another process is writing,
    or, with ``wait``, waits until it has finished (and then yields True).

    The lock is an ``flock`` on an open file description, so two threads of one process
    exclude each other too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def stored_seq(path: Path) -> int | None:
    """The change-log seq in an existing snapshot's header (unverified), or None."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                return None
            return int(json.loads(fh.readline())["seq"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _target_of_temp(temp: Path) -> str:
    """``.index-x.snap.123.tmp`` → ``index-x.snap``."""
    return temp.name[1:].rsplit(".", 2)[0]


def erase_older(directory: Path, seq: int) -> list[Path]:
    """Remove every snapshot in ``directory`` made before change-log entry ``seq``, and every
    temp file left by a killed writer; returns what was removed.

    Called once an erasure has committed at ``seq``: a snapshot of an earlier state, of any
    model, may still hold the erased row. Each file's writer lock is waited for, so a write in
    progress finishes first and is then judged by its own header. A file at ``seq`` or later
    is kept: its writer had applied entry ``seq`` (and ``IndexState.write_snapshot`` catches up
    with the database under the lock before taking its copy, so a writer that starts after
    this returns writes at ``seq`` or later too). A file whose header cannot be read is removed.
    """
    if not directory.is_dir():
        return []
    names = {p.name for p in directory.glob("*.snap")}
    names |= {_target_of_temp(p) for p in directory.glob(".*.tmp")}
    removed: list[Path] = []
    for name in sorted(names):
        path = directory / name
        with writer_lock(path, wait=True):
            # holding the lock, no writer of this file is alive: any temp file is a leftover
            for temp in directory.glob(f".{glob.escape(name)}.*.tmp"):
                temp.unlink(missing_ok=True)
                removed.append(temp)
            if path.exists():
                at = stored_seq(path)
                if at is None or at < seq:
                    path.unlink(missing_ok=True)
                    removed.append(path)
    if removed:
        _fsync_dir(directory)
    return removed


def write_snapshot(path: Path, header: dict[str, Any], payload: dict[str, Any]) -> int:
    """Write atomically; returns the file size. ``header`` gets the payload's sha256 added."""
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    head = {**header, "sha256": hashlib.sha256(data).hexdigest()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC)
            fh.write(json.dumps(head, sort_keys=True).encode() + b"\n")
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return len(MAGIC) + len(data)


def read_snapshot(
    path: Path, *, model_id: str, dim: int, database: str
) -> tuple[SnapshotHeader, dict[str, Any]]:
    """Read and verify a snapshot; raises :class:`SnapshotInvalid` on any doubt."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise SnapshotInvalid("no snapshot") from exc
    if not raw.startswith(MAGIC):
        raise SnapshotInvalid("not a snapshot file")
    end = raw.find(b"\n", len(MAGIC))
    try:
        fields = json.loads(raw[len(MAGIC) : end])
        header = SnapshotHeader(**fields)
    except (ValueError, TypeError) as exc:
        raise SnapshotInvalid(f"unreadable header: {exc}") from exc
    data = raw[end + 1 :]
    if hashlib.sha256(data).hexdigest() != header.sha256:
        raise SnapshotInvalid("checksum mismatch (torn or corrupt file)")
    if header.model_id != model_id or header.dim != dim:
        raise SnapshotInvalid(f"made for model {header.model_id} ({header.dim} dims)")
    if header.database != database:
        raise SnapshotInvalid("made for another database")
    # Millions of small objects: with the cyclic GC running during the load it takes several
    # times longer, and nothing in the payload forms cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        payload = pickle.loads(data)
    except Exception as exc:  # a checksummed file that does not unpickle is still corrupt
        raise SnapshotInvalid(f"unreadable payload: {exc}") from exc
    finally:
        if gc_was_enabled:
            gc.enable()
    return header, payload
