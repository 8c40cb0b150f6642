"""The answer of ``PUT /v1/candidates/{candidate_id}/cv-document``: the candidate as stored,
what was read from the document, and the profile fields its text suggests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic import Field as PydField

from matching.cv_suggestions import Suggestion, SuggestionField
from service.formats.cv_documents import ExtractedText
from service.store.models import CandidatePublic

CV_DOCUMENT_TEXT = (
    "Werkervaring\nHeftruckchauffeur bij een groothandel, 2015-2022\n"
    "Laden en lossen, orderpicken, VCA basis.\nRijbewijs B/C\n"
    "Talen: Nederlands (moedertaal), Engels (redelijk)\n"
    "Opleiding: mbo niveau 2 Logistiek\nBeschikbaar voor 32 uur per week."
)
"""A made-up CV (no real person), the document's example."""


class CvDocumentRead(BaseModel):
    """What was extracted; the file itself is not stored."""

    media_type: str
    pages: int | None = PydField(
        description="Pages read (PDF); null for formats without fixed pages."
    )
    characters: int = PydField(description="Characters of the extracted text (now cv_text).")
    words: int


class EvidenceOut(BaseModel):
    start: int = PydField(description="Offset of the evidence in cv_text (characters).")
    end: int = PydField(description="End offset (exclusive): cv_text[start:end] == snippet.")
    snippet: str
    context: str = PydField(description="The line of cv_text the evidence stands in.")


class CvSuggestion(BaseModel):
    """A profile change the CV's text suggests; nothing is written until a caseworker accepts
    it with a normal candidate PUT carrying ``update``."""

    field: SuggestionField
    value: Any = PydField(
        description="driving_licence: true; languages: an ISO 639 code; education_level: a "
        "level; hours_per_week: {hours_per_week_min, hours_per_week_max}; "
        "desired_occupations: an ESCO occupation label."
    )
    label: str = PydField(description="The suggestion in words, e.g. 'rijbewijs B, C, CE'.")
    update: dict[str, Any] = PydField(
        description="The candidate fields accepting sets, against the profile of this answer "
        "(list fields: the whole list with the value added)."
    )
    score: float | None = PydField(
        default=None, description="Occupation normalisation score, 0–1 (occupations only)."
    )
    evidence: EvidenceOut


class CandidateCvDocument(CandidatePublic):
    """The candidate after its cv_text was replaced by the document's text."""

    cv_document: CvDocumentRead
    suggestions: list[CvSuggestion] = PydField(
        description="Fields the profile lacks that the text suggests; never written by this "
        "route (hard filters use only confirmed fields)."
    )


def suggestion_out(s: Suggestion) -> CvSuggestion:
    return CvSuggestion(
        field=s.field,
        value=s.value,
        label=s.label,
        update=s.update,
        score=s.score,
        evidence=EvidenceOut(
            start=s.evidence.start,
            end=s.evidence.end,
            snippet=s.evidence.snippet,
            context=s.evidence.context,
        ),
    )


def document_read(extracted: ExtractedText) -> CvDocumentRead:
    return CvDocumentRead(
        media_type=extracted.media_type,
        pages=extracted.pages,
        characters=extracted.characters,
        words=extracted.words,
    )
