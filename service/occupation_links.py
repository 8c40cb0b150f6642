"""Link vacancies and candidates' desired occupations to ESCO occupations on write.

A vacancy gets one link: the caller's ``esco_uri`` if given, else the best ESCO occupation for
its ``occupation`` field, else for its title. A candidate gets one link per caller URI in
``desired_esco_uris`` and then one per desired occupation. A normalised link is kept only when
its score reaches ``LINK_MIN_SCORE``; links are stored with their score and source, so the
ranking and its explanation can say how sure the link is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from matching.occupations import OccupationNormalizer
from service.errors import InvalidParameter
from service.models import CandidateIn, EscoOccupation, VacancyIn
from service.occupations import OccupationIndex

__all__ = [
    "LINK_MIN_SCORE",
    "check_caller_uris",
    "check_focus_uris",
    "link_candidate",
    "link_vacancy",
]

LINK_MIN_SCORE = 0.6
"""Below this normalisation score a title is not linked: a wrong ESCO link costs more in the
ranking than no link (the fuzzy title signal still applies)."""


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


def _normalised(normalizer: OccupationNormalizer | None, text: str | None) -> dict[str, Any] | None:
    if normalizer is None or not text:
        return None
    hits = normalizer.normalize(text, 1)
    if not hits or hits[0].score < LINK_MIN_SCORE:
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


def relink_all(session: Session, index: OccupationIndex) -> dict[str, int]:
    """Recompute the ESCO links of every stored vacancy and candidate (after an import).

    Rows whose links change are logged in the change log, so running apps re-index them.
    Returns how many rows of each kind changed.
    """
    from service import crud  # crud imports this module

    changed = {"vacancies": 0, "candidates": 0}
    for name, kind in (("vacancies", crud.VACANCIES), ("candidates", crud.CANDIDATES)):
        for row in session.exec(select(kind.table)).all():
            data = crud.stored_input(kind, row)
            if kind is crud.VACANCIES:
                link = link_vacancy(session, index, data)  # type: ignore[arg-type]
                if link == row.occupation_esco:
                    continue
                row.occupation_esco = link
            else:
                links = link_candidate(session, index, data)  # type: ignore[arg-type]
                if links == row.desired_occupations_esco:
                    continue
                row.desired_occupations_esco = links
            session.add(row)
            crud.log_change(session, kind.name, row.id, "upsert")
            changed[name] += 1
    session.commit()
    return changed
