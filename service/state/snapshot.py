"""Index snapshots on disk: written atomically, verified completely before use.

A snapshot file holds both indexes (FAISS vectors + id map), the fact stores of both
collections as plain numpy arrays (:meth:`matching.facts.FactStore.to_arrays`), the
focus-occupation list and the change-log sequence they reflect. Layout::

    WERKMATCH-SNAPSHOT 2\\n
    <header: one line of JSON: model_id, dim, seq, counts, database, sha256 of the payload,
     and "arrays": name -> [dtype, shape, offset from the payload start]>\\n
    <zero padding up to a multiple of 4096 bytes>
    <payload: the arrays' raw bytes (C order, little-endian), each at a multiple of 64 bytes>

No pickle: every array can be memory-mapped where it lies (``np.memmap`` with the header's
dtype, shape and offset) or read straight into memory; loading builds no object per row.

Writing goes to a temporary file in the same directory, which is fsynced, renamed over the
previous snapshot and the directory fsynced; a crash at any point leaves either the old or the
new snapshot, never a torn one. Reading checks the magic line, the checksum, model, dimension
and that every array lies inside the payload; the caller checks that the id maps and fact
stores agree. Any mismatch raises :class:`SnapshotInvalid` and the caller rebuilds from the
database.

The reader maps the file, checks it, and copies the arrays into the process's own memory
before it returns: a process that kept the file mapped would keep its blocks on disk after an
erasure had unlinked it (see below).

Erasure: a snapshot holds the facts (external id, terms of the CV) and the vector of every
indexed candidate, so erasing a candidate must also remove every snapshot that may still hold
it; see :func:`erase_older`.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import mmap
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"WERKMATCH-SNAPSHOT 2\n"
_PAGE = 4096
_ALIGN = 64

Payload = dict[str, np.ndarray]


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


def _as_array(value: np.ndarray | bytes | str) -> np.ndarray:
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return np.frombuffer(value, dtype=np.uint8)
    return np.ascontiguousarray(value)


def write_snapshot(
    path: Path, header: dict[str, Any], payload: Mapping[str, np.ndarray | bytes | str]
) -> int:
    """Write atomically; returns the file size. ``header`` gets the payload's sha256 and the
    arrays' layout added. ``payload`` values are arrays of fixed-width dtypes (bytes and str
    are stored as uint8 arrays)."""
    arrays = {name: _as_array(v) for name, v in payload.items()}
    layout: dict[str, list[Any]] = {}
    offset = 0
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise TypeError(f"{name}: object arrays cannot be stored")
        layout[name] = [a.dtype.newbyteorder("<").str, list(a.shape), offset]
        offset += -(-a.nbytes // _ALIGN) * _ALIGN
    digest = hashlib.sha256()
    pad = bytes(_ALIGN)

    def chunks() -> Iterator[bytes | memoryview]:
        for a in arrays.values():
            data = a.astype(a.dtype.newbyteorder("<"), copy=False).data.cast("B")
            yield data
            yield pad[: -a.nbytes % _ALIGN]

    for chunk in chunks():
        digest.update(chunk)
    head = {**header, "sha256": digest.hexdigest(), "arrays": layout}
    first = MAGIC + json.dumps(head, sort_keys=True).encode() + b"\n"
    first += bytes(-len(first) % _PAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(first)
            for chunk in chunks():
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return len(first) + offset


def read_snapshot(
    path: Path, *, model_id: str, dim: int, database: str
) -> tuple[SnapshotHeader, Payload]:
    """Read and verify a snapshot; raises :class:`SnapshotInvalid` on any doubt.

    Returns the header and the arrays, copied into memory (the file is not kept mapped).
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    except FileNotFoundError as exc:
        raise SnapshotInvalid("no snapshot") from exc
    with fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise SnapshotInvalid("not a snapshot file")
        try:
            fields = json.loads(fh.readline())
            layout = fields.pop("arrays")
            header = SnapshotHeader(**fields)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SnapshotInvalid(f"unreadable header: {exc}") from exc
        start = -(-fh.tell() // _PAGE) * _PAGE
        size = os.fstat(fh.fileno()).st_size
        if size <= start:
            raise SnapshotInvalid("checksum mismatch (torn or corrupt file): no payload")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                if hashlib.sha256(view[start:]).hexdigest() != header.sha256:
                    raise SnapshotInvalid("checksum mismatch (torn or corrupt file)")
                if header.model_id != model_id or header.dim != dim:
                    raise SnapshotInvalid(f"made for model {header.model_id} ({header.dim} dims)")
                if header.database != database:
                    raise SnapshotInvalid("made for another database")
                payload = _arrays(view, start, size, layout)
            finally:
                view.release()
    return header, payload


def _arrays(view: memoryview, start: int, size: int, layout: Any) -> Payload:
    out: Payload = {}
    try:
        for name, (dtype, shape, offset) in layout.items():
            dt = np.dtype(dtype)
            if dt.hasobject:
                raise ValueError("object dtype")
            count = int(np.prod(shape, dtype=np.int64))
            begin = start + int(offset)
            if offset < 0 or begin + count * dt.itemsize > size:
                raise ValueError("outside the file")
            # one expression: no reference into the map outlives it (the map is closed next)
            out[name] = (
                np.frombuffer(view, dtype=dt, count=count, offset=begin)
                .reshape(shape)
                .astype(dt.newbyteorder("="), copy=True)
            )
    except (ValueError, TypeError, AttributeError) as exc:
        raise SnapshotInvalid(f"unreadable payload: {exc}") from exc
    return out
