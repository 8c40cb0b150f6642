"""Request and response schemas of the rematch, new-matches and match-status endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from service.store.models import StrictInput, UtcDateTime
from service.store.rematch_models import MatchStatusValue, RunStateValue


class RematchRunIn(StrictInput):
    top_k: Annotated[int, Field(ge=1, le=200)] | None = Field(
        default=None, description="Matches kept per vacancy and per candidate (default: setting)."
    )


class RematchRunOut(BaseModel):
    run_id: int
    state: RunStateValue
    top_k: int
    progress: float = Field(description="Share of batches done, 0–1.")
    batches_done: int
    batches_total: int
    counts: dict[str, Any] = Field(
        description="candidates, vacancies, matches, pairs, and the diff against the previous "
        "successful run: new, unchanged, disappeared (distinct vacancy–candidate pairs)."
    )
    timings: dict[str, float] = Field(description="Seconds per phase.")
    errors: list[str] = Field(
        description="Why the run failed: the error's type (with Werkmatch's own message where it "
        "has one); the details are in the server log, never here."
    )
    resumed: int = Field(description="How often the run was taken over after its process died.")
    model_id: str | None = Field(
        default=None, description="The embedding model the run compared (null until it loaded)."
    )
    change_seq_from: int | None = Field(
        default=None,
        description="Every write up to this change-log sequence number is in the run's matches.",
    )
    change_seq_to: int | None = Field(
        default=None,
        description="No write after this change-log sequence number is in the run's matches "
        "(equal to change_seq_from unless writes were committed while the run read the "
        "profiles, or it was resumed).",
    )
    started_at: UtcDateTime
    finished_at: UtcDateTime | None


class NewMatch(BaseModel):
    """A stored match of a rematch run, with its record: the run's model and index version
    (what the score was computed from) and the index version its explanation was written at."""

    employer_id: str
    vacancy_id: str
    vacancy_title: str
    candidate_id: str
    score: float
    parts: dict[str, float]
    explanation: list[str] = Field(
        description="Reasons, rebuilt when read from the profiles as they are now (at "
        "explanation_index_version)."
    )
    model_id: str | None = Field(
        description="The embedding model the run compared (null for runs from before Werkmatch "
        "recorded it)."
    )
    index_version: str | None = Field(
        description="What the run's score was computed from: '<seq>:exact:exact', the run "
        "compared every active candidate with every open vacancy exactly (no vector index) on "
        "the profiles as of change-log sequence number <seq>; '<from>-<to>:exact:exact' when "
        "writes were committed while the run read the profiles (or it was resumed): every write "
        "up to <from> is in it, none after <to>. Null for runs from before Werkmatch recorded it."
    )
    explanation_index_version: str = Field(
        description="The index version (as in the match endpoints: "
        "'<seq>:<candidate index>:<vacancy index>') of the profiles the explanation was "
        "written from."
    )
    status: MatchStatusValue | None = None
    direction: Literal["candidate_for_vacancy", "vacancy_for_candidate"]
    rank: int


class NewMatchList(BaseModel):
    run_id: int = Field(description="The run the matches come from (the latest successful one).")
    since_run: int | None = Field(description="Matches that were in this run are not new.")
    data: list[NewMatch]
    count: int


class MatchStatusIn(StrictInput):
    status: MatchStatusValue
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class MatchStatusOut(BaseModel):
    employer_id: str
    vacancy_id: str
    candidate_id: str
    status: MatchStatusValue
    note: str | None
    updated_at: UtcDateTime
