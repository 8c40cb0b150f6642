"""API key rows: stored, looked up (the access gate's one-statement read of a key with the
change-log head), listed and revoked. Tokens, hashing and the rules of a key are
:mod:`service.security.keys`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select, update

from service.store.models import ChangeLog
from service.store.security_models import ApiKey

# The key's row and the change-log position in one statement, built once: a Core statement
# with a bound key id is compiled once per dialect and then served from SQLAlchemy's cache,
# and its row needs no ORM object (together a tenth of the time of an ORM session query).
_KEY_ROW = core_select(
    select(func.max(ChangeLog.seq)).scalar_subquery(),
    col(ApiKey.id),
    col(ApiKey.secret_hash),
    col(ApiKey.role),
    col(ApiKey.employer_id),
    col(ApiKey.caseworker_id),
    col(ApiKey.organisation_id),
    col(ApiKey.expires_at),
    col(ApiKey.revoked_at),
).where(col(ApiKey.id) == bindparam("kid"))


def add_key(session: Session, key: ApiKey) -> ApiKey:
    """Store a new key row and commit; the row as stored."""
    session.add(key)
    session.commit()
    session.refresh(key)
    return key


def find_key(session: Session, kid: str) -> ApiKey | None:
    """The key with this id; None when there is none."""
    return session.get(ApiKey, kid)


KeyRowWithHead = Row[
    int | None,
    str,
    str,
    str,
    str | None,
    str | None,
    str | None,
    datetime | None,
    datetime | None,
]


def key_row_with_head(session: Session | Connection, kid: str) -> KeyRowWithHead | None:
    """(change-log head or None, id, secret_hash, role, employer_id, caseworker_id,
    organisation_id, expires_at, revoked_at) of the key ``kid`` in one read; None when there
    is no such key."""
    return session.execute(_KEY_ROW, {"kid": kid}).first()


def all_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))))


def revoke(session: Session, key_id: str, now: datetime) -> ApiKey | None:
    """Revoke a key at ``now`` unless it is revoked already (one conditional UPDATE: of
    revocations at the same moment the first one's time stays) and commit; the key as stored,
    None when no such key exists."""
    session.execute(
        update(ApiKey)
        .where(col(ApiKey.id) == key_id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.commit()
    return session.get(ApiKey, key_id)


def revoke_by_label(session: Session, label: str, now: datetime) -> int:
    """Revoke every active key with this label at ``now`` and commit; how many."""
    keys = session.exec(
        select(ApiKey).where(ApiKey.label == label, col(ApiKey.revoked_at).is_(None))
    ).all()
    for key in keys:
        key.revoked_at = now
        session.add(key)
    session.commit()
    return len(keys)
