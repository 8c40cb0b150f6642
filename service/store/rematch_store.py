"""Storing a rematch run's matches in bulk, reading them back as arrays, and what changed since.

A run's result is, per direction, a :class:`TopK`: the query ids, their targets' ids and
scores as ``[n, k]`` arrays (``-1`` pads a row with fewer than ``k`` targets) and the three
weighted parts of each score. :func:`store_topk` writes them to ``rematch_match``:

* PostgreSQL: one binary ``COPY`` per chunk; the rows are laid out by numpy, not by Python.
* SQLite: ``executemany`` in one transaction per chunk (the database runs in WAL mode).

Each chunk covers a contiguous range of query ids and commits together with its
``rematch_batch`` row, after deleting whatever an earlier attempt stored for that range, so
a killed run resumes without duplicates or losses (as :mod:`service.batch.rematch_runs` describes).

An incremental store (``base_run`` given) writes only the lists that differ from that run's:
a list whose targets, scores, parts and ranks equal the stored ones is copied inside the
database (``INSERT … SELECT``) instead of being sent again. What ends up stored is the same
row for row as a full store of the same result, so the run's new/unchanged/disappeared diff
is too. A copied row still costs the database an insert into the table and its two indexes,
so this saves the transfer and the client's work, not the writes: storing O(changes) rows
needs runs to share unchanged lists instead of copying them (``werkmatch bench-rematch-store``
measures both against the previous row insert).

:func:`detect_changes` tells, from the change log and the previous run's saved pools
(:func:`save_state`), which vacancies and candidates changed, entered or left the pool since
that run, or why only a full run is right (another model, top-k, settings or focus list).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlmodel import Session, col

from matching import rematch as core
from matching.ranking import SIGNALS
from service.config import Settings
from service.store import crud
from service.store.models import Candidate, ChangeLog, Vacancy
from service.store.rematch_models import (
    FOR_CANDIDATE,
    FOR_VACANCY,
    RematchBatch,
    RematchMatch,
    RematchRun,
    RematchState,
)

PARTS = SIGNALS
PAD = -1
# Rows of one stored chunk (one transaction); bounds the memory of the COPY buffer.
CHUNK_ROWS = 200_000
# Bytes of one stored piece of a state array (PostgreSQL bytea and SQLite blobs stay small).
STATE_PART_BYTES = 32 << 20


class MatchLike(Protocol):
    """What :func:`topk_from_rows` reads of a row (``matching.rematch.MatchRow`` has it)."""

    @property
    def vacancy_id(self) -> int: ...
    @property
    def candidate_id(self) -> int: ...
    @property
    def rank(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def semantic(self) -> float: ...
    @property
    def lexical(self) -> float: ...
    @property
    def occupation(self) -> float: ...


@dataclass(frozen=True)
class TopK:
    """One direction's top-k lists.

    Attributes:
        direction: ``FOR_VACANCY`` (queries are vacancies, targets candidates) or
            ``FOR_CANDIDATE``.
        query_ids: int64 ``[n]``, strictly increasing.
        target_ids: int64 ``[n, k]``, best first; a row's unused tail is ``-1``.
        scores: float32 ``[n, k]`` (anything under the padding).
        parts: float32 ``[n, k, 3]``: the weighted semantic, lexical and occupation parts of
            each score (stored rounded to 4 decimals, as the API shows them).
    """

    direction: int
    query_ids: np.ndarray
    target_ids: np.ndarray
    scores: np.ndarray
    parts: np.ndarray

    def __post_init__(self) -> None:
        if self.direction not in (FOR_VACANCY, FOR_CANDIDATE):
            raise ValueError(f"direction must be 0 or 1, got {self.direction!r}")
        n = self.query_ids.shape[0] if self.query_ids.ndim == 1 else -1
        if self.query_ids.dtype != np.int64 or n < 0:
            raise ValueError("query_ids must be int64 [n]")
        if self.target_ids.dtype != np.int64 or self.target_ids.ndim != 2:
            raise ValueError("target_ids must be int64 [n, k]")
        k = self.target_ids.shape[1]
        if self.target_ids.shape[0] != n:
            raise ValueError("target_ids must have one row per query id")
        if self.scores.dtype != np.float32 or self.scores.shape != (n, k):
            raise ValueError("scores must be float32 [n, k] like target_ids")
        if self.parts.dtype != np.float32 or self.parts.shape != (n, k, len(PARTS)):
            raise ValueError("parts must be float32 [n, k, 3]")
        if n > 1 and not bool(np.all(np.diff(self.query_ids) > 0)):
            raise ValueError("query_ids must be strictly increasing")
        present = self.target_ids != PAD
        if k > 1 and bool(np.any(present[:, 1:] & ~present[:, :-1])):
            raise ValueError("target_ids: -1 padding must only end a row")
        if bool(np.any(self.target_ids[present] < 0)):
            raise ValueError("target_ids: ids are positive, -1 is the padding")

    def __len__(self) -> int:
        return int(self.query_ids.shape[0])

    @property
    def k(self) -> int:
        return int(self.target_ids.shape[1])

    @property
    def matches(self) -> int:
        return int(np.count_nonzero(self.target_ids != PAD))

    def slice_rows(self, rows: np.ndarray) -> TopK:
        """The lists at positions ``rows`` (int, increasing)."""
        return TopK(
            self.direction,
            self.query_ids[rows],
            self.target_ids[rows],
            self.scores[rows],
            self.parts[rows],
        )

    def slice(self, start: int, stop: int) -> TopK:
        return TopK(
            self.direction,
            self.query_ids[start:stop],
            self.target_ids[start:stop],
            self.scores[start:stop],
            self.parts[start:stop],
        )


def empty_topk(direction: int, query_ids: np.ndarray, k: int) -> TopK:
    """Every query of ``query_ids`` with an empty list."""
    n = len(query_ids)
    return TopK(
        direction,
        np.asarray(query_ids, dtype=np.int64),
        np.full((n, k), PAD, dtype=np.int64),
        np.zeros((n, k), dtype=np.float32),
        np.zeros((n, k, len(PARTS)), dtype=np.float32),
    )


def topk_from_rows(
    rows: Iterable[MatchLike],
    direction: int,
    query_ids: np.ndarray | Sequence[int] | None = None,
    k: int | None = None,
) -> TopK:
    """Today's match rows (``matching.rematch.MatchRow``) of one direction as a :class:`TopK`.

    Rows of a query are placed in rank order. ``query_ids`` (sorted) lists every query, those
    without rows too; by default the queries that have rows. ``k`` defaults to the longest list.

    Raises:
        ValueError: a row's query is not in ``query_ids``, or a list is longer than ``k``.
    """
    rows = list(rows)
    if direction == FOR_VACANCY:
        q = np.array([r.vacancy_id for r in rows], dtype=np.int64)
        t = np.array([r.candidate_id for r in rows], dtype=np.int64)
    else:
        q = np.array([r.candidate_id for r in rows], dtype=np.int64)
        t = np.array([r.vacancy_id for r in rows], dtype=np.int64)
    rank = np.array([r.rank for r in rows], dtype=np.int64)
    score = np.array([r.score for r in rows], dtype=np.float64)
    parts = np.array(
        [(r.semantic, r.lexical, r.occupation) for r in rows], dtype=np.float64
    ).reshape(-1, len(PARTS))
    queries = np.unique(q) if query_ids is None else np.asarray(query_ids, dtype=np.int64)
    return _assemble(direction, queries, q, t, rank, score, parts, k)


def _assemble(
    direction: int,
    queries: np.ndarray,
    q: np.ndarray,
    t: np.ndarray,
    rank: np.ndarray,
    score: np.ndarray,
    parts: np.ndarray,
    k: int | None,
) -> TopK:
    """Rows (query id, target id, rank, score, parts) into ``[n, k]`` arrays, rank order."""
    order = np.lexsort((rank, q))
    q, t, score, parts = q[order], t[order], score[order], parts[order]
    row = np.searchsorted(queries, q)
    if len(q) and (
        bool(np.any(row >= len(queries))) or bool(np.any(queries[row % len(queries)] != q))
    ):
        raise ValueError("a row's query id is not among the query ids")
    starts = np.searchsorted(q, queries)
    position = np.arange(len(q)) - starts[row] if len(q) else np.zeros(0, dtype=np.int64)
    longest = int(position.max()) + 1 if len(q) else 0
    k = longest if k is None else k
    if longest > k:
        raise ValueError(f"a query has {longest} matches, more than k={k}")
    out = empty_topk(direction, queries, k)
    out.target_ids[row, position] = t
    out.scores[row, position] = score.astype(np.float32)
    out.parts[row, position] = parts.astype(np.float32)
    return out


def stored_values(topk: TopK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a store writes for ``topk``: (score float64 [n, k], parts float64 [n, k, 3] rounded
    to 4 decimals, rank int64 [n, k] starting at 1)."""
    rank = np.broadcast_to(np.arange(1, topk.k + 1, dtype=np.int64), topk.target_ids.shape)
    return (
        topk.scores.astype(np.float64),
        np.round(topk.parts.astype(np.float64), 4),
        rank,
    )


