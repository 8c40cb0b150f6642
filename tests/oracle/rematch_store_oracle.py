"""The row-at-a-time store of a rematch batch, as the product had it before
:mod:`service.store.rematch_store` (a list of match rows inserted through SQLAlchemy, the rows of
erased candidates and vacancies left out). Kept outside the product as the test oracle of the
bulk store (tests/store/test_rematch_store.py checks both store the same rows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, insert, select
from sqlmodel import Session, col

from matching.rematch import FOR_VACANCY, MatchRow
from service.store import crud
from service.store.models import Candidate, Vacancy
from service.store.rematch_models import RematchBatch, RematchMatch

log = logging.getLogger(__name__)

EXISTS_CHUNK = 1000


@dataclass(frozen=True)
class BatchSpec:
    """A batch of queries: positions ``start:stop`` in the query side's arrays (the unit the
    product stored, and computed, one at a time)."""

    direction: int
    start: int
    stop: int


def _existing_ids(session: Session, table: Any, ids: set[int]) -> set[int]:
    wanted = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(wanted), EXISTS_CHUNK):
        chunk = wanted[start : start + EXISTS_CHUNK]
        found.update(session.execute(select(table.id).where(col(table.id).in_(chunk))).scalars())
    return found


def _not_erased(session: Session, rows: list[MatchRow]) -> list[MatchRow]:
    """The rows whose candidate and vacancy still exist (as seen inside the caller's write
    transaction, under the erasure lock)."""
    if not rows:
        return rows
    cands = _existing_ids(session, Candidate, {r.candidate_id for r in rows})
    vacs = _existing_ids(session, Vacancy, {r.vacancy_id for r in rows})
    kept = [r for r in rows if r.candidate_id in cands and r.vacancy_id in vacs]
    if len(kept) < len(rows):
        log.info(
            "rematch batch: %d matches of rows erased during the run left out",
            len(rows) - len(kept),
        )
    return kept


def store_batch(
    engine: Engine, run_id: int, spec: BatchSpec, query_ids: np.ndarray, rows: list[MatchRow]
) -> None:
    lo, hi = int(query_ids[spec.start]), int(query_ids[spec.stop - 1])
    qcol = RematchMatch.vacancy_id if spec.direction == FOR_VACANCY else RematchMatch.candidate_id
    with Session(engine) as session:
        crud.hold_erasure_lock(session, shared=True)
        session.execute(
            delete(RematchMatch).where(
                col(RematchMatch.run_id) == run_id,
                col(RematchMatch.direction) == spec.direction,
                col(qcol) >= lo,
                col(qcol) <= hi,
            )
        )
        session.execute(
            delete(RematchBatch).where(
                col(RematchBatch.run_id) == run_id,
                col(RematchBatch.direction) == spec.direction,
                col(RematchBatch.lo_id) == lo,
            )
        )
        # after the first write: on SQLite this transaction now holds the write lock
        rows = _not_erased(session, rows)
        if rows:
            session.execute(
                insert(RematchMatch),
                [{"run_id": run_id, **r._asdict()} for r in rows],
            )
        session.execute(
            insert(RematchBatch),
            [
                {
                    "run_id": run_id,
                    "direction": spec.direction,
                    "lo_id": lo,
                    "hi_id": hi,
                    "queries": spec.stop - spec.start,
                }
            ],
        )
        session.commit()
