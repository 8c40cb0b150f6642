"""API keys: create, verify, list and revoke.

A key reads ``wm_<kid>_<secret>``: the key id (kid) is public and names the key in lists,
audit records and logs; the secret (43 url-safe characters, 256 random bits) is shown once, at
creation, and only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection
from sqlmodel import Session

from service.store.api_keys import (
    add_key,
    all_keys,
    find_key,
    key_row_with_head,
    revoke,
    revoke_by_label,
)
from service.store.models import ID_PATTERN
from service.store.security_models import ROLES, ApiKey, Role

TOKEN_RE = re.compile(r"^wm_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_ID_RE = re.compile(ID_PATTERN)
# Keys that may be bound to an organisation: the ones that read or write candidates for it.
ORGANISATION_ROLES: tuple[Role, ...] = ("intake", "director")
# Request-state key: the change-log position the access check read with the key (read-only
# routes), so that the index's catch-up needs no read of its own.
LOG_HEAD = "werkmatch_log_head"


@dataclass(frozen=True)
class Principal:
    """The holder of a verified key, as the request handlers see it."""

    key_id: str
    role: Role
    employer_id: str | None = None
    caseworker_id: str | None = None
    organisation_id: str | None = None  # an intake or director key bound to one organisation

    @property
    def caseload_limited(self) -> bool:
        return self.role == "director" and self.caseworker_id is not None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite returns naive UTC
        return value.replace(tzinfo=UTC)
    return value


def key_state(key: ApiKey, now: datetime | None = None) -> str:
    """active, revoked or expired."""
    return _state(key.revoked_at, key.expires_at, now or datetime.now(UTC))


def _state(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    expires = _aware(expires_at)
    if expires is not None and expires <= now:
        return "expired"
    return "active"


def create_key(
    session: Session,
    role: str,
    *,
    employer_id: str | None = None,
    caseworker_id: str | None = None,
    organisation_id: str | None = None,
    label: str = "",
    expires_in_days: float | None = None,
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its token (the only time the secret is known).

    Raises ValueError naming the argument at fault.
    """
    if role not in ROLES:
        raise ValueError(f"role: must be one of {', '.join(ROLES)}")
    if role == "employer" and not employer_id:
        raise ValueError("employer_id: an employer key must be bound to one employer")
    if role != "employer" and employer_id:
        raise ValueError("employer_id: only employer keys are bound to an employer")
    if caseworker_id and role != "director":
        raise ValueError("caseworker_id: only director keys can be limited to a caseload")
    if organisation_id is not None and role not in ORGANISATION_ROLES:
        raise ValueError(
            "organisation_id: only intake and director keys are bound to an organisation"
        )
    for name, value in (
        ("employer_id", employer_id),
        ("caseworker_id", caseworker_id),
        ("organisation_id", organisation_id),
    ):
        if value is not None and not _ID_RE.match(value):
            raise ValueError(
                f"{name}: 1–64 characters: letters, digits, '.', '_' or '-', not '.' first"
            )
    if expires_in_days is not None and not 0 < expires_in_days <= 3650:
        raise ValueError("expires_in_days: must be between 0 and 3650")
    if len(label) > 120:
        raise ValueError("label: at most 120 characters")
    kid = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    key = ApiKey(
        id=kid,
        secret_hash=_hash(secret),
        role=role,
        employer_id=employer_id,
        caseworker_id=caseworker_id,
        organisation_id=organisation_id,
        label=label,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return add_key(session, key), f"wm_{kid}_{secret}"


def verify_token(session: Session, token: str) -> Principal | None:
    """The principal of a valid, unrevoked, unexpired key; None for anything else."""
    m = TOKEN_RE.match(token)
    if m is None:
        return None
    kid, secret = m.groups()
    return _check(find_key(session, kid), secret)


def _check(key: ApiKey | None, secret: str) -> Principal | None:
    if key is None:
        return _check_row(None, secret)
    return _check_row(
        _KeyRow(
            key.id,
            key.secret_hash,
            key.role,
            key.employer_id,
            key.caseworker_id,
            key.organisation_id,
            key.expires_at,
            key.revoked_at,
        ),
        secret,
    )


class _KeyRow(NamedTuple):
    """What verification reads of a key's row (the columns of
    :func:`service.store.api_keys.key_row_with_head`, after the change-log position)."""

    id: str
    secret_hash: str
    role: str
    employer_id: str | None
    caseworker_id: str | None
    organisation_id: str | None
    expires_at: datetime | None
    revoked_at: datetime | None


def _check_row(key: _KeyRow | None, secret: str) -> Principal | None:
    # compare_digest also when the key is unknown, so timing does not tell which kids exist
    expected = key.secret_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, _hash(secret)) or key is None:
        return None
    if _state(key.revoked_at, key.expires_at, datetime.now(UTC)) != "active":
        return None
    return Principal(
        key_id=key.id,
        role=key.role,  # type: ignore[arg-type]  # the api_key table's CHECK constraint holds role to ROLES
        employer_id=key.employer_id,
        caseworker_id=key.caseworker_id,
        organisation_id=key.organisation_id,
    )


def verify_with_head(session: Session | Connection, token: str) -> tuple[Principal | None, int]:
    """(the principal of a valid key or None, the change-log position) in one read: the key's
    row and the log position the index catches up to, so an authenticated request needs no
    second read for either. Nothing is cached: a revocation, an expiry or any edit of the key's
    row (even by hand in SQL, even a deleted row) counts from the next request, in every
    process. A token that is not of the key form costs no read (position 0)."""
    m = TOKEN_RE.match(token)
    if m is None:
        return None, 0
    kid, secret = m.groups()
    row = key_row_with_head(session, kid)
    if row is None:
        hmac.compare_digest("0" * 64, _hash(secret))  # the same work as for a known key
        return None, 0
    return _check_row(_KeyRow(*row[1:]), secret), int(row[0] or 0)


def list_keys(session: Session) -> list[ApiKey]:
    return all_keys(session)


def revoke_key(session: Session, key_id: str) -> ApiKey | None:
    """Revoke a key (idempotent); None when no such key exists.

    One conditional UPDATE: of revocations at the same moment the first one's time stays.
    """
    return revoke(session, key_id, datetime.now(UTC))


def revoke_labelled(session: Session, label: str) -> int:
    """Revoke every active key with this label (used to replace the local demo key)."""
    return revoke_by_label(session, label, datetime.now(UTC))
