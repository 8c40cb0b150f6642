"""ESCO occupations: normalise a free-text job title to ranked ESCO occupations."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from matching.occupations import title_words
from service.api.deps import SessionDep, StateDep
from service.errors import ErrorBody, InvalidParameter, ServiceUnavailable
from service.store.models import MAX_TITLE_CHARS, NOT_BLANK, StrictInput

router = APIRouter(prefix="/v1/occupations", tags=["occupations"])

NOT_LOADED = "no ESCO occupations are loaded: run `werkmatch occupations import` first"


class NormalizeIn(StrictInput):
    title: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS, pattern=NOT_BLANK)
    ] = Field(description="A job title as written, e.g. 'Heftruckchauffeur (m/v) 32 uur'.")
    limit: int = Field(default=5, ge=1, le=50, description="Number of occupations, 1–50.")


class OccupationOut(BaseModel):
    uri: str = Field(description="ESCO concept URI.")
    preferred_label: str = Field(description="ESCO preferred label (Dutch).")
    isco_code: str | None = Field(description="ISCO-08 unit group (4 digits).")
    isco_label: str | None = Field(description="ISCO-08 group title.")
    matched_label: str = Field(description="The ESCO label that matched the title best.")
    score: float = Field(description="Match strength, 0–1.")


class NormalizeOut(BaseModel):
    title: str
    normalized: str = Field(description="The title's words after removing noise.")
    data: list[OccupationOut]
    count: int
    method: Literal["string", "fused"] = Field(
        description="How the occupations were ranked: 'fused' — the string normaliser (words, "
        "compound parts, character n-grams of the ESCO labels) combined with the embedding "
        "model's similarity to the nearest ESCO label; 'string' — the string normaliser alone, "
        "answered while the ESCO labels are still being embedded after a start or an import "
        "(or when fusion is switched off). Scores of the two methods are not comparable."
    )


@router.post(
    "/normalize",
    response_model=NormalizeOut,
    responses={
        503: {
            "model": ErrorBody,
            "description": "No ESCO occupations imported yet",
            "content": {
                "application/json": {"example": {"error": "unavailable", "detail": NOT_LOADED}}
            },
        }
    },
)
def normalize(body: NormalizeIn, session: SessionDep, state: StateDep) -> NormalizeOut:
    """Rank ESCO occupations for a job title (ESCO, European Commission, esco.ec.europa.eu).

    503 when no occupations have been imported. `method` says whether the embedding model took
    part ("fused") or not yet ("string").
    """
    words = title_words(body.title)
    if not words:
        raise InvalidParameter(
            "title", "holds no job-title words (only noise such as hours or m/v)", "body"
        )
    normalizer = state.occupations.get(session)
    if normalizer is None:
        raise ServiceUnavailable(NOT_LOADED)
    hits = normalizer.normalize(body.title, body.limit)
    data = [
        OccupationOut(
            uri=h.uri,
            preferred_label=h.preferred_label,
            isco_code=h.isco_code,
            isco_label=state.occupations.isco_label(h.isco_code),
            matched_label=h.matched_label,
            score=h.score,
        )
        for h in hits
    ]
    return NormalizeOut(
        title=body.title,
        normalized=" ".join(words),
        data=data,
        count=len(data),
        method="fused" if normalizer.method == "fused" else "string",
    )
