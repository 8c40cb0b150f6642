"""Data access: idempotent upserts with embedding, deletes, listings and the change log.

Writes happen in one transaction each: the row, its embedding and its change-log entry commit
together or not at all. Embedding happens before the transaction opens, and only for texts whose
content hash (text + model id) has no stored vector yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ValidationError
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, delete, select

from matching.embedder import Encoder, content_hash
from matching.profiles import candidate_embed_text, vacancy_embed_text
from service.db import scrub_after_erasure
from service.models import (
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
from service.occupation_links import (
    check_caller_uris,
    check_focus_uris,
    link_candidate,
    link_vacancy,
)
from service.occupations import OccupationIndex
from service.rematch_models import MatchStatus, RematchMatch

Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Kind:
    """How one kind of matchable row is stored and embedded."""

    name: str
    table: type[SQLModel]
    embedding: type[SQLModel]
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


def get_row(*, session: Session, kind: Kind, key: dict[str, str]) -> Any | None:
    return session.exec(select(kind.table).where(*_where(kind, key))).first()


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
        session.exec(select(func.pg_advisory_xact_lock(CHANGE_LOG_LOCK)))  # type: ignore[call-overload]


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
        session.exec(select(fn(ERASURE_LOCK)))  # type: ignore[call-overload]


def log_change(session: Session, entity: str, entity_id: int, op: str) -> None:
    """Append a change-log row to the session's transaction (in seq order, see above)."""
    serialise_log_appends(session)
    session.add(ChangeLog(entity=entity, entity_id=entity_id, op=op))


