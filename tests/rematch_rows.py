"""The stored matches of a rematch run, as comparable rows: the rematch tests compare runs
(full, incremental, resumed, on a Dask cluster) by exactly these."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.store.rematch_models import RematchMatch


def stored_matches(engine: Engine, run_id: int | None) -> list[tuple[object, ...]]:
    """Every match ``run_id`` stored (direction, vacancy, candidate, rank, score and its three
    parts), sorted."""
    with Session(engine) as s:
        rows = s.execute(
            select(
                RematchMatch.direction,
                RematchMatch.vacancy_id,
                RematchMatch.candidate_id,
                RematchMatch.rank,
                RematchMatch.score,
                RematchMatch.semantic,
                RematchMatch.lexical,
                RematchMatch.occupation,
            ).where(RematchMatch.run_id == run_id)
        ).all()
    return sorted(tuple(r) for r in rows)
