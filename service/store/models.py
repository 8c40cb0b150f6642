"""Database tables (SQLModel) and the HTTP request/response schemas built on them.

Tables use integer primary keys; clients address rows by their own external ids
(``candidate_id``; ``employer_id`` + ``vacancy_id``), which are unique columns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic import Field as PydField
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlalchemy import DateTime as SADateTime
from sqlmodel import Field, SQLModel

from matching.categories import (
    LADDER_STEP_MAX,
    LADDER_STEP_MIN,
    BenefitType,
    ClientGroup,
    EducationLevel,
    EmploymentType,
    VacancyKind,
    VacancyStatus,
)
from matching.geo import normalize_postcode
from service.json_bounds import free_json_problem
from service.protected import refuse_protected_fields

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Never '.' first: the ids '.' and '..' would pass but no URL path can hold them (clients
# resolve them as dot-segments), so such an object could be written but never read or erased.
ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$"
ExternalId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

MAX_CV_CHARS = 50_000
# A text matched ad hoc is embedded on the request path and not kept: about four pages (some
# 2,500 tokens, eleven model windows). A longer CV is stored as a candidate and matched by id.
MAX_ADHOC_CHARS = 10_000
MAX_DESCRIPTION_CHARS = 20_000
MAX_TITLE_CHARS = 200
MAX_LABEL_CHARS = 120


# Request text is checked as sent (so the document's lengths and patterns hold) and only then
# stripped (StrictInput); text that must say something must hold a non-space character.
# The whitespace of JSON Schema's regexes (ECMA-262 \s), spelt out: Python's and pydantic's
# own \s differ from it (U+001C-U+001F, U+0085, U+FEFF), and str.strip() alone could empty a
# text that the document calls not blank.
WHITE_SPACE = "\t\n\v\f\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    map(chr, range(0x2000, 0x200B))
)
# A text that must say something holds one character that is neither whitespace nor invisible:
# control characters (Unicode Cc) and the format characters of the Basic Multilingual Plane
# (Cf: soft hyphen, zero-width space and joiners, direction marks, word joiner, BOM, ...) show
# nothing. Spelt out as ranges, as JSON Schema's regexes have no Unicode categories.
NOT_BLANK = (
    r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    r"\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    r"\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufff9-\ufffb]"
)
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LABEL_CHARS, pattern=NOT_BLANK)
]
EscoUri = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^http://data\.europa\.eu/esco/occupation/")
]
LanguageCode = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2,3}$")]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts_column(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=SADateTime(timezone=True), nullable=False, **kw)


# ---------------------------------------------------------------- tables


class Candidate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True, index=True)
    cv_text: str = Field(sa_type=Text)
    desired_occupations: list[str] = Field(default_factory=list, sa_type=JSON)
    # One ESCO match per desired occupation: {"uri", "preferred_label", "isco_code", "score",
    # "source": "normalised" | "caller"}; see service/store/occupation_links.py.
    desired_occupations_esco: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    desired_esco_uris: list[str] = Field(default_factory=list, sa_type=JSON)
    # ESCO occupations read from cv_text on every write, apart from what the candidate stated:
    # {"uri", "preferred_label", "isco_code", "score", "field", "start", "end", "snippet",
    # "via"}; see service/store/occupation_links.py.
    inferred_occupations: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSON, sa_column_kwargs={"server_default": "[]"}
    )
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    languages: list[str] = Field(default_factory=list, sa_type=JSON)
    participation_ladder_step: int | None = None
    client_group: str | None = Field(default=None, max_length=16)
    benefit_type: str | None = Field(default=None, max_length=16)
    work_chance_score: float | None = None
    hours_per_week_min: int | None = None
    hours_per_week_max: int | None = None
    postcode: str | None = Field(default=None, max_length=6)
    lat: float | None = None
    lon: float | None = None
    max_travel_km: float | None = None
    driving_licence: bool = False
    education_level: str | None = Field(default=None, max_length=16)
    available_from: date | None = None
    caseworker_id: str | None = Field(default=None, max_length=64, index=True)
    # The organisation (municipality, UWV office) whose client this is; None: no organisation
    # (seen only by keys without one). See service/api/tenancy.py.
    organisation_id: str | None = Field(default=None, max_length=64, index=True)
    active: bool = Field(default=True, index=True)
    created_at: datetime = _ts_column()
    updated_at: datetime = _ts_column()


class Vacancy(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("employer_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    employer_id: str = Field(max_length=64, index=True)
    external_id: str = Field(max_length=64)
    title: str = Field(max_length=MAX_TITLE_CHARS)
    description: str = Field(sa_type=Text)
    occupation: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    # The vacancy's ESCO occupation, same shape as Candidate.desired_occupations_esco items.
    occupation_esco: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # Read from the title, then the description, when ``occupation`` is empty (shape as
    # Candidate.inferred_occupations).
    inferred_occupations: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSON, sa_column_kwargs={"server_default": "[]"}
    )
    esco_uri: str | None = Field(default=None, max_length=200)
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    hours_per_week: int | None = None
    postcode: str | None = Field(default=None, max_length=6)
    lat: float | None = None
    lon: float | None = None
    requires_driving_licence: bool = False
    languages: list[str] = Field(default_factory=list, sa_type=JSON)
    education_level: str | None = Field(default=None, max_length=16)
    kind: str = Field(default="regular", max_length=16)
    status: str = Field(default="open", max_length=16, index=True)
    closes_on: date | None = None
    employer_name: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    locality: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    employment_type: list[str] = Field(
        default_factory=list, sa_type=JSON, sa_column_kwargs={"server_default": "[]"}
    )
    occupation_code: str | None = Field(default=None, max_length=8)
    posted_on: date | None = None
    extra_properties: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = _ts_column()
    updated_at: datetime = _ts_column()


class CandidateEmbedding(SQLModel, table=True):
    """The vector of a candidate's embedding text (unit length, float32 little-endian)."""

    __tablename__ = "candidate_embedding"

    candidate_id: int = Field(
        sa_column=Column(Integer, ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    )
    model_id: str = Field(max_length=200)
    content_hash: str = Field(max_length=64, index=True)
    dim: int
    chunks: int = 1
    vector: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _ts_column()


class VacancyEmbedding(SQLModel, table=True):
    """The vector of a vacancy's embedding text (unit length, float32 little-endian)."""

    __tablename__ = "vacancy_embedding"

    vacancy_id: int = Field(
        sa_column=Column(Integer, ForeignKey("vacancy.id", ondelete="CASCADE"), primary_key=True)
    )
    model_id: str = Field(max_length=200)
    content_hash: str = Field(max_length=64, index=True)
    dim: int
    chunks: int = 1
    vector: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _ts_column()


class FocusOccupation(SQLModel, table=True):
    __tablename__ = "focus_occupation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=MAX_LABEL_CHARS)
    synonyms: list[str] = Field(default_factory=list, sa_type=JSON)
    esco_uris: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _ts_column()
    updated_at: datetime = _ts_column()


class EscoOccupation(SQLModel, table=True):
    """An ESCO occupation with its Dutch labels (ESCO, European Commission, esco.ec.europa.eu).

    ``werkmatch occupations import`` fills it; the occupation normaliser indexes its labels.
    """

    __tablename__ = "esco_occupation"

    id: int | None = Field(default=None, primary_key=True)
    uri: str = Field(max_length=200, unique=True, index=True)
    preferred_label: str = Field(max_length=300)
    alt_labels: list[str] = Field(default_factory=list, sa_type=JSON)
    hidden_labels: list[str] = Field(default_factory=list, sa_type=JSON)
    isco_code: str | None = Field(default=None, max_length=8, index=True)
    isco_label: str | None = Field(default=None, max_length=300)
    code: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", sa_type=Text)
    updated_at: datetime = _ts_column()


class ChangeLog(SQLModel, table=True):
    """One row per write or delete, appended in the writing transaction.

    Each process applies the log to its in-memory indexes in ``seq`` order.
    """

    __tablename__ = "change_log"

    seq: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    entity: str = Field(max_length=16)  # candidate | vacancy | focus
    entity_id: int
    op: str = Field(max_length=8)  # upsert | delete
    created_at: datetime = _ts_column()


# ---------------------------------------------------------------- request / response schemas


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


def _refuse_unbounded_json(title: str, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    """A 422 located at each free JSON field that exceeds the depth or size bound."""
    errors = [
        InitErrorDetails(
            type=PydanticCustomError("json_bounds", "{problem}", {"problem": problem}),
            loc=(name,),
            input="…",
        )
        for name in fields
        if (problem := free_json_problem(data.get(name))) is not None
    ]
    if errors:
        raise ValidationError.from_exception_data(title, errors)


class StrictInput(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error rather than silently lost,
    and values of the wrong JSON type instead of converting them (``false`` is no number,
    ``0`` no boolean, ``"5"`` no integer), as the OpenAPI document states.

    Protected attributes (age, gender, nationality, ethnicity, religion, names; see
    :mod:`service.protected`) are refused with an error that says so, also inside the fields
    named in ``free_json_fields``. Those fields must also fit the bounds of
    :mod:`service.json_bounds` (depth and size), checked before pydantic walks them.
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    free_json_fields: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="wrap")
    @classmethod
    def _no_protected_attributes(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # Only where unknown fields are refused: the *Public answer models reuse these classes
        # (extra="ignore") to render stored rows, which must never fail to render.
        if isinstance(data, dict) and cls.model_config.get("extra") == "forbid":
            refuse_protected_fields(cls.__name__, data, cls.model_fields, cls.free_json_fields)
            _refuse_unbounded_json(cls.__name__, data, cls.free_json_fields)
        return handler(data)

    @field_validator("*", mode="before")
    @classmethod
    def _json_value(cls, value: Any) -> Any:
        if _holds_nul(value):  # PostgreSQL cannot store it: a 500 there, a 422 everywhere
            raise ValueError("must not contain the NUL character (U+0000)")
        # JSON (and JSON Schema's "integer") does not tell 41.0 from 41; strict mode would.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        """Surrounding whitespace is dropped after validation, so it never counts as content
        but does count towards a length limit, as in the document."""
        if isinstance(value, str):
            return value.strip(WHITE_SPACE)
        if isinstance(value, list):
            return [v.strip(WHITE_SPACE) if isinstance(v, str) else v for v in value]
        return value


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float):  # a lax date reads a number as a Unix timestamp
        raise ValueError("expected an ISO 8601 date such as '2026-12-01'")
    return value


IsoDate = Annotated[date, Strict(False), BeforeValidator(_not_a_number)]
"""A date in a request body: JSON has no date type, so the ISO text (or a ``date``)."""


def _check_location(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must be given together")


# What matching.geo.normalize_postcode accepts, for the document: 4 digits (no leading 0) and
# optionally 2 letters, one space between at most, never the unissued SA, SD or SS.
POSTCODE_PATTERN = r"^\s*[1-9][0-9]{3} ?(?:[A-RT-Za-rt-z][A-Za-z]|[Ss][BCE-RT-Zbce-rt-z])?\s*$"
PostcodeText = Annotated[
    str,
    PydField(
        description="Dutch postcode, e.g. '1234 AB' or '1234'.",
        json_schema_extra={"pattern": POSTCODE_PATTERN},  # checked by _postcode, which names it
    ),
]


def _postcode(value: str | None) -> str | None:
    if value is None:
        return None
    return normalize_postcode(value)


class CandidateIn(StrictInput):
    """A candidate profile as the client system sends it (PUT replaces the whole profile)."""

    cv_text: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_CV_CHARS, pattern=NOT_BLANK)
    ]
    desired_occupations: Annotated[list[Label], Field(max_length=20)] = []
    desired_esco_uris: Annotated[list[EscoUri], PydField(max_length=20)] = PydField(
        default=[],
        description="ESCO occupation URIs chosen by the caller; they override the automatic "
        "normalisation of desired_occupations.",
    )
    skills: Annotated[list[Label], Field(max_length=100)] = []
    languages: Annotated[list[LanguageCode], Field(max_length=20)] = []
    participation_ladder_step: (
        Annotated[int, Field(ge=LADDER_STEP_MIN, le=LADDER_STEP_MAX)] | None
    ) = None
    client_group: ClientGroup | None = None
    benefit_type: BenefitType | None = None
    work_chance_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    hours_per_week_min: Annotated[int, Field(ge=0, le=60)] | None = None
    hours_per_week_max: Annotated[int, Field(ge=1, le=60)] | None = None
    postcode: PostcodeText | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    max_travel_km: Annotated[float, Field(ge=0, le=500)] | None = None
    driving_licence: bool = False
    education_level: EducationLevel | None = None
    available_from: IsoDate | None = None
    caseworker_id: ExternalId | None = None
    organisation_id: ExternalId | None = PydField(
        default=None,
        description="The organisation (municipality, UWV office) whose client this is. A key "
        "bound to an organisation writes its own organisation's candidates only: omit the "
        "field or give that organisation. A key without one may set it; omitted, a stored "
        "candidate keeps its organisation.",
    )
    active: bool = True

    _normalize_postcode = field_validator("postcode")(_postcode)

    @model_validator(mode="after")
    def _consistent(self) -> CandidateIn:
        _check_location(self.lat, self.lon)
        lo, hi = self.hours_per_week_min, self.hours_per_week_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("hours_per_week_min must not exceed hours_per_week_max")
        return self


class VacancyIn(StrictInput):
    """A vacancy as an employer portal sends it (PUT replaces the whole vacancy)."""

    free_json_fields: ClassVar[tuple[str, ...]] = ("extra_properties",)

    title: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS, pattern=NOT_BLANK)
    ]
    description: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION_CHARS, pattern=NOT_BLANK)
    ]
    occupation: Label | None = None
    esco_uri: EscoUri | None = PydField(
        default=None,
        description="ESCO occupation URI chosen by the caller; overrides the automatic "
        "normalisation of occupation/title.",
    )
    skills: Annotated[list[Label], Field(max_length=100)] = []
    hours_per_week: Annotated[int, Field(ge=1, le=60)] | None = None
    postcode: PostcodeText | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    requires_driving_licence: bool = False
    languages: Annotated[list[LanguageCode], Field(max_length=20)] = []
    education_level: EducationLevel | None = None
    kind: VacancyKind = "regular"
    status: VacancyStatus = "open"
    closes_on: IsoDate | None = None
    employer_name: Label | None = Field(
        default=None, description="Display name of the hiring organisation."
    )
    locality: Label | None = Field(default=None, description="Place of work, e.g. 'Ridderkerk'.")
    employment_type: Annotated[list[EmploymentType], Field(max_length=8)] = Field(
        default=[], description="schema.org employmentType values, e.g. FULL_TIME, PART_TIME."
    )
    occupation_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}$")] | None = Field(
        default=None, description="ISCO-08 code (1–4 digits) of the occupation."
    )
    posted_on: IsoDate | None = None
    extra_properties: dict[str, Any] | None = Field(
        default=None,
        description="Properties of the source document (e.g. a JobPosting) that Werkmatch does "
        "not use; kept as sent, never matched on. Protected attributes are refused here too "
        "(e.g. requiredGender, requiredMinAge, birthDate, or a name inside a Person).",
    )

    _normalize_postcode = field_validator("postcode")(_postcode)

    @model_validator(mode="after")
    def _consistent(self) -> VacancyIn:
        _check_location(self.lat, self.lon)
        return self


class FocusOccupationIn(StrictInput):
    name: Label
    synonyms: Annotated[list[Label], Field(max_length=50)] = []
    esco_uris: Annotated[list[EscoUri], PydField(max_length=50)] = PydField(
        default=[],
        description=(
            "ESCO occupations that belong to this focus occupation: a vacancy or candidate whose "
            "title was linked to one of them is in focus even when its title matches neither the "
            "name nor a synonym. Each must be an imported ESCO occupation."
        ),
    )


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""A timestamp in an API answer: always with its UTC offset, also when read from SQLite."""


class Timestamps(BaseModel):
    created_at: UtcDateTime
    updated_at: UtcDateTime


class EscoLinkOut(BaseModel):
    """An ESCO occupation a title or desired occupation was linked to."""

    uri: str
    preferred_label: str
    isco_code: str | None = None
    score: float = PydField(description="Normalisation score, 0–1 (1 when chosen by the caller).")
    matched: str | None = PydField(
        default=None, description="The input title or occupation it was recognised in."
    )
    source: Literal["normalised", "caller"]


class InferredOccupationOut(BaseModel):
    """An ESCO occupation read from the text (read-only: recomputed on every write)."""

    uri: str
    preferred_label: str
    isco_code: str | None = None
    score: float = PydField(description="Confidence, 0–1 (the normalisation score of the span).")
    field: Literal["cv_text", "title", "description"] = PydField(
        description="The text it was read from."
    )
    start: int = PydField(description="Character offset of the evidence in that text.")
    end: int = PydField(description="End offset: text[start:end] == snippet.")
    snippet: str = PydField(description="The words it was read from, e.g. 'heftruckcertificaat'.")
    via: Literal["title", "phrase", "cue"] = PydField(
        description="title: a line reads as a job title; phrase: after 'werkervaring als', "
        "'werkzaam als', 'functie:'; cue: a certificate or skill of that occupation."
    )


class CandidatePublic(CandidateIn, Timestamps):
    model_config = ConfigDict(extra="ignore", strict=False)  # an answer, not input

    candidate_id: str
    desired_occupations_esco: list[EscoLinkOut] = []
    inferred_occupations: list[InferredOccupationOut] = PydField(
        default=[],
        description="ESCO occupations read from cv_text, kept apart from desired_occupations. "
        "They count for focus_only and the occupation signal, never for hard filters.",
    )


class VacancyPublic(VacancyIn, Timestamps):
    model_config = ConfigDict(extra="ignore", strict=False)  # an answer, not input

    employer_id: str
    vacancy_id: str
    occupation_esco: EscoLinkOut | None = None
    inferred_occupations: list[InferredOccupationOut] = PydField(
        default=[],
        description="ESCO occupations read from the title, then the description, when "
        "occupation is empty.",
    )
    withheld: list[str] = PydField(
        default=[],
        description="Stored fields this answer leaves out (null above): free JSON stored before "
        "the input bounds existed that exceeds them. PUT the vacancy again to replace it.",
    )


class FocusOccupationPublic(FocusOccupationIn, Timestamps):
    model_config = ConfigDict(extra="ignore", strict=False)  # an answer, not input

    slug: str


class CandidateList(BaseModel):
    data: list[CandidatePublic]
    count: int


class VacancyList(BaseModel):
    data: list[VacancyPublic]
    count: int


class FocusOccupationList(BaseModel):
    data: list[FocusOccupationPublic]
    count: int
