"""The process's matcher, derived from the database and kept in step through the change log.

At start-up the indexes are rebuilt from the stored vectors (no model call). Every write
appends to ``change_log`` in its transaction; before a match query, and after each of its own
writes, a process applies the log entries it has not seen yet, by re-reading the current state
of the rows they name. Applying is idempotent, so entries may be seen twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from matching.embedder import Encoder
from matching.focus import FocusOccupation as FocusDef
from matching.geo import PostcodeLocator
from matching.matcher import Matcher
from matching.profiles import CandidateFacts, VacancyFacts, make_side, resolve_location
from service.crud import CANDIDATES, VACANCIES, Kind
from service.models import Candidate, ChangeLog, FocusOccupation, Vacancy

log = logging.getLogger(__name__)

LOAD_BATCH = 2000


def decode_vector(blob: bytes, dim: int) -> np.ndarray:
    vec = np.frombuffer(blob, dtype="<f4")
    if vec.shape != (dim,):
        raise ValueError(f"stored vector has {vec.size} values, index expects {dim}")
    return vec


class IndexState:
    """Owns the :class:`Matcher` of one process and its change-log position."""

    def __init__(
        self, engine: Engine, encoder: Encoder, locator: PostcodeLocator, focus_threshold: float
    ) -> None:
        self.engine = engine
        self.encoder = encoder
        self.locator = locator
        self.focus_threshold = focus_threshold
        self.matcher = Matcher(encoder.dim)
        self.last_seq = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ facts from rows

    def candidate_facts(self, row: Candidate) -> CandidateFacts:
        assert row.id is not None
        side = make_side(
            occupations=row.desired_occupations,
            skills=row.skills,
            text=row.cv_text,
            location=resolve_location(self.locator, row.postcode, row.lat, row.lon),
            focus=self.matcher.focus,
        )
        return CandidateFacts(
            id=row.id,
            external_id=row.external_id,
            side=side,
            skills=tuple(row.skills),
            languages=tuple(row.languages),
            ladder_step=row.participation_ladder_step,
            client_group=row.client_group,
            active=row.active,
            hours_min=row.hours_per_week_min,
            hours_max=row.hours_per_week_max,
            max_travel_km=row.max_travel_km,
            driving_licence=row.driving_licence,
            caseworker_id=row.caseworker_id,
        )

    def vacancy_facts(self, row: Vacancy) -> VacancyFacts:
        assert row.id is not None
        side = make_side(
            occupations=[t for t in (row.title, row.occupation) if t],
            skills=row.skills,
            text=row.description,
            location=resolve_location(self.locator, row.postcode, row.lat, row.lon),
            focus=self.matcher.focus,
        )
        return VacancyFacts(
            id=row.id,
            employer_id=row.employer_id,
            external_id=row.external_id,
            title=row.title,
            side=side,
            skills=tuple(row.skills),
            languages=tuple(row.languages),
            hours=row.hours_per_week,
            requires_driving_licence=row.requires_driving_licence,
            kind=row.kind,
            status=row.status,
            occupation=row.occupation,
            closes_on=row.closes_on,
        )

    # ------------------------------------------------------------ loading

    def _load(self, session: Session, kind: Kind, ids: Iterable[int] | None) -> None:
        """(Re)load rows ``ids`` (all rows when None) with their current-model vectors."""
        table, emb = kind.table, kind.embedding
        coll = self.matcher.candidates if kind is CANDIDATES else self.matcher.vacancies
        make = self.candidate_facts if kind is CANDIDATES else self.vacancy_facts
        wanted = None if ids is None else sorted(set(ids))
        chunks: list[Sequence[int] | None] = (
            [None]
            if wanted is None
            else [wanted[i : i + LOAD_BATCH] for i in range(0, len(wanted), LOAD_BATCH)]
        )
        for chunk in chunks:
            stmt: Any = select(table, emb.vector).join(  # type: ignore[attr-defined]
                emb,
                (getattr(emb, kind.fk) == table.id)  # type: ignore[attr-defined]
                & (emb.model_id == self.encoder.model_id),  # type: ignore[attr-defined]
                isouter=True,
            )
            if chunk is not None:
                stmt = stmt.where(col(table.id).in_(chunk))  # type: ignore[attr-defined]
            items = []
            for row, blob in session.exec(stmt):
                if blob is None:
                    continue  # no vector for this model yet: not matchable until re-embedded
                items.append((make(row), decode_vector(blob, self.encoder.dim)))
            coll.upsert(items)
            indexed = {f.id for f, _ in items}
            gone = (set(chunk) if chunk is not None else set(coll.facts)) - indexed
            coll.remove(sorted(gone))

    def load_focus(self, session: Session) -> None:
        """Replace the focus-occupation list from the database (facts built later use it)."""
        self._load_focus(session)

    def _load_focus(self, session: Session) -> None:
        rows = session.exec(select(FocusOccupation).order_by(FocusOccupation.slug)).all()
        defs = [FocusDef(slug=r.slug, name=r.name, synonyms=tuple(r.synonyms)) for r in rows]
        self.matcher.set_focus(defs, self.focus_threshold)

    def rebuild(self) -> None:
        """Rebuild both indexes from the stored vectors and move to the latest log entry."""
        with self._lock, Session(self.engine) as session:
            latest = session.exec(select(func.max(ChangeLog.seq))).one() or 0
            self.matcher = Matcher(self.encoder.dim)
            self._load_focus(session)
            self._load(session, CANDIDATES, None)
            self._load(session, VACANCIES, None)
            self.last_seq = int(latest)
        log.info(
            "indexes rebuilt: %d candidates, %d vacancies, change-log seq %d",
            len(self.matcher.candidates),
            len(self.matcher.vacancies),
            self.last_seq,
        )

    def catch_up(self, session: Session) -> None:
        """Apply change-log entries after ``last_seq`` (one cheap query when there are none)."""
        latest = session.exec(select(func.max(ChangeLog.seq))).one() or 0
        if latest <= self.last_seq:
            return
        with self._lock:
            entries = session.exec(
                select(ChangeLog.seq, ChangeLog.entity, ChangeLog.entity_id)
                .where(col(ChangeLog.seq) > self.last_seq)
                .order_by(col(ChangeLog.seq))
            ).all()
            if not entries:
                return
            touched: dict[str, set[int]] = {"candidate": set(), "vacancy": set(), "focus": set()}
            for _, entity, entity_id in entries:
                touched.setdefault(entity, set()).add(entity_id)
            if touched["focus"]:
                self._load_focus(session)
            self._load(session, CANDIDATES, touched["candidate"])
            self._load(session, VACANCIES, touched["vacancy"])
            self.last_seq = max(seq for seq, _, _ in entries if seq is not None)
