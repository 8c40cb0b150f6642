"""The facts about a candidate or vacancy that filtering and ranking use.

Built once per write from the stored row (pure values, no database objects), kept in memory next
to the vector index, and rebuilt when the focus-occupation list changes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from matching.focus import FocusHit, FocusMatcher
from matching.geo import PostcodeLocator
from matching.text import content_terms

Location = tuple[float, float]


@dataclass(frozen=True)
class EscoLink:
    """An ESCO occupation a side's title or desired occupation was linked to."""

    uri: str
    label: str  # ESCO preferred label
    isco_code: str | None
    score: float  # normalisation score, 0..1 (1 when chosen by the caller)
    # Set when the occupation was read from the text rather than stated: the words it was
    # read from ("heftruckcertificaat"), for the explanation.
    evidence: str | None = None

    @classmethod
    def from_json(cls, value: dict[str, object]) -> EscoLink:
        """From a stored link (``uri``, ``preferred_label``, ``isco_code``, ``score``) or a
        stored inferred occupation (the same keys and ``snippet``)."""
        code = value.get("isco_code")
        snippet = value.get("snippet")
        return cls(
            uri=str(value["uri"]),
            label=str(value.get("preferred_label") or ""),
            isco_code=str(code) if code else None,
            score=float(value.get("score") or 0.0),  # type: ignore[arg-type]  # a stored link's score is a number
            evidence=str(snippet) if snippet else None,
        )


@dataclass(frozen=True)
class Side:
    """What either side of a match brings to the ranking."""

    occupations: tuple[str, ...]  # vacancy: title and occupation; candidate: desired occupations
    key_terms: frozenset[str]  # terms of occupations and skills (weigh double)
    terms: frozenset[str]  # all content terms, key terms included
    location: Location | None
    focus: tuple[FocusHit, ...] = ()
    esco: tuple[EscoLink, ...] = ()


@dataclass(frozen=True)
class CandidateFacts:
    id: int
    external_id: str
    side: Side
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    ladder_step: int | None
    client_group: str | None
    active: bool
    hours_min: int | None
    hours_max: int | None
    max_travel_km: float | None
    driving_licence: bool
    caseworker_id: str | None = None


@dataclass(frozen=True)
class VacancyFacts:
    id: int
    employer_id: str
    external_id: str
    title: str
    side: Side
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    hours: int | None
    requires_driving_licence: bool
    kind: str
    status: str
    occupation: str | None = None
    closes_on: date | None = None


def resolve_location(
    locator: PostcodeLocator, postcode: str | None, lat: float | None, lon: float | None
) -> Location | None:
    """Explicit coordinates win; otherwise the centroid of the postcode's PC4 area."""
    if lat is not None and lon is not None:
        return (lat, lon)
    if postcode:
        place = locator.locate(postcode)
        if place is not None:
            return (place.lat, place.lon)
    return None


def make_side(
    *,
    occupations: Sequence[str],
    skills: Sequence[str],
    text: str,
    location: Location | None,
    focus: FocusMatcher | None,
    esco: Sequence[EscoLink] = (),
    inferred: Sequence[EscoLink] = (),
) -> Side:
    """Build a ranking side from titles, skills, free text and ESCO links.

    ``inferred`` are occupations read from the text (links with ``evidence``): they join
    ``esco`` after the stated links, so the occupation signal sees them, and they put the
    side in a focus occupation the stated titles and links do not (``FocusMatcher.match``).
    """
    # Interned terms: one string object per distinct term across all rows, which keeps memory
    # small and lets a pickled snapshot store (and load) each term once.
    key = frozenset(map(sys.intern, content_terms(" ; ".join([*occupations, *skills]))))
    terms = key | frozenset(map(sys.intern, content_terms(text)))
    occs = tuple(o for o in occupations if o and o.strip())
    hits = tuple(focus.match(occs, tuple(esco), tuple(inferred))) if focus is not None else ()
    return Side(
        occupations=occs,
        key_terms=key,
        terms=terms,
        location=location,
        focus=hits,
        esco=(*esco, *inferred),
    )


def candidate_embed_text(
    cv_text: str, desired_occupations: Sequence[str], skills: Sequence[str]
) -> str:
    """The text whose vector represents a candidate: wishes and skills first, then the CV."""
    head = []
    if desired_occupations:
        head.append("Gewenst beroep: " + ", ".join(desired_occupations) + ".")
    if skills:
        head.append("Vaardigheden: " + ", ".join(skills) + ".")
    return "\n".join([*head, cv_text])


def vacancy_embed_text(
    title: str, occupation: str | None, description: str, skills: Sequence[str]
) -> str:
    """The text whose vector represents a vacancy: title and occupation first, then the text."""
    head = [t for t in (title, occupation) if t]
    if skills:
        head.append("Gevraagd: " + ", ".join(skills) + ".")
    return "\n".join([*head, description])
