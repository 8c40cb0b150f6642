"""Link vacancies and candidates' desired occupations to ESCO occupations on write.

A vacancy gets one link: the caller's ``esco_uri`` if given, else the best ESCO occupation for
its ``occupation`` field, else for its title. A candidate gets one link per caller URI in
``desired_esco_uris`` and then one per desired occupation. A normalised link is kept only when
its score reaches the normaliser's ``thresholds.link``; links are stored with their score and
source, so the ranking and its explanation can say how sure the link is.

Apart from those stated links, every write reads occupations from the text
(:func:`infer_candidate`, :func:`infer_vacancy`, with ``matching.cv_suggestions.
infer_occupations``): a candidate's from ``cv_text``; a vacancy's, when its ``occupation`` is
empty, from the title and then (when the title names none) from the description. They are
stored as ``inferred_occupations`` with score and evidence span, never merged into the stated
fields: focus membership and the occupation signal use them, hard filters never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from matching.cv_suggestions import VACANCY_MAX_OCCUPATIONS, infer_occupations
from matching.occupations import STRING_THRESHOLDS
from service.errors import InvalidParameter
from service.store.models import CandidateIn, EscoOccupation, VacancyIn
from service.store.occupations import Normalizer, OccupationIndex

__all__ = [
    "LINK_MIN_SCORE",
    "check_caller_uris",
    "check_focus_uris",
    "infer_candidate",
    "infer_vacancy",
    "link_candidate",
    "link_vacancy",
]

LINK_MIN_SCORE = STRING_THRESHOLDS.link
"""Below this string normalisation score a title is not linked: a wrong ESCO link costs more in
the ranking than no link (the fuzzy title signal still applies). Links use the threshold of the
normaliser in use (``thresholds.link``: the fused scores have their own)."""


def _caller_fields(data: Any) -> list[tuple[str, str]]:
    if isinstance(data, VacancyIn):
        return [("esco_uri", data.esco_uri)] if data.esco_uri else []
    if isinstance(data, CandidateIn):
        return [(f"desired_esco_uris.{i}", u) for i, u in enumerate(data.desired_esco_uris)]
    return []


def _rows(session: Session, uris: Sequence[str]) -> dict[str, EscoOccupation]:
    if not uris:
        return {}
    rows = session.exec(select(EscoOccupation).where(col(EscoOccupation.uri).in_(list(uris)))).all()
    return {r.uri: r for r in rows}


def check_caller_uris(session: Session, items: Sequence[Any], location: str = "body") -> None:
    """Raise a 422 naming the field when a caller-given ESCO URI is not an imported occupation.

    Raises:
        InvalidParameter: the first unknown URI.
    """
    fields = [f for data in items for f in _caller_fields(data)]
    known = _rows(session, [u for _, u in fields])
    for field, uri in fields:
        if uri not in known:
            raise InvalidParameter(
                field, f"{uri} is not an imported ESCO occupation", location=location
            )


def check_focus_uris(session: Session, uris: Sequence[str]) -> None:
    """Raise a 422 naming ``esco_uris.<i>`` for the first URI that is not an imported occupation.

    Raises:
        InvalidParameter: the first unknown URI.
    """
    known = _rows(session, list(uris))
    for i, uri in enumerate(uris):
        if uri not in known:
            raise InvalidParameter(
                f"esco_uris.{i}", f"{uri} is not an imported ESCO occupation", location="body"
            )


def _caller_link(row: EscoOccupation) -> dict[str, Any]:
    return {
        "uri": row.uri,
        "preferred_label": row.preferred_label,
        "isco_code": row.isco_code,
        "score": 1.0,
        "matched": None,
        "source": "caller",
    }


def _normalised(normalizer: Normalizer | None, text: str | None) -> dict[str, Any] | None:
    if normalizer is None or not text:
        return None
    hits = normalizer.normalize(text, 1)
    if not hits or hits[0].score < normalizer.thresholds.link:
        return None
    hit = hits[0]
    return {
        "uri": hit.uri,
        "preferred_label": hit.preferred_label,
        "isco_code": hit.isco_code,
        "score": hit.score,
        "matched": text,
        "source": "normalised",
    }


def link_vacancy(
    session: Session, index: OccupationIndex, data: VacancyIn
) -> dict[str, Any] | None:
    """The vacancy's ESCO link (None when nothing is imported or nothing matches well)."""
    if data.esco_uri:
        row = _rows(session, [data.esco_uri]).get(data.esco_uri)
        if row is not None:
            return _caller_link(row)
    normalizer = index.get(session)
    return _normalised(normalizer, data.occupation) or _normalised(normalizer, data.title)


def link_candidate(
    session: Session, index: OccupationIndex, data: CandidateIn
) -> list[dict[str, Any]]:
    """The candidate's ESCO links: caller URIs first, then the desired occupations' matches."""
    rows = _rows(session, data.desired_esco_uris)
    links = [_caller_link(rows[u]) for u in data.desired_esco_uris if u in rows]
    normalizer = index.get(session) if data.desired_occupations else None
    seen = {link["uri"] for link in links}
    for title in data.desired_occupations:
        link = _normalised(normalizer, title)
        if link is not None and link["uri"] not in seen:
            seen.add(link["uri"])
            links.append(link)
    return links


def _inferred(
    normalizer: Normalizer | None,
    field: str,
    text: str | None,
    exclude: set[str],
    limit: int | None = None,
) -> list[dict[str, Any]]:
    if normalizer is None or not text:
        return []
    kw: dict[str, Any] = {"min_score": normalizer.thresholds.infer}
    if limit is not None:
        kw["limit"] = limit
    return [
        {
            "uri": o.uri,
            "preferred_label": o.preferred_label,
            "isco_code": o.isco_code,
            "score": o.score,
            "field": field,
            "start": o.evidence.start,
            "end": o.evidence.end,
            "snippet": o.evidence.snippet,
            "via": o.via,
        }
        for o in infer_occupations(text, normalizer, exclude=exclude, **kw)
    ]


def infer_candidate(
    session: Session, index: OccupationIndex, data: CandidateIn, links: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The occupations read from the candidate's CV, without those its ``links`` state."""
    exclude = {link["uri"] for link in links}
    return _inferred(index.get(session), "cv_text", data.cv_text, exclude)


def infer_vacancy(
    session: Session, index: OccupationIndex, data: VacancyIn, link: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The occupations read from a vacancy whose ``occupation`` is empty: from the title, or
    when the title names none (neither its ``link`` nor a piece of it), from the description.
    The URI of ``link`` is never repeated."""
    if data.occupation or data.esco_uri:
        return []
    normalizer = index.get(session)
    exclude = {link["uri"]} if link else set()
    limit = VACANCY_MAX_OCCUPATIONS
    from_title = _inferred(normalizer, "title", data.title, exclude, limit)
    if from_title or link is not None:
        return from_title
    return _inferred(normalizer, "description", data.description, exclude, limit)
