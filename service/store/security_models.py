"""Tables of access control: API keys, the audit log and the per-key rate-limit windows.

A key's secret is never stored: ``secret_hash`` is the SHA-256 of the random secret. Keys carry
256 bits of entropy, so a fast hash is enough (a slow password hash protects guessable secrets,
which these are not) and verification stays cheap on every request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint
from sqlalchemy import DateTime as SADateTime
from sqlmodel import Field, SQLModel

from service.store.models import _ts_column

Role = Literal["admin", "director", "intake", "employer", "batch"]
ROLES: tuple[Role, ...] = ("admin", "director", "intake", "employer", "batch")


class ApiKey(SQLModel, table=True):
    """One API key: who holds it (role, tenant) and whether it is still valid."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=32, description="Public key id (kid).")
    secret_hash: str = Field(max_length=64)
    role: str = Field(max_length=16)
    employer_id: str | None = Field(default=None, max_length=64, index=True)
    caseworker_id: str | None = Field(default=None, max_length=64)
    organisation_id: str | None = Field(default=None, max_length=64)
    label: str = Field(default="", max_length=120)
    created_at: datetime = _ts_column()
    expires_at: datetime | None = Field(default=None, sa_type=SADateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=SADateTime(timezone=True))


class AuditEvent(SQLModel, table=True):
    """One access to a candidate's data, allowed or refused.

    ``candidate_id`` is the client system's pseudonymous id; no profile content is kept here,
    so the record outlives an erasure (accountability, GDPR art. 5(2)) without keeping the data.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_candidate_at", "candidate_id", "at"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    at: datetime = _ts_column()
    key_id: str | None = Field(default=None, max_length=32, index=True)
    role: str | None = Field(default=None, max_length=16)
    candidate_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=16)  # read | list | match | write | erase | status
    method: str = Field(max_length=8)
    route: str = Field(max_length=200)  # the route template, never the raw path
    status: int = Field(description="HTTP status of the answer")
    outcome: str = Field(max_length=16)  # allowed | refused | not_found | failed
    request_id: str | None = Field(default=None, max_length=64)


class RateWindow(SQLModel, table=True):
    """Requests of one key in one fixed window (used when no Redis is configured)."""

    __tablename__ = "rate_window"
    __table_args__ = (PrimaryKeyConstraint("key_id", "window", name="pk_rate_window"),)

    key_id: str = Field(max_length=32)
    window: int = Field(sa_column=Column(Integer, nullable=False))  # epoch seconds // width
    count: int = Field(default=0)
