"""Data access: idempotent upserts with embedding, deletes, listings and the change log.

Writes happen in one transaction each: the row, its embedding and its change-log entry commit
together or not at all. Embedding happens before the transaction opens, and only for texts whose
content hash (text + model id) has no stored vector yet.

Concurrent writes of one id behave as if they ran one after another, on both backends:

* An upsert embeds without locks (the slow part), then reads its rows again under a lock
  (PostgreSQL ``SELECT ... FOR UPDATE``, SQLite ``BEGIN IMMEDIATE``: :func:`begin_write`) and
  decides "created", "updated" or "unchanged" on the rows as they are now, so no field another
  writer committed meanwhile is kept by mistake. Two first writers of a new id both insert it:
  the loser's unique violation (or a deadlock PostgreSQL broke) runs the whole upsert again in
  a fresh transaction (:func:`retry_on_conflict`), which now sees the winner's row: of eight
  racing first PUTs one answers 201 and seven 200, none 500.
* A delete reads its row under the same lock and checks that its DELETE removed it, so of
  racing deletes exactly one answers 204 and the others 404.
* Every write locks in the same order: rows in key order, then their dependents (vector,
  statuses), and the change-log lock last (appends are written after the rows), so two writers
  never wait for each other in a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, delete, select

from matching.embedder import Encoder, content_hash
from matching.profiles import candidate_embed_text, vacancy_embed_text
from service.store.db import scrub_after_erasure
from service.store.models import (
    Candidate,
    CandidateEmbedding,
    CandidateIn,
    ChangeLog,
    FocusOccupation,
    FocusOccupationIn,
    Vacancy,
    VacancyEmbedding,
    VacancyIn,
    utcnow,
)
from service.store.occupation_links import (
    check_caller_uris,
    check_focus_uris,
    infer_candidate,
    infer_vacancy,
    link_candidate,
    link_vacancy,
)
from service.store.occupations import OccupationIndex
from service.store.rematch_models import MatchStatus, RematchMatch

log = logging.getLogger(__name__)

Outcome = Literal["created", "updated", "unchanged"]
T = TypeVar("T")
# Whether the writer may overwrite (or erase) this stored row: the key's candidate scope.
Permits = Callable[[Any], bool]


class OutsideScope(Exception):
    """The row to overwrite or erase exists, outside the writer's scope; the caller answers
    as if it did not exist (nothing was written)."""


@dataclass(frozen=True)
class Kind:
    """How one kind of matchable row is stored and embedded."""

    name: str
    table: type[Candidate] | type[Vacancy]
    embedding: type[CandidateEmbedding] | type[VacancyEmbedding]
    fk: str
    schema: type[BaseModel]
    embed_text: Callable[[Any], str]


log = logging.getLogger(__name__)

CANDIDATES = Kind(
    name="candidate",
    table=Candidate,
    embedding=CandidateEmbedding,
    fk="candidate_id",
    schema=CandidateIn,
    embed_text=lambda d: candidate_embed_text(d.cv_text, d.desired_occupations, d.skills),
)
VACANCIES = Kind(
    name="vacancy",
    table=Vacancy,
    embedding=VacancyEmbedding,
    fk="vacancy_id",
    schema=VacancyIn,
    embed_text=lambda d: vacancy_embed_text(d.title, d.occupation, d.description, d.skills),
)


def _where(kind: Kind, key: dict[str, str]) -> Any:
    return [getattr(kind.table, k) == v for k, v in key.items()]


def equal_where(*pairs: tuple[Any, object | None]) -> list[Any]:
    """The conditions ``column == value`` of the (column, value) pairs whose value is given
    (not None), in their order: the optional filters of a listing."""
    return [col(column) == value for column, value in pairs if value is not None]


def get_row(
    *, session: Session, kind: Kind, key: dict[str, str], for_update: bool = False
) -> Any | None:
    """The row with this external key; ``for_update`` locks it until the transaction ends
    (PostgreSQL; SQLite's writer holds the whole database after :func:`begin_write`)."""
    stmt = select(kind.table).where(*_where(kind, key))
    if for_update:  # and read it as it is now, not as an earlier read left it in the session
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def candidate_for_write(session: Session, external_id: str) -> Candidate | None:
    """The candidate with this client-system id, read as it is now (not as an earlier read
    left it in the session) and locked until the transaction ends; None when there is none.

    PostgreSQL: a concurrent PUT or erasure waits for this write (no lost update of the other
    fields); SQLite runs one writer at a time anyway. FOR NO KEY UPDATE, as an UPDATE itself
    takes: rows that merely refer to the candidate (a rematch batch's matches) are not held up
    by it.
    """
    query = (
        select(Candidate)
        .where(col(Candidate.external_id) == external_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def input_fields(kind: Kind, row: Any) -> dict[str, Any]:
    """The client-owned fields of a stored row, as the input schema dumps them."""
    return {name: getattr(row, name) for name in kind.schema.model_fields}


def stored_input(kind: Kind, row: Any) -> Any:
    """A stored row as its input schema, for re-embedding or relinking: validated, or, when a
    row written before a newer input rule no longer passes it, taken as stored (it passed the
    rules of its day). Never fails on one row, so a start-up or import never does."""
    fields = input_fields(kind, row)
    try:
        return kind.schema.model_validate(fields)
    except ValidationError:
        log.warning("%s row %s no longer passes the input rules; used as stored", kind.name, row.id)
        return kind.schema.model_construct(**fields)


# Any fixed 64-bit number; it only has to be the same in every process.
CHANGE_LOG_LOCK = 0x7765726B6D617463  # "werkmatc"


def serialise_log_appends(session: Session) -> None:
    """Hold the change-log append lock until this transaction ends (PostgreSQL only).

    A sequence value is drawn when the row is inserted but becomes visible at commit; two
    transactions could commit seq 8 before seq 7, and a reader that already moved to 8 would
    never apply 7. With this lock taken before the first append and released by the commit or
    rollback, appends commit in seq order. SQLite allows one writing transaction at a time, so
    it needs nothing. Taking it twice in a transaction is harmless.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(func.pg_advisory_xact_lock(CHANGE_LOG_LOCK)))


# Set in ``session.info`` by :func:`delete_row` for a candidate; the erasing request's
# ``IndexState.catch_up(session)`` then removes older snapshot files before it returns.
ERASED_IN_SESSION = "werkmatch.erased_candidate"

# Another fixed number: erasures (exclusive) against rematch batch writes (shared).
ERASURE_LOCK = 0x7765726B65726173  # "werkeras"


def hold_erasure_lock(session: Session, *, shared: bool = False) -> None:
    """Hold the erasure lock until this transaction ends (PostgreSQL only).

    A rematch batch checks that its candidates and vacancies still exist and inserts its
    matches in one transaction (shared lock); :func:`delete_row` takes it exclusively before
    it reads or deletes. Under READ COMMITTED, without it, the batch could see a row whose
    deletion is not yet committed, and insert matches for it after the erasure had deleted
    the stored ones. SQLite has one writing transaction at a time: a batch that checks after
    its first write sees every committed erasure and blocks the next one until it commits.
    """
    if session.get_bind().dialect.name == "postgresql":
        fn = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
        session.exec(select(fn(ERASURE_LOCK)))


def log_change(session: Session, entity: str, entity_id: int, op: str) -> None:
    """Append a change-log row to the session's transaction (in seq order, see above).

    Call it after the transaction's last row write: the lock it takes is then the last one, so
    a writer holding it never waits for a row another writer holds.
    """
    serialise_log_appends(session)
    session.add(ChangeLog(entity=entity, entity_id=entity_id, op=op))


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer from its first statement (SQLite only).

    SQLite starts a transaction as a reader and takes the database's write lock at its first
    write, so what it read before may be stale by then. ``BEGIN IMMEDIATE`` takes the write
    lock first (waiting up to the busy timeout): every read that follows is current until the
    commit. A no-op when the transaction has begun already, and on PostgreSQL, where the
    callers lock the rows they read instead.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Enough for every writer of one id in a burst to lose once or twice; each lost attempt means
# another writer committed, so the loop always makes progress.
CONFLICT_ATTEMPTS = 10
# PostgreSQL's deadlock and serialisation failures: the transaction may simply run again.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _is_conflict(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError | StaleDataError):
        return True
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES
    )


def retry_on_conflict(session: Session, what: str, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (one whole write transaction, read to commit) again in a fresh
    transaction when it lost a race with a concurrent writer of the same row.

    A genuine constraint violation fails the same way every time and is raised after
    :data:`CONFLICT_ATTEMPTS` tries.
    """
    for n in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return attempt()
        except (DBAPIError, StaleDataError) as exc:
            session.rollback()
            if n == CONFLICT_ATTEMPTS or not _is_conflict(exc):
                raise
            log.info(
                "%s lost a race with a concurrent write (%s); trying again",
                what,
                type(exc).__name__,
            )
    raise AssertionError("unreachable")


def _vectors_for(
    session: Session,
    kind: Kind,
    texts: Sequence[str],
    encoder: Encoder,
    known: dict[str, tuple[bytes, int]] | None = None,
) -> list[tuple[str, bytes, int]]:
    """(hash, vector bytes, chunks) per text: vectors in ``known`` (filled in here) or stored
    reused, the rest embedded at once."""
    hashes = [content_hash(t, encoder.model_id) for t in texts]
    emb = kind.embedding
    known = {} if known is None else known
    unique = [h for h in dict.fromkeys(hashes) if h not in known]
    for start in range(0, len(unique), 500):
        rows = session.exec(
            select(emb.content_hash, emb.vector, emb.chunks).where(
                col(emb.content_hash).in_(unique[start : start + 500]),
                emb.model_id == encoder.model_id,
            )
        ).all()
        known.update({h: (v, c) for h, v, c in rows})
    todo = [h for h in unique if h not in known]
    if todo:
        first_text = {h: t for h, t in zip(hashes, texts, strict=True)}
        result = encoder.embed([first_text[h] for h in todo])
        for h, vec, n in zip(todo, result.vectors, result.chunks, strict=True):
            known[h] = (np.asarray(vec, dtype="<f4").tobytes(), n)
    return [(h, *known[h]) for h in hashes]


def upsert_many(
    *,
    session: Session,
    kind: Kind,
    items: Sequence[tuple[dict[str, str], BaseModel]],
    encoder: Encoder,
    occupations: OccupationIndex | None = None,
    permits: Permits | None = None,
) -> list[tuple[Any, Outcome]]:
    """Create or replace rows by their external key, in one transaction.

    A candidate input that leaves ``organisation_id`` unset keeps the stored row's
    organisation: a client system that does not know organisations never clears them.

    Args:
        items: (key, validated input) pairs; key is {"external_id": ...} for candidates and
            {"employer_id": ..., "external_id": ...} for vacancies. Keys must be unique.
        occupations: the ESCO normaliser holder; changed rows get their ESCO links from it
            (see ``service.store.occupation_links``). A fresh holder is used when None.
        permits: which stored rows the writer may overwrite (None: every row). Checked on the
            rows as they are under the write lock, so a row another writer created meanwhile
            is checked too.
    Returns:
        (row, outcome) per item, in order. An unchanged input writes nothing. When a
        concurrent writer of one of the keys commits first, the upsert runs again on what it
        wrote (:func:`retry_on_conflict`): the outcomes are those of running after it.
    Raises:
        InvalidParameter: a caller-given ESCO URI is not imported (nothing is written).
        OutsideScope: a stored row is not one ``permits`` allows (nothing is written).
    """
    check_caller_uris(session, [data for _, data in items])
    holder = occupations or OccupationIndex()
    vectors: dict[str, tuple[bytes, int]] = {}  # kept across attempts: nothing embedded twice
    return retry_on_conflict(
        session,
        f"{kind.name} upsert",
        lambda: _upsert_once(session, kind, items, encoder, holder, vectors, permits),
    )


def _as_stored(
    kind: Kind,
    items: Sequence[tuple[dict[str, str], BaseModel]],
    rows: Sequence[Any],
    permits: Permits | None,
) -> list[tuple[dict[str, str], BaseModel]]:
    """The inputs as they will be written over these rows: refused (:class:`OutsideScope`)
    when a row is outside ``permits``; a candidate's unset organisation is the stored one."""
    out = []
    for (key, data), row in zip(items, rows, strict=True):
        if row is not None and permits is not None and not permits(row):
            raise OutsideScope(key)
        if (
            kind is CANDIDATES
            and row is not None
            and row.organisation_id is not None
            and "organisation_id" not in data.model_fields_set
        ):
            data = data.model_copy(update={"organisation_id": row.organisation_id})
        out.append((key, data))
    return out


def _upsert_once(
    session: Session,
    kind: Kind,
    items: Sequence[tuple[dict[str, str], BaseModel]],
    encoder: Encoder,
    occupations: OccupationIndex,
    known: dict[str, tuple[bytes, int]],
    permits: Permits | None,
) -> list[tuple[Any, Outcome]]:
    given = items

    def changed_in(rows: Sequence[Any]) -> list[int]:
        return [
            i
            for i, ((_, data), row) in enumerate(zip(items, rows, strict=True))
            if row is None or input_fields(kind, row) != data.model_dump()
        ]

    # Without locks: what to embed (the slow part). An input equal to its stored row is
    # answered "unchanged" as of this read, writing nothing.
    existing = [get_row(session=session, kind=kind, key=key) for key, _ in items]
    try:
        items = _as_stored(kind, given, existing, permits)
    except OutsideScope:
        session.rollback()
        raise
    if not changed_in(existing):
        return [(row, "unchanged") for row in existing]
    links: dict[int, tuple[Any, list[dict[str, Any]]]] = {}

    def link(i: int) -> tuple[Any, list[dict[str, Any]]]:
        """The row's stated ESCO link(s) and the occupations read from its text."""
        if i not in links:
            data: Any = items[i][1]
            if kind is VACANCIES:
                stated = link_vacancy(session, occupations, data)
                links[i] = (stated, infer_vacancy(session, occupations, data, stated))
            else:
                stated_all = link_candidate(session, occupations, data)
                links[i] = (stated_all, infer_candidate(session, occupations, data, stated_all))
        return links[i]

    for i in changed_in(existing):
        link(i)
    _vectors_for(
        session, kind, [kind.embed_text(items[i][1]) for i in changed_in(existing)], encoder, known
    )

    # Under locks, in key order: decide again on the rows as they are now (a concurrent writer
    # may have committed since), so every field written is compared with what is stored. The
    # rows read so far leave the session: one may have been erased and its id (SQLite reuses
    # the highest) given to the row inserted below.
    for old in existing:
        if old is not None:
            session.expunge(old)
    begin_write(session)
    order = sorted(range(len(items)), key=lambda i: sorted(items[i][0].items()))
    current: list[Any] = [None] * len(items)
    for i in order:
        current[i] = get_row(session=session, kind=kind, key=items[i][0], for_update=True)
    try:
        items = _as_stored(kind, given, current, permits)
    except OutsideScope:
        session.rollback()
        raise
    changed = changed_in(current)
    outcomes: list[tuple[Any, Outcome]] = [(row, "unchanged") for row in current]
    if not changed:
        _detach(session, current)
        session.rollback()
        return outcomes
    texts = [kind.embed_text(items[i][1]) for i in changed]
    vectors = dict(zip(changed, _vectors_for(session, kind, texts, encoder, known), strict=True))
    now = utcnow()
    for i in (i for i in order if i in vectors):
        key, data = items[i]
        h, vec, n_chunks = vectors[i]
        row: Any = current[i]  # a Candidate or Vacancy: setattr below writes either's fields
        if row is None:
            fields: dict[str, Any] = {**key, **data.model_dump()}
            row = kind.table(**fields, created_at=now, updated_at=now)
            outcome: Outcome = "created"
        else:
            for name, value in data.model_dump().items():
                setattr(row, name, value)
            row.updated_at = now
            outcome = "updated"
        stated, inferred = link(i)
        if kind is VACANCIES:
            row.occupation_esco = stated
        else:
            row.desired_occupations_esco = stated
        row.inferred_occupations = inferred
        session.add(row)
        session.flush()  # a lost race shows here: the new key was inserted concurrently
        stored = session.get(kind.embedding, row.id)
        if stored is None:
            stored = kind.embedding(**{kind.fk: row.id})
        stored.model_id = encoder.model_id
        stored.content_hash = h
        stored.dim = encoder.dim
        stored.chunks = n_chunks
        stored.vector = vec
        stored.created_at = now
        session.add(stored)
        outcomes[i] = (row, outcome)
    session.flush()
    for i in changed:
        log_change(session, kind.name, outcomes[i][0].id, "upsert")
    _detach(session, [row for row, _ in outcomes])
    session.commit()
    return outcomes


def _detach(session: Session, rows: Sequence[Any]) -> None:
    """Load the rows as this transaction wrote them and take them out of the session, so the
    answer shows what was written: read after the commit, a concurrent delete could already
    have removed them."""
    for row in rows:
        session.refresh(row)
        session.expunge(row)


def delete_row(
    *, session: Session, kind: Kind, key: dict[str, str], permits: Permits | None = None
) -> bool:
    """Erase a row with its embedding, stored matches and statuses; False if it did not exist
    or is not one ``permits`` allows (the writer's scope; nothing is erased then).

    The row is read under a lock (:func:`begin_write`, ``FOR UPDATE``), so of concurrent
    deletes of one row exactly one returns True. The change-log entry carries only the
    internal id and "delete"; each process's index drops the row when it applies it. For a
    candidate, ``session`` is marked so that the caller's ``IndexState.catch_up(session)``
    removes the snapshots older than the erasure before it returns
    (:mod:`service.state.index_state`), and on SQLite the erased pages are scrubbed from the WAL
    (:func:`service.store.db.scrub_after_erasure`).
    """
    return retry_on_conflict(
        session, f"{kind.name} delete", lambda: _delete_once(session, kind, key, permits)
    )


def _delete_once(
    session: Session, kind: Kind, key: dict[str, str], permits: Permits | None
) -> bool:
    begin_write(session)
    hold_erasure_lock(session)
    row = get_row(session=session, kind=kind, key=key, for_update=True)
    if row is None or (permits is not None and not permits(row)):  # outside: as if missing
        session.rollback()
        return False
    row_id = row.id
    emb = kind.embedding
    session.exec(delete(emb).where(getattr(emb, kind.fk) == row_id))
    # erasure covers derived data too: stored rematch results and follow-up statuses
    for table in (RematchMatch, MatchStatus):
        session.exec(delete(table).where(getattr(table, kind.fk) == row_id))
    # Kind.table is typed as the SQLModel base, which declares no id (Candidate, Vacancy do)
    gone = session.exec(delete(kind.table).where(kind.table.id == row_id))
    if gone.rowcount != 1:  # cannot happen under the lock; never report an erasure not done
        session.rollback()
        return False
    session.expunge(row)
    log_change(session, kind.name, row_id, "delete")
    session.commit()
    if kind is CANDIDATES:
        session.info[ERASED_IN_SESSION] = True
        scrub_after_erasure(session.get_bind())  # type: ignore[arg-type]  # the request's session is bound to the engine
    return True


def list_rows(
    *, session: Session, kind: Kind, filters: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """A page of rows in id order, and the total that match ``filters``."""
    table = kind.table
    total = session.exec(select(func.count()).select_from(table).where(*filters)).one()
    rows = session.exec(
        select(table).where(*filters).order_by(col(table.id)).offset(offset).limit(limit)
    ).all()
    return list(rows), int(total)


def count_rows(session: Session) -> int:
    """How many candidates and vacancies are stored."""
    return sum(
        int(session.exec(select(func.count()).select_from(kind.table)).one())
        for kind in (CANDIDATES, VACANCIES)
    )


def stale_ids(*, session: Session, kind: Kind, model_id: str) -> list[int]:
    """Ids of rows without a vector of ``model_id`` (new model, or never embedded)."""
    emb = kind.embedding
    fresh = select(getattr(emb, kind.fk)).where(emb.model_id == model_id)
    ids = session.exec(select(kind.table.id).where(col(kind.table.id).not_in(fresh))).all()
    return list(ids)  # type: ignore[arg-type]  # primary keys of stored rows, never NULL


def outdated_ids(*, session: Session, kind: Kind, model_id: str) -> list[int]:
    """Ids of rows whose stored vector is missing, of another model, or of an older text.

    The last case arises when rows are written around :func:`upsert_many` (bulk SQL loads);
    comparing content hashes means only texts that really changed are embedded again.
    """
    emb = kind.embedding
    stmt: Any = select(kind.table, emb.content_hash).join(
        emb,
        (getattr(emb, kind.fk) == kind.table.id) & (emb.model_id == model_id),
        isouter=True,
    )
    out = []
    for row, stored in session.exec(stmt.execution_options(yield_per=2000)):
        if stored is None or stored != content_hash(kind.embed_text(row), model_id):
            out.append(row.id)
    return out


def reembed(*, session: Session, kind: Kind, ids: Sequence[int], encoder: Encoder) -> int:
    """Re-embed the rows ``ids`` with ``encoder`` (one transaction); returns how many.

    The texts are embedded first; then, under the write lock, only rows whose text is still
    the one embedded get the vector: a row a concurrent upsert changed has its own fresh
    vector already, and a row erased meanwhile is skipped.
    """
    table: Any = kind.table
    rows = session.exec(select(table).where(col(table.id).in_(ids))).all()
    if not rows:
        return 0
    texts = {row.id: kind.embed_text(stored_input(kind, row)) for row in rows}
    known: dict[str, tuple[bytes, int]] = {}
    _vectors_for(session, kind, list(texts.values()), encoder, known)
    session.rollback()  # end the reading transaction: the write phase reads again under a lock
    begin_write(session)
    current = session.exec(
        select(table)
        .where(col(table.id).in_(list(texts)))
        .order_by(table.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    now = utcnow()
    written = []
    for row in current:
        text = kind.embed_text(stored_input(kind, row))
        h = content_hash(text, encoder.model_id)
        if text != texts[row.id] or h not in known:
            continue  # changed since it was read: its writer stored the vector of the new text
        vec, n_chunks = known[h]
        stored = session.get(kind.embedding, row.id) or kind.embedding(**{kind.fk: row.id})
        stored.model_id, stored.content_hash, stored.dim = encoder.model_id, h, encoder.dim
        stored.chunks, stored.vector, stored.created_at = n_chunks, vec, now
        session.add(stored)
        written.append(row.id)
    session.flush()
    for row_id in written:
        log_change(session, kind.name, row_id, "upsert")
    session.commit()
    return len(written)


# ---------------------------------------------------------------- focus occupations


def upsert_focus(
    *, session: Session, slug: str, data: FocusOccupationIn
) -> tuple[FocusOccupation, Outcome]:
    """Create or replace a focus occupation (again on what a concurrent writer of the same
    slug committed, when it won the race: :func:`retry_on_conflict`).

    Raises:
        InvalidParameter: one of ``esco_uris`` is not an imported ESCO occupation (field
            ``esco_uris.<i>``); nothing is written.
    """
    check_focus_uris(session, data.esco_uris)
    return retry_on_conflict(
        session, "focus upsert", lambda: _upsert_focus_once(session, slug, data)
    )


def _upsert_focus_once(
    session: Session, slug: str, data: FocusOccupationIn
) -> tuple[FocusOccupation, Outcome]:
    begin_write(session)  # nothing slow to do first: decide on the row as it is, locked
    row = session.exec(
        select(FocusOccupation)
        .where(FocusOccupation.slug == slug)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    now = utcnow()
    if (
        row is not None
        and row.name == data.name
        and list(row.synonyms) == data.synonyms
        and list(row.esco_uris or []) == data.esco_uris
    ):
        _detach(session, [row])
        session.rollback()
        return row, "unchanged"
    outcome: Outcome = "updated"
    if row is None:
        row = FocusOccupation(slug=slug, name=data.name, synonyms=data.synonyms, created_at=now)
        outcome = "created"
    row.name, row.synonyms, row.updated_at = data.name, list(data.synonyms), now
    row.esco_uris = list(data.esco_uris)
    session.add(row)
    session.flush()  # a lost race shows here: slug taken, or the row deleted
    assert row.id is not None
    log_change(session, "focus", row.id, "upsert")
    _detach(session, [row])
    session.commit()
    return row, outcome


def delete_focus(*, session: Session, slug: str) -> bool:
    """Delete a focus occupation; False if it did not exist (also when a concurrent delete of
    the same slug removed it first)."""
    begin_write(session)
    row = session.exec(
        select(FocusOccupation).where(FocusOccupation.slug == slug).with_for_update()
    ).first()
    if row is None:
        session.rollback()
        return False
    row_id = row.id
    assert row_id is not None
    gone = session.exec(delete(FocusOccupation).where(col(FocusOccupation.id) == row_id))
    if gone.rowcount != 1:  # cannot happen under the lock; never report a delete not done
        session.rollback()
        return False
    session.expunge(row)
    log_change(session, "focus", row_id, "delete")
    session.commit()
    return True


def relink_all(session: Session, index: OccupationIndex) -> dict[str, int]:
    """Recompute the ESCO links and the inferred occupations of every stored vacancy and
    candidate (after an import, or as the backfill ``werkmatch occupations infer``).

    Rows whose links change are logged in the change log, so running apps re-index them.
    Returns how many rows of each kind changed.
    """
    changed = {"vacancies": 0, "candidates": 0}
    for name, kind in (("vacancies", VACANCIES), ("candidates", CANDIDATES)):
        rows: Sequence[Any] = session.exec(select(kind.table)).all()  # Vacancy or Candidate rows
        for row in rows:
            data = stored_input(kind, row)
            if kind is VACANCIES:
                link = link_vacancy(session, index, data)
                inferred = infer_vacancy(session, index, data, link)
                if link == row.occupation_esco and inferred == row.inferred_occupations:
                    continue
                row.occupation_esco = link
            else:
                links = link_candidate(session, index, data)
                inferred = infer_candidate(session, index, data, links)
                if links == row.desired_occupations_esco and inferred == row.inferred_occupations:
                    continue
                row.desired_occupations_esco = links
            row.inferred_occupations = inferred
            session.add(row)
            log_change(session, kind.name, row.id, "upsert")
            changed[name] += 1
    session.commit()
    return changed
