"""ESCO occupations in the database: import, and the normaliser built over them.

The normaliser (``matching.occupations.OccupationNormalizer``) is built from the
``esco_occupation`` table on first use and rebuilt when the table changes (another process,
such as ``werkmatch occupations import``, may have written it).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from matching.esco import EscoOccupationRecord
from matching.occupations import OccupationConcept, OccupationNormalizer
from service.models import EscoOccupation, utcnow

__all__ = ["OccupationIndex", "import_occupations", "load_concepts"]

_FIELDS = (
    "preferred_label",
    "alt_labels",
    "hidden_labels",
    "isco_code",
    "isco_label",
    "code",
    "description",
)


def _values(record: EscoOccupationRecord) -> dict[str, object]:
    return {
        "preferred_label": record.preferred_label,
        "alt_labels": list(record.alt_labels),
        "hidden_labels": list(record.hidden_labels),
        "isco_code": record.isco_code,
        "isco_label": record.isco_label,
        "code": record.code,
        "description": record.description,
    }


def import_occupations(session: Session, records: Sequence[EscoOccupationRecord]) -> dict[str, int]:
    """Upsert occupations by URI in one transaction; rows not in ``records`` are kept.

    Returns counts of created, updated and unchanged rows.
    """
    existing = {row.uri: row for row in session.exec(select(EscoOccupation)).all()}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    now = utcnow()
    for record in records:
        values = _values(record)
        row = existing.get(record.uri)
        if row is None:
            session.add(EscoOccupation(uri=record.uri, updated_at=now, **values))
            counts["created"] += 1
        elif any(getattr(row, name) != values[name] for name in _FIELDS):
            for name in _FIELDS:
                setattr(row, name, values[name])
            row.updated_at = now
            session.add(row)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    session.commit()
    return counts


def load_concepts(session: Session) -> list[OccupationConcept]:
    """All stored occupations as normaliser concepts, in URI order (preferred label first)."""
    rows = session.exec(select(EscoOccupation).order_by(EscoOccupation.uri)).all()
    return [
        OccupationConcept(
            uri=row.uri,
            preferred_label=row.preferred_label,
            labels=(row.preferred_label, *row.alt_labels, *row.hidden_labels),
            isco_code=row.isco_code,
        )
        for row in rows
    ]


class OccupationIndex:
    """The process's normaliser over the stored occupations, rebuilt when they change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[int, datetime | None] | None = None
        self._normalizer: OccupationNormalizer | None = None
        self._isco_labels: dict[str, str] = {}

    @staticmethod
    def _current_version(session: Session) -> tuple[int, datetime | None]:
        count, latest = session.exec(
            select(func.count(EscoOccupation.id), func.max(EscoOccupation.updated_at))  # type: ignore[arg-type]
        ).one()
        return int(count), latest

    def get(self, session: Session) -> OccupationNormalizer | None:
        """The normaliser, or None when no occupations are stored."""
        version = self._current_version(session)
        with self._lock:
            if version != self._version:
                concepts = load_concepts(session) if version[0] else []
                self._normalizer = OccupationNormalizer(concepts) if concepts else None
                rows = session.exec(
                    select(EscoOccupation.isco_code, EscoOccupation.isco_label).distinct()
                ).all()
                self._isco_labels = {c: lbl for c, lbl in rows if c and lbl}
                self._version = version
            return self._normalizer

    def isco_label(self, code: str | None) -> str | None:
        """The ISCO-08 group title of ``code`` as imported (None when unknown)."""
        return self._isco_labels.get(code) if code else None