def _vectors_for(
    session: Session, kind: Kind, texts: Sequence[str], encoder: Encoder
) -> list[tuple[str, bytes, int]]:
    """(hash, vector bytes, chunks) per text: stored vectors reused, the rest embedded at once."""
    hashes = [content_hash(t, encoder.model_id) for t in texts]
    emb = kind.embedding
    known: dict[str, tuple[bytes, int]] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), 500):
        rows = session.exec(
            select(emb.content_hash, emb.vector, emb.chunks).where(  # type: ignore[attr-defined]
                col(emb.content_hash).in_(unique[start : start + 500]),  # type: ignore[attr-defined]
                emb.model_id == encoder.model_id,  # type: ignore[attr-defined]
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
) -> list[tuple[Any, Outcome]]:
    """Create or replace rows by their external key, in one transaction.

    Args:
        items: (key, validated input) pairs; key is {"external_id": ...} for candidates and
            {"employer_id": ..., "external_id": ...} for vacancies. Keys must be unique.
        occupations: the ESCO normaliser holder; changed rows get their ESCO links from it
            (see ``service.occupation_links``). A fresh holder is used when None.
    Returns:
        (row, outcome) per item, in order. An unchanged input writes nothing.
    Raises:
        InvalidParameter: a caller-given ESCO URI is not imported (nothing is written).
    """
    check_caller_uris(session, [data for _, data in items])
    occupations = occupations or OccupationIndex()
    existing = [get_row(session=session, kind=kind, key=key) for key, _ in items]
    changed = [
        i
        for i, ((_, data), row) in enumerate(zip(items, existing, strict=True))
        if row is None or input_fields(kind, row) != data.model_dump()
    ]
    outcomes: list[tuple[Any, Outcome]] = [(row, "unchanged") for row in existing]
    if not changed:
        return outcomes
    vectors = _vectors_for(session, kind, [kind.embed_text(items[i][1]) for i in changed], encoder)
    now = utcnow()
    for i, (h, vec, n_chunks) in zip(changed, vectors, strict=True):
        key, data = items[i]
        row = existing[i]
        if row is None:
            row = kind.table(**key, **data.model_dump(), created_at=now, updated_at=now)
            outcome: Outcome = "created"
        else:
            for name, value in data.model_dump().items():
                setattr(row, name, value)
            row.updated_at = now
            outcome = "updated"
        if kind is VACANCIES:
            row.occupation_esco = link_vacancy(session, occupations, data)  # type: ignore[arg-type]
        else:
            row.desired_occupations_esco = link_candidate(session, occupations, data)  # type: ignore[arg-type]
        session.add(row)
        session.flush()
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
        log_change(session, kind.name, row.id, "upsert")
        outcomes[i] = (row, outcome)
    session.commit()
    for row, _ in outcomes:
        session.refresh(row)
    return outcomes


def delete_row(*, session: Session, kind: Kind, key: dict[str, str]) -> bool:
    """Erase a row with its embedding, stored matches and statuses; False if it did not exist.

    The change-log entry carries only the internal id and "delete"; each process's index
    drops the row when it applies it. For a candidate, ``session`` is marked so that the
    caller's ``IndexState.catch_up(session)`` removes the snapshots older than the erasure
    before it returns (:mod:`service.index_state`), and on SQLite the erased pages are
    scrubbed from the WAL (:func:`service.db.scrub_after_erasure`).
    """
    hold_erasure_lock(session)
    row = get_row(session=session, kind=kind, key=key)
    if row is None:
        session.rollback()
        return False
    emb = kind.embedding
    session.exec(delete(emb).where(getattr(emb, kind.fk) == row.id))  # type: ignore[call-overload]
    # erasure covers derived data too: stored rematch results and follow-up statuses
    for table in (RematchMatch, MatchStatus):
        session.exec(delete(table).where(getattr(table, kind.fk) == row.id))  # type: ignore[call-overload]
    session.delete(row)
    log_change(session, kind.name, row.id, "delete")
    session.commit()
    if kind is CANDIDATES:
        session.info[ERASED_IN_SESSION] = True
        scrub_after_erasure(session.get_bind())  # type: ignore[arg-type]
    return True


def list_rows(
    *, session: Session, kind: Kind, filters: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """A page of rows in id order, and the total that match ``filters``."""
    table = kind.table
    total = session.exec(select(func.count()).select_from(table).where(*filters)).one()
    rows = session.exec(
        select(table).where(*filters).order_by(table.id).offset(offset).limit(limit)  # type: ignore[attr-defined]
    ).all()
    return list(rows), int(total)


def stale_ids(*, session: Session, kind: Kind, model_id: str) -> list[int]:
    """Ids of rows without a vector of ``model_id`` (new model, or never embedded)."""
    emb = kind.embedding
    fresh = select(getattr(emb, kind.fk)).where(emb.model_id == model_id)  # type: ignore[attr-defined]
    return list(
        session.exec(select(kind.table.id).where(col(kind.table.id).not_in(fresh))).all()  # type: ignore[attr-defined]
    )


def outdated_ids(*, session: Session, kind: Kind, model_id: str) -> list[int]:
    """Ids of rows whose stored vector is missing, of another model, or of an older text.

    The last case arises when rows are written around :func:`upsert_many` (bulk SQL loads);
    comparing content hashes means only texts that really changed are embedded again.
    """
    emb = kind.embedding
    stmt: Any = select(kind.table, emb.content_hash).join(  # type: ignore[attr-defined]
        emb,
        (getattr(emb, kind.fk) == kind.table.id)  # type: ignore[attr-defined]
        & (emb.model_id == model_id),  # type: ignore[attr-defined]
        isouter=True,
    )
    out = []
    for row, stored in session.exec(stmt.execution_options(yield_per=2000)):
        if stored is None or stored != content_hash(kind.embed_text(row), model_id):
            out.append(row.id)
    return out


def reembed(*, session: Session, kind: Kind, ids: Sequence[int], encoder: Encoder) -> int:
    """Re-embed the rows ``ids`` with ``encoder`` (one transaction); returns how many."""
    rows = session.exec(select(kind.table).where(col(kind.table.id).in_(ids))).all()  # type: ignore[attr-defined]
    if not rows:
        return 0
    inputs = [stored_input(kind, r) for r in rows]
    vectors = _vectors_for(session, kind, [kind.embed_text(d) for d in inputs], encoder)
    now = utcnow()
    for row, (h, vec, n_chunks) in zip(rows, vectors, strict=True):
        stored = session.get(kind.embedding, row.id) or kind.embedding(**{kind.fk: row.id})
        stored.model_id, stored.content_hash, stored.dim = encoder.model_id, h, encoder.dim
        stored.chunks, stored.vector, stored.created_at = n_chunks, vec, now
        session.add(stored)
        log_change(session, kind.name, row.id, "upsert")
    session.commit()
    return len(rows)


# ---------------------------------------------------------------- focus occupations


def upsert_focus(
    *, session: Session, slug: str, data: FocusOccupationIn
) -> tuple[FocusOccupation, Outcome]:
    """Create or replace a focus occupation.

    Raises:
        InvalidParameter: one of ``esco_uris`` is not an imported ESCO occupation (field
            ``esco_uris.<i>``); nothing is written.
    """
    check_focus_uris(session, data.esco_uris)
    row = session.exec(select(FocusOccupation).where(FocusOccupation.slug == slug)).first()
    now = utcnow()
    if (
        row is not None
        and row.name == data.name
        and list(row.synonyms) == data.synonyms
        and list(row.esco_uris or []) == data.esco_uris
    ):
        return row, "unchanged"
    outcome: Outcome = "updated"
    if row is None:
        row = FocusOccupation(slug=slug, name=data.name, synonyms=data.synonyms, created_at=now)
        outcome = "created"
    row.name, row.synonyms, row.updated_at = data.name, list(data.synonyms), now
    row.esco_uris = list(data.esco_uris)
    session.add(row)
    session.flush()
    assert row.id is not None
    log_change(session, "focus", row.id, "upsert")
    session.commit()
    session.refresh(row)
    return row, outcome


def delete_focus(*, session: Session, slug: str) -> bool:
    row = session.exec(select(FocusOccupation).where(FocusOccupation.slug == slug)).first()
    if row is None:
        return False
    assert row.id is not None
    log_change(session, "focus", row.id, "delete")
    session.delete(row)
    session.commit()
    return True