def match_columns(topk: TopK, run_id: int, keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The stored rows of ``topk`` as flat columns (padding, and where ``keep`` (bool [n, k])
    is False, left out; ranks stay those of the list), in query then rank order."""
    present = topk.target_ids != PAD
    if keep is not None:
        present &= keep
    row, pos = np.nonzero(present)
    score, parts, rank = stored_values(topk)
    qid = topk.query_ids[row]
    tid = topk.target_ids[row, pos]
    vac, cand = (qid, tid) if topk.direction == FOR_VACANCY else (tid, qid)
    return {
        "run_id": np.full(len(row), run_id, dtype=np.int64),
        "vacancy_id": vac,
        "candidate_id": cand,
        "direction": np.full(len(row), topk.direction, dtype=np.int64),
        "rank": rank[row, pos],
        "score": score[row, pos],
        "semantic": parts[row, pos, 0],
        "lexical": parts[row, pos, 1],
        "occupation": parts[row, pos, 2],
    }


MATCH_COLUMNS = (
    "run_id",
    "vacancy_id",
    "candidate_id",
    "direction",
    "rank",
    "score",
    "semantic",
    "lexical",
    "occupation",
)
# PostgreSQL's types of the rematch_match columns, in MATCH_COLUMNS order (binary COPY sends
# them as they are: int4, int2 and float8 big-endian)
_PG_TYPES = (">i4", ">i4", ">i4", ">i2", ">i2", ">f8", ">f8", ">f8", ">f8")
_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_PG_TRAILER = b"\xff\xff"


def pg_copy_rows(columns: Mapping[str, np.ndarray]) -> bytes:
    """The tuples of ``columns`` (MATCH_COLUMNS) in PostgreSQL's binary COPY format."""
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, kind in zip(MATCH_COLUMNS, _PG_TYPES, strict=True):
        fields += [(f"{name}_len", ">i4"), (name, kind)]
    n = len(columns["run_id"])
    tuples = np.empty(n, dtype=np.dtype(fields))
    tuples["nfields"] = len(MATCH_COLUMNS)
    for name, kind in zip(MATCH_COLUMNS, _PG_TYPES, strict=True):
        tuples[f"{name}_len"] = np.dtype(kind).itemsize
        tuples[name] = columns[name]
    return _PG_SIGNATURE + tuples.tobytes() + _PG_TRAILER


def _copy_in(conn: Connection, sql: str, data: bytes) -> None:
    """Send ``data`` (a whole binary COPY stream) with ``sql`` on the connection's psycopg
    connection, inside its open transaction."""
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(sql) as copy:
        copy.write(data)


def _write_rows(conn: Connection, columns: Mapping[str, np.ndarray]) -> None:
    if not len(columns["run_id"]):
        return
    if conn.dialect.name == "postgresql":
        _copy_in(
            conn,
            f"COPY rematch_match ({', '.join(MATCH_COLUMNS)}) FROM STDIN (FORMAT BINARY)",
            pg_copy_rows(columns),
        )
        return
    lists = [columns[c].tolist() for c in MATCH_COLUMNS]
    conn.exec_driver_sql(
        f"INSERT INTO rematch_match ({', '.join(MATCH_COLUMNS)}) VALUES "
        f"({', '.join('?' for _ in MATCH_COLUMNS)})",
        list(zip(*lists, strict=True)),
    )


def _query_col(direction: int) -> tuple[str, str]:
    return (
        ("vacancy_id", "candidate_id")
        if direction == FOR_VACANCY
        else ("candidate_id", "vacancy_id")
    )


def _read_stored(
    conn: Connection, run_id: int, direction: int, lo: int, hi: int
) -> dict[str, np.ndarray]:
    """The stored rows of one run, direction and query-id range as columns (q, t, rank, score,
    semantic, lexical, occupation), in query then rank order."""
    qcol, tcol = _query_col(direction)
    select_sql = (
        f"SELECT {qcol}, {tcol}, rank, score, semantic, lexical, occupation FROM rematch_match "
        f"WHERE run_id = {int(run_id)} AND direction = {int(direction)} "
        f"AND {qcol} BETWEEN {int(lo)} AND {int(hi)} ORDER BY {qcol}, rank"
    )
    names = ("q", "t", "rank", "score", "semantic", "lexical", "occupation")
    if conn.dialect.name == "postgresql":
        return _read_packed(conn, run_id, direction, lo, hi)
    raw: Any = conn.connection.driver_connection
    # plain tuples from the driver: SQLAlchemy's rows cost far more per value
    rows = raw.execute(select_sql.rsplit(" ORDER BY ", 1)[0]).fetchall()
    table = np.array(rows, dtype=np.float64).reshape(-1, len(names))
    table = table[np.lexsort((table[:, 2], table[:, 0]))]
    return {
        name: table[:, i].astype(np.int64) if i < 3 else table[:, i] for i, name in enumerate(names)
    }


# Rows per value that PostgreSQL packs for _read_packed (42 bytes each).
PACKED_ROWS = 1_000_000
_PACKED = np.dtype(
    [
        ("q", ">i4"),
        ("t", ">i4"),
        ("rank", ">i2"),
        ("score", ">f8"),
        ("semantic", ">f8"),
        ("lexical", ">f8"),
        ("occupation", ">f8"),
    ]
)


def _read_packed(
    conn: Connection, run_id: int, direction: int, lo: int, hi: int
) -> dict[str, np.ndarray]:
    """:func:`_read_stored` on PostgreSQL: the server packs the rows of a window of query ids
    into one bytea of fixed-width big-endian records (``*send`` gives the exact bits), so the
    client reads a few large values instead of a message per row."""
    qcol, tcol = _query_col(direction)
    where = (
        f"run_id = {int(run_id)} AND direction = {int(direction)} AND {qcol} BETWEEN "
        "{lo} AND {hi}"
    )
    count, first, last = conn.exec_driver_sql(
        f"SELECT COUNT(*), MIN({qcol}), MAX({qcol}) FROM rematch_match "
        f"WHERE {where.format(lo=int(lo), hi=int(hi))}"
    ).one()
    blobs: list[bytes] = []
    if count:
        step = max(1, (int(last) - int(first) + 1) * PACKED_ROWS // int(count))
        for a in range(int(first), int(last) + 1, step):
            blob = conn.exec_driver_sql(
                f"SELECT string_agg(int4send({qcol}) || int4send({tcol}) || int2send(rank) || "
                "float8send(score) || float8send(semantic) || float8send(lexical) || "
                f"float8send(occupation), ''::bytea ORDER BY {qcol}, rank) FROM rematch_match "
                f"WHERE {where.format(lo=a, hi=min(a + step - 1, int(last)))}"
            ).scalar()
            if blob:
                blobs.append(bytes(blob))
    records = np.frombuffer(b"".join(blobs), dtype=_PACKED)
    return {
        name: records[name].astype(np.int64 if name in ("q", "t", "rank") else np.float64)
        for name in _PACKED.names or ()
    }


def _same_lists(topk: TopK, stored: Mapping[str, np.ndarray]) -> np.ndarray:
    """bool ``[n]``: the query's stored list (``stored`` from :func:`_read_stored`) is exactly
    what storing ``topk`` writes for it, rank for rank (both empty counts as equal)."""
    n, k = len(topk), topk.k
    row = np.searchsorted(topk.query_ids, stored["q"])
    known = row < n
    known[known] = topk.query_ids[row[known]] == stored["q"][known]
    same = np.ones(n, dtype=bool)
    # a stored query missing from topk is no longer a query: nothing of it is carried
    row, cols = row[known], {name: v[known] for name, v in stored.items()}
    counts = np.bincount(row, minlength=n)
    same &= counts == np.count_nonzero(topk.target_ids != PAD, axis=1)
    position = np.arange(len(row)) - np.searchsorted(row, row) if len(row) else row
    fits = position < k
    bad_rows = row[~fits]
    same[bad_rows] = False
    row, position = row[fits], position[fits]
    cols = {name: v[fits] for name, v in cols.items()}
    score, parts, rank = stored_values(topk)
    equal = (
        (topk.target_ids[row, position] == cols["t"])
        & (rank[row, position] == cols["rank"])
        & (score[row, position] == cols["score"])
    )
    for i, name in enumerate(PARTS):
        equal &= parts[row, position, i] == cols[name]
    same[row[~equal]] = False
    return same


def _carry(
    conn: Connection, run_id: int, base_run: int, direction: int, query_ids: np.ndarray
) -> int:
    """Copy ``base_run``'s lists of ``query_ids`` into ``run_id`` inside the database."""
    if not len(query_ids):
        return 0
    qcol, _ = _query_col(direction)
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS rematch_carry (query_id BIGINT PRIMARY KEY)"
    )
    conn.exec_driver_sql("DELETE FROM rematch_carry")
    if conn.dialect.name == "postgresql":
        tuples = np.empty(
            len(query_ids), dtype=np.dtype([("n", ">i2"), ("len", ">i4"), ("id", ">i8")])
        )
        tuples["n"], tuples["len"], tuples["id"] = 1, 8, query_ids
        _copy_in(
            conn,
            "COPY rematch_carry (query_id) FROM STDIN (FORMAT BINARY)",
            _PG_SIGNATURE + tuples.tobytes() + _PG_TRAILER,
        )
    else:
        conn.exec_driver_sql(
            "INSERT INTO rematch_carry (query_id) VALUES (?)", [(int(i),) for i in query_ids]
        )
    carried = conn.exec_driver_sql(
        f"INSERT INTO rematch_match ({', '.join(MATCH_COLUMNS)}) "
        f"SELECT {int(run_id)}, {', '.join('m.' + c for c in MATCH_COLUMNS[1:])} "
        f"FROM rematch_match m JOIN rematch_carry c ON c.query_id = m.{qcol} "
        f"WHERE m.run_id = {int(base_run)} AND m.direction = {int(direction)}"
    ).rowcount
    conn.exec_driver_sql("DELETE FROM rematch_carry")
    return int(carried)


def _existing(conn: Connection, table: str, ids: np.ndarray) -> np.ndarray:
    """bool like ``ids``: the row still exists (read inside the storing transaction)."""
    if not len(ids):
        return np.zeros(0, dtype=bool)
    if conn.dialect.name == "postgresql":
        # one array parameter, however many ids
        found = (
            conn.exec_driver_sql(
                f"SELECT id FROM {table} WHERE id = ANY(%(ids)s)", {"ids": ids.tolist()}
            )
            .scalars()
            .all()
        )
    else:
        # SQLite reads its local file: scanning the id range beats thousands of parameters
        lo, hi = int(ids.min()), int(ids.max())
        found = (
            conn.exec_driver_sql(f"SELECT id FROM {table} WHERE id BETWEEN {lo} AND {hi}")
            .scalars()
            .all()
        )
    return np.isin(ids, np.array(found, dtype=np.int64))


@dataclass
class StoreStats:
    """What a store did: rows sent, rows copied from the base run, chunks, seconds."""

    written: int = 0
    carried: int = 0
    dropped_erased: int = 0
    chunks: int = 0
    lists_written: int = 0
    lists_carried: int = 0
    seconds: float = 0.0

    def add(self, other: StoreStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _chunks(topk: TopK, chunk_rows: int) -> Iterator[tuple[int, int]]:
    per_query = max(topk.k, 1)
    step = max(1, chunk_rows // per_query)
    for start in range(0, len(topk), step):
        yield start, min(start + step, len(topk))


# SQLite's page cache while storing (KiB; its default is 2 MiB): the rows of one direction
# arrive in the order of the other's index, so each insert lands on another page of a B-tree
# that outgrows a small cache long before a national run is stored.
SQLITE_STORE_CACHE_KIB = 256 << 10


def _page_cache(conn: Connection, restore: int | None = None) -> int | None:
    """SQLite: give this connection a :data:`SQLITE_STORE_CACHE_KIB` page cache and return
    the size it had; with ``restore``, set that size back (the pooled connection serves other
    work afterwards; a failed store leaves it larger, which only costs memory)."""
    if conn.dialect.name != "sqlite" or not SQLITE_STORE_CACHE_KIB:
        return None
    if restore is not None:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(restore)}")
        return restore
    (previous,) = conn.exec_driver_sql("PRAGMA cache_size").one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{int(SQLITE_STORE_CACHE_KIB)}")
    return int(previous)


def store_topk(
    engine: Engine,
    run_id: int,
    topk: TopK,
    *,
    base_run: int | None = None,
    changed: np.ndarray | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> StoreStats:
    """Store one direction's lists of run ``run_id``, one transaction per chunk of queries.

    Each chunk first deletes what the run already stored for its query-id range (a resumed
    run re-stores a range idempotently), then writes its lists and its ``rematch_batch`` row.
    Targets and queries erased since the run loaded them are left out (checked under the
    erasure lock after the first write, as :func:`service.batch.rematch_runs` does).

    ``base_run``: an incremental store. A list equal to what ``base_run`` stored for the same
    query is copied in the database instead of sent; ``changed`` (bool ``[n]``), when given,
    says which lists may differ from ``base_run``'s without reading them back: the others are
    copied unread, so it must be exact (a merge that left a list alone says so).
    """
    started = time.perf_counter()
    stats = StoreStats()
    if changed is not None and (changed.dtype != np.bool_ or changed.shape != (len(topk),)):
        raise ValueError("changed must be bool [n] like query_ids")
    qcol, _ = _query_col(topk.direction)
    qtable, ttable = (
        ("vacancy", "candidate") if topk.direction == FOR_VACANCY else ("candidate", "vacancy")
    )
    for start, stop in _chunks(topk, chunk_rows):
        part = topk.slice(start, stop)
        lo, hi = int(part.query_ids[0]), int(part.query_ids[-1])
        with Session(engine) as session:
            crud.hold_erasure_lock(session, shared=True)
            conn = session.connection()
            cache = _page_cache(conn)
            session.execute(
                delete(RematchMatch).where(
                    col(RematchMatch.run_id) == run_id,
                    col(RematchMatch.direction) == topk.direction,
                    col(getattr(RematchMatch, qcol)) >= lo,
                    col(getattr(RematchMatch, qcol)) <= hi,
                )
            )
            session.execute(
                delete(RematchBatch).where(
                    col(RematchBatch.run_id) == run_id,
                    col(RematchBatch.direction) == topk.direction,
                    col(RematchBatch.lo_id) == lo,
                )
            )
            # after the first write: on SQLite this transaction now holds the write lock
            alive = _existing(conn, qtable, part.query_ids)
            present = part.target_ids != PAD
            targets = np.unique(part.target_ids[present])
            alive_targets = targets[_existing(conn, ttable, targets)]
            keep = present & np.isin(part.target_ids, alive_targets) & alive[:, None]
            stats.dropped_erased += int(np.count_nonzero(present & ~keep))
            write = np.ones(len(part), dtype=bool)
            if base_run is not None:
                if changed is not None:
                    same = ~changed[start:stop]
                else:
                    same = _same_lists(part, _read_stored(conn, base_run, part.direction, lo, hi))
                # a list that lost an erased row is written as it is now, not copied
                write = ~(same & np.all(keep == present, axis=1))
                carry_ids = part.query_ids[~write & np.any(present, axis=1)]
                stats.carried += _carry(conn, run_id, base_run, part.direction, carry_ids)
                stats.lists_carried += len(carry_ids)
            rows = np.flatnonzero(write)
            columns = match_columns(part.slice_rows(rows), run_id, keep[rows])
            _write_rows(conn, columns)
            stats.written += len(columns["run_id"])
            stats.lists_written += int(np.count_nonzero(write))
            session.execute(
                insert(RematchBatch),
                [
                    {
                        "run_id": run_id,
                        "direction": topk.direction,
                        "lo_id": lo,
                        "hi_id": hi,
                        "queries": stop - start,
                    }
                ],
            )
            _page_cache(conn, cache)
            session.commit()
        stats.chunks += 1
    stats.seconds = time.perf_counter() - started
    return stats


def store_result(
    engine: Engine,
    run_id: int,
    result: Iterable[TopK],
    *,
    base_run: int | None = None,
    changed: Mapping[int, np.ndarray] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> StoreStats:
    """Store a run's lists of both directions (see :func:`store_topk`); ``changed`` maps a
    direction to its ``changed`` mask."""
    total = StoreStats()
    for topk in result:
        mask = None if changed is None else changed.get(topk.direction)
        total.add(
            store_topk(engine, run_id, topk, base_run=base_run, changed=mask, chunk_rows=chunk_rows)
        )
    return total


def load_topk(session: Session, run_id: int, direction: int, k: int | None = None) -> TopK:
    """The lists run ``run_id`` stored for ``direction``, as arrays (only queries with at least
    one stored match; ``k`` defaults to the run's ``top_k``).

    Scores are the stored values cast to float32 and parts to float32.
    """
    if k is None:
        run = session.get(RematchRun, run_id)
        if run is None:
            raise LookupError(f"no rematch run {run_id}")
        k = run.top_k
    stored = _read_stored(session.connection(), run_id, direction, -(2**31), 2**31 - 1)
    parts = np.stack([stored[name] for name in PARTS], axis=1)
    return _assemble(
        direction,
        np.unique(stored["q"]),
        stored["q"],
        stored["t"],
        stored["rank"],
        stored["score"],
        parts,
        k,
    )


# ---------------------------------------------------------------- run state


def save_arrays(session: Session, run_id: int, arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays for run ``run_id`` (replacing arrays of the same names) in the
    session's transaction; the caller commits."""
    for name, array in arrays.items():
        if len(name) > 64:
            raise ValueError(f"array name {name!r} is longer than 64 characters")
        a = np.ascontiguousarray(array)
        if a.dtype.hasobject:
            raise ValueError(f"array {name!r} holds Python objects; only plain dtypes are saved")
        session.execute(
            delete(RematchState).where(
                col(RematchState.run_id) == run_id, col(RematchState.name) == name
            )
        )
        blob = a.tobytes()
        pieces = [blob[i : i + STATE_PART_BYTES] for i in range(0, len(blob), STATE_PART_BYTES)]
        for part, piece in enumerate(pieces or [b""]):
            session.add(
                RematchState(
                    run_id=run_id,
                    name=name,
                    part=part,
                    dtype=a.dtype.str,
                    shape=list(a.shape),
                    data=piece,
                )
            )
    session.flush()


def load_arrays(session: Session, run_id: int) -> dict[str, np.ndarray]:
    """The arrays saved for run ``run_id`` by name (empty when it saved none)."""
    rows = session.execute(
        select(RematchState)
        .where(col(RematchState.run_id) == run_id)
        .order_by(col(RematchState.name), col(RematchState.part))
    ).scalars()
    return _arrays_of(rows)


def _arrays_of(rows: Iterable[RematchState]) -> dict[str, np.ndarray]:
    """Saved pieces (ordered by name, then part) joined into arrays by name."""
    pieces: dict[str, list[bytes]] = {}
    kinds: dict[str, tuple[str, list[int]]] = {}
    for r in rows:
        pieces.setdefault(r.name, []).append(bytes(r.data))
        kinds[r.name] = (r.dtype, list(r.shape))
    return {
        name: np.frombuffer(b"".join(parts), dtype=np.dtype(kinds[name][0]))
        .reshape(kinds[name][1])
        .copy()
        for name, parts in pieces.items()
    }


def settings_key(model_id: str, top_k: int, settings: Settings) -> str:
    """A digest of everything apart from the rows that decides a run's matches: a run whose
    key differs from the previous run's has to be full."""
    from matching.ranking import calibration_for

    calibration = calibration_for(model_id)
    what = {
        "model_id": model_id,
        "top_k": top_k,
        "focus_threshold": settings.focus_threshold,
        "placed_leave_pool": settings.rematch_placed_leave_pool,
        "weights": sorted(calibration.weights.items()),
        "semantic_floor": calibration.semantic_floor,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RunState:
    """What a run leaves for the next, incremental one.

    ``change_seq``: every change-log entry up to it is in the run's matches (the run's
    ``change_seq_from``); ``vacancy_ids`` / ``candidate_ids``: int64, sorted, the open
    vacancies and active candidates the run matched.
    """

    run_id: int
    key: str
    change_seq: int
    vacancy_ids: np.ndarray
    candidate_ids: np.ndarray
    started_at: datetime


def save_state(
    session: Session, run_id: int, key: str, vacancy_ids: np.ndarray, candidate_ids: np.ndarray
) -> None:
    """Save a run's state (see :class:`RunState`; the change-log position and start time are
    the run's own) in the session's transaction."""
    save_arrays(
        session,
        run_id,
        {
            "vacancy_ids": np.sort(np.asarray(vacancy_ids, dtype=np.int64)),
            "candidate_ids": np.sort(np.asarray(candidate_ids, dtype=np.int64)),
            "key": np.frombuffer(key.encode(), dtype=np.uint8),
        },
    )


# ---------------------------------------------------------------- the core's state

CORE = "core."  # prefix of the arrays of a saved matching.rematch.RematchState
_POOLS = ("ids", "cos", "size", "complete")
_LISTS = ("ids", "scores", "parts")


_I32 = np.iinfo(np.int32)
_NAN_E4 = _I32.min  # a padded score or part, in the int32 form


def _narrow(name: str, value: np.ndarray) -> np.ndarray:
    """The saved form of a state array: int64 ids as int32 when they fit; scores and parts
    (4-decimal numbers, NaN past a list's end) as int32 ten-thousandths when that gives them
    back exactly (:func:`_widen`); anything else as it is."""
    fits = not value.size or (value.min() >= _I32.min and value.max() <= _I32.max)
    if value.dtype == np.int64 and name != f"{CORE}top_k" and fits:
        return value.astype(np.int32)
    if value.dtype == np.float64 and name.endswith((".scores", ".parts")):
        finite = np.isfinite(value)
        if np.all(finite | np.isnan(value)) and np.all(np.abs(value[finite]) < 2e5):
            e4 = np.where(finite, np.rint(np.where(finite, value, 0.0) * 1e4), _NAN_E4)
            small = e4.astype(np.int32)
            if np.array_equal(_widen(name, small), value, equal_nan=True):
                return small
    return value


def _widen(name: str, value: np.ndarray) -> np.ndarray:
    """The in-memory form of a saved state array (the inverse of :func:`_narrow`)."""
    if value.dtype != np.int32:
        return value
    if name.endswith((".scores", ".parts")):
        # k / 1e4 is correctly rounded: the double round(x, 4) gave for that k
        return np.where(value == _NAN_E4, np.nan, value / 1e4)
    return value.astype(np.int64)


def state_arrays(state: core.RematchState, lists_stored: bool) -> dict[str, np.ndarray]:
    """``state`` as named arrays for :func:`save_arrays` (names ``core.*``), ids as int32 and
    scores as int32 ten-thousandths when they fit (:func:`_narrow`; a third of the bytes).

    ``lists_stored``: the run stored exactly ``state``'s lists (less the pairs of rows erased
    meanwhile); False when a resumed run kept lists an earlier attempt computed. Only then may
    the next run copy an unchanged list from this run unread (``changed`` of :func:`store_topk`).
    """
    return {name: _narrow(name, value) for name, value in _state_wide(state, lists_stored).items()}


def _state_wide(state: core.RematchState, lists_stored: bool) -> dict[str, np.ndarray]:
    out = {
        f"{CORE}top_k": np.array([state.top_k], dtype=np.int64),
        f"{CORE}lists_stored": np.array([lists_stored], dtype=np.bool_),
        f"{CORE}vacancy_ids": state.vacancy_ids,
        f"{CORE}candidate_ids": state.candidate_ids,
    }
    for side, pools in (("vacancy", state.vacancy_pools), ("candidate", state.candidate_pools)):
        for name in _POOLS:
            out[f"{CORE}{side}_pools.{name}"] = getattr(pools, name)
    for side, lists in (("for_vacancy", state.for_vacancy), ("for_candidate", state.for_candidate)):
        for name in _LISTS:
            out[f"{CORE}{side}.{name}"] = getattr(lists, name)
    return out


def state_from_arrays(arrays: Mapping[str, np.ndarray]) -> tuple[core.RematchState, bool] | None:
    """The :class:`matching.rematch.RematchState` and ``lists_stored`` that
    :func:`state_arrays` gave (saved narrow or, by an earlier version, wide), or None when
    ``arrays`` lacks them or they do not fit together (the run saved none, or a different
    layout)."""
    want = _state_wide(
        core.RematchState(
            0, _NONE, _NONE, core.ExactPools.empty(0, 0), core.ExactPools.empty(0, 0),
            core.TopK.empty(0, 0), core.TopK.empty(0, 0),
        ),
        True,
    )  # fmt: skip
    if not want.keys() <= arrays.keys():
        return None
    a = {name: _widen(name, arrays[name]) for name in want}
    if any(a[name].dtype != want[name].dtype or a[name].ndim != want[name].ndim for name in want):
        return None
    top_k = int(a[f"{CORE}top_k"][0])
    sides = []
    for side, kind in (("vacancy", "for_vacancy"), ("candidate", "for_candidate")):
        n = len(a[f"{CORE}{side}_ids"])
        pools = core.ExactPools(*(a[f"{CORE}{side}_pools.{name}"] for name in _POOLS))
        lists = core.TopK(*(a[f"{CORE}{kind}.{name}"] for name in _LISTS))
        shapes_fit = (
            len(pools.size) == len(pools.complete) == pools.ids.shape[0] == n
            and pools.cos.shape == pools.ids.shape
            and lists.ids.shape == (n, top_k) == lists.scores.shape
            and lists.parts.shape == (n, top_k, 3)
        )
        if not shapes_fit:
            return None
        sides.append((pools, lists))
    state = core.RematchState(
        top_k, a[f"{CORE}vacancy_ids"], a[f"{CORE}candidate_ids"],
        sides[0][0], sides[1][0], sides[0][1], sides[1][1],
    )  # fmt: skip
    return state, bool(a[f"{CORE}lists_stored"][0])


def save_core_state(
    session: Session, run_id: int, state: core.RematchState, lists_stored: bool
) -> None:
    """Save run ``run_id``'s core state (:func:`state_arrays`) and drop every other run's: only
    the newest successful run's is ever built on. In the session's transaction."""
    session.execute(
        delete(RematchState).where(
            col(RematchState.run_id) != run_id, col(RematchState.name).startswith(CORE)
        )
    )
    save_arrays(session, run_id, state_arrays(state, lists_stored))


def load_core_state(session: Session, run_id: int) -> tuple[core.RematchState, bool] | None:
    """What :func:`save_core_state` saved for run ``run_id`` (None: nothing usable)."""
    rows = session.execute(
        select(RematchState)
        .where(col(RematchState.run_id) == run_id, col(RematchState.name).startswith(CORE))
        .order_by(col(RematchState.name), col(RematchState.part))
    ).scalars()
    return state_from_arrays(_arrays_of(rows))


def load_state(session: Session, run_id: int) -> RunState | None:
    """The state run ``run_id`` saved, or None (it saved none, or never loaded its rows)."""
    run = session.get(RematchRun, run_id)
    if run is None or run.change_seq_from is None:
        return None
    arrays = load_arrays(session, run_id)
    if not {"vacancy_ids", "candidate_ids", "key"} <= arrays.keys():
        return None
    return RunState(
        run_id=run_id,
        key=arrays["key"].tobytes().decode(),
        change_seq=run.change_seq_from,
        vacancy_ids=arrays["vacancy_ids"],
        candidate_ids=arrays["candidate_ids"],
        started_at=run.started_at,
    )


def latest_state(session: Session, before_run: int | None = None) -> RunState | None:
    """The state of the newest successful run (before ``before_run``), if it saved one."""
    stmt = select(func.max(RematchRun.id)).where(col(RematchRun.state) == "succeeded")
    if before_run is not None:
        stmt = stmt.where(col(RematchRun.id) < before_run)
    run_id = session.execute(stmt).scalar()
    return None if run_id is None else load_state(session, run_id)


def _ids(values: Iterable[int]) -> np.ndarray:
    return np.unique(np.fromiter(values, dtype=np.int64))


@dataclass(frozen=True)
class SideChanges:
    """One side's changes since the state (int64 arrays, sorted).

    ``changed``: in the pool now, and its text or facts were written since (new rows too);
    ``new``: created since, in the pool now; ``erased``: in the state's pool, deleted since;
    ``entered`` / ``left``: existed before and came into / went out of the pool (status,
    active, placed); ``removed``: ``erased`` and ``left`` together (their stored matches go).
    """

    changed: np.ndarray
    new: np.ndarray
    erased: np.ndarray
    entered: np.ndarray
    left: np.ndarray

    @property
    def removed(self) -> np.ndarray:
        return np.union1d(self.erased, self.left)

    @property
    def recompute(self) -> np.ndarray:
        """Rows whose own top-k is computed afresh: changed or entered the pool."""
        return np.union1d(self.changed, self.entered)


@dataclass(frozen=True)
class ChangeSet:
    """What changed since a run's state; ``full_reason`` says why only a full run is right
    (then the side changes are empty and mean nothing)."""

    base_run_id: int | None
    full_reason: str | None
    vacancies: SideChanges
    candidates: SideChanges

    @property
    def incremental(self) -> bool:
        return self.full_reason is None

    def incremental_args(self) -> dict[str, Any]:
        """Keyword arguments for an incremental compute: int64 sorted id arrays of the rows to
        recompute (changed, new or back in the pool) and the rows gone from the pool.

        Raises:
            ValueError: only a full run is right (``full_reason``).
        """
        if self.full_reason is not None:
            raise ValueError(f"no incremental run: {self.full_reason}")
        return {
            "base_run_id": self.base_run_id,
            "changed_vacancy_ids": self.vacancies.recompute,
            "changed_candidate_ids": self.candidates.recompute,
            "removed_vacancy_ids": self.vacancies.removed,
            "removed_candidate_ids": self.candidates.removed,
        }

    def as_counts(self) -> dict[str, Any]:
        """The counts a run records (JSON-ready)."""
        out: dict[str, Any] = {
            "incremental": self.incremental,
            "base_run_id": self.base_run_id,
        }
        if self.full_reason is not None:
            out["full_reason"] = self.full_reason
            return out
        for side, changes in (("vacancies", self.vacancies), ("candidates", self.candidates)):
            for name in ("changed", "new", "erased", "entered", "left"):
                out[f"{name}_{side}"] = len(getattr(changes, name))
        return out


_NONE = np.zeros(0, dtype=np.int64)
_NO_CHANGES = SideChanges(_NONE, _NONE, _NONE, _NONE, _NONE)


def full_changes(reason: str, base_run_id: int | None = None) -> ChangeSet:
    return ChangeSet(base_run_id, reason, _NO_CHANGES, _NO_CHANGES)


ID_CHUNK = 10_000  # ids per IN list (SQLite and PostgreSQL bound a statement's parameters)


def _found(session: Session, table: Any, ids: np.ndarray, *where: Any) -> np.ndarray:
    """The ids of ``ids`` that ``table`` holds (and that match ``where``), sorted int64."""
    out: list[int] = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK].tolist()
        out += session.execute(select(table.id).where(col(table.id).in_(chunk), *where)).scalars()
    return _ids(out)


def detect_changes(
    session: Session,
    since_state: RunState | None,
    *,
    key: str,
    vacancy_ids: np.ndarray,
    candidate_ids: np.ndarray,
) -> ChangeSet:
    """What changed since ``since_state``, for the pools ``vacancy_ids`` / ``candidate_ids``
    (int64, the open vacancies and active candidates loaded now) under settings ``key``
    (:func:`settings_key`).

    A row counts as changed when the change log has a write of it after the state's position
    (every write appends to it, see :func:`service.store.crud.log_change`); entering or leaving the
    pool is read from the two pools. A focus-list change re-derives every row's facts, and
    another model, top-k or ranking setting changes every score: those need a full run.
    """
    if since_state is None:
        return full_changes("no previous run state")
    base = since_state.run_id
    if since_state.key != key:
        return full_changes("the model, top-k or ranking settings changed", base)
    entries = session.execute(
        select(col(ChangeLog.entity), col(ChangeLog.entity_id)).where(
            col(ChangeLog.seq) > since_state.change_seq
        )
    ).all()
    if any(entity == "focus" for entity, _ in entries):
        return full_changes("the focus occupations changed", base)
    sides = []
    for entity, table, now, before in (
        ("vacancy", Vacancy, vacancy_ids, since_state.vacancy_ids),
        ("candidate", Candidate, candidate_ids, since_state.candidate_ids),
    ):
        now = np.unique(np.asarray(now, dtype=np.int64))
        written = _ids(i for e, i in entries if e == entity)
        arrived = np.setdiff1d(now, before, assume_unique=True)
        gone = np.setdiff1d(before, now, assume_unique=True)
        created = _found(
            session,
            table,
            arrived,
            col(table.created_at) >= since_state.started_at,
        )
        still = _found(session, table, gone)
        sides.append(
            SideChanges(
                changed=np.union1d(np.intersect1d(written, now), created),
                new=created,
                erased=np.setdiff1d(gone, still),
                entered=np.setdiff1d(arrived, created),
                left=np.intersect1d(gone, still),
            )
        )
    return ChangeSet(base, None, vacancies=sides[0], candidates=sides[1])
