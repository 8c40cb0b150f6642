"""Tables of the nightly rematch: runs, their stored matches, committed batches, and the
caseworker's follow-up status of a (vacancy, candidate) pair.

Matches are stored compactly: internal integer ids, the score and its three parts; the
explanation is rebuilt on read. ``rematch_run.active_slot`` is 1 for the one running run and
NULL otherwise; its unique constraint is the cross-process lock (SQLite and PostgreSQL both allow
many NULLs in a unique column).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
)
from sqlalchemy import DateTime as SADateTime
from sqlmodel import Field, SQLModel

from service.store.models import _ts_column

RunStateValue = Literal["running", "succeeded", "failed"]
MatchStatusValue = Literal["seen", "proposed", "rejected", "placed"]
"""A caseworker's follow-up of a match."""
RUN_STATES: tuple[RunStateValue, ...] = get_args(RunStateValue)
MATCH_STATUSES: tuple[MatchStatusValue, ...] = get_args(MatchStatusValue)
# direction of a stored match: which side asked
FOR_VACANCY = 0  # top-k candidates of a vacancy
FOR_CANDIDATE = 1  # top-k vacancies of a candidate


class RematchRun(SQLModel, table=True):
    """One rematch run: its state, progress, counts, phase timings and errors."""

    __tablename__ = "rematch_run"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="running", max_length=16, index=True)
    active_slot: int | None = Field(default=1, unique=True)
    top_k: int
    owner: str = Field(max_length=200, description="host:pid of the process running it")
    progress: float = 0.0
    batches_done: int = 0
    batches_total: int = 0
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    timings: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    errors: list[str] = Field(default_factory=list, sa_type=JSON)
    resumed: int = 0
    # What the run computed from (see rematch_version): the model, and the change-log positions
    # read just before and just after it loaded the profiles. NULL for runs from before these
    # were kept, and until the run has loaded.
    model_id: str | None = Field(default=None, max_length=200)
    change_seq_from: int | None = Field(default=None, sa_type=BigInteger)
    change_seq_to: int | None = Field(default=None, sa_type=BigInteger)
    started_at: datetime = _ts_column()
    heartbeat_at: datetime = _ts_column()
    finished_at: datetime | None = Field(default=None, sa_type=SADateTime(timezone=True))


class RematchBatch(SQLModel, table=True):
    """A committed batch: its matches were written in the same transaction as this row.

    ``lo_id``..``hi_id`` is the inclusive range of query ids it covered; a resumed run skips
    queries inside committed ranges and recomputes the rest.
    """

    __tablename__ = "rematch_batch"

    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rematch_run.id", ondelete="CASCADE"), primary_key=True
        )
    )
    direction: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    lo_id: int = Field(primary_key=True)
    hi_id: int
    queries: int


class RematchMatch(SQLModel, table=True):
    """One stored match of a run (vacancy and candidate by internal id)."""

    __tablename__ = "rematch_match"
    __table_args__ = (Index("ix_rematch_match_run_candidate", "run_id", "candidate_id"),)

    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rematch_run.id", ondelete="CASCADE"), primary_key=True
        )
    )
    vacancy_id: int = Field(primary_key=True)
    candidate_id: int = Field(primary_key=True)
    direction: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    rank: int = Field(sa_column=Column(SmallInteger, nullable=False))
    score: float = Field(sa_column=Column(Float, nullable=False))
    semantic: float = Field(sa_column=Column(Float, nullable=False))
    lexical: float = Field(sa_column=Column(Float, nullable=False))
    occupation: float = Field(sa_column=Column(Float, nullable=False))


class RematchState(SQLModel, table=True):
    """A named numpy array a run saved for the next one (e.g. the ids of its pools), split into
    pieces of at most ``service.store.rematch_store.STATE_PART_BYTES``; goes with its run."""

    __tablename__ = "rematch_state"

    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("rematch_run.id", ondelete="CASCADE"), primary_key=True
        )
    )
    name: str = Field(max_length=64, primary_key=True)
    part: int = Field(primary_key=True)
    dtype: str = Field(max_length=16, description="numpy dtype string, e.g. '<i8'")
    shape: list[int] = Field(default_factory=list, sa_type=JSON)
    data: bytes = Field(sa_type=LargeBinary)


class MatchStatus(SQLModel, table=True):
    """A caseworker's follow-up of one pair; independent of runs, so it survives rematches."""

    __tablename__ = "match_status"

    vacancy_id: int = Field(
        sa_column=Column(Integer, ForeignKey("vacancy.id", ondelete="CASCADE"), primary_key=True)
    )
    candidate_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    status: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _ts_column()
