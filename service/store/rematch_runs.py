"""Rematch run rows: the single running slot, a run's record and its committed batches, the
rows a run loads, the diff against an earlier run, retention, and the new matches the API
reports. How a run proceeds is :mod:`service.batch.rematch_runs`; storing its lists is
:mod:`service.store.rematch_store`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, and_, delete, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from matching.rematch import FOR_CANDIDATE, FOR_VACANCY
from service.store.candidate_scopes import CandidateBounds
from service.store.models import Candidate, CandidateEmbedding, Vacancy, VacancyEmbedding
from service.store.rematch_models import (
    MatchStatus,
    RematchBatch,
    RematchMatch,
    RematchRun,
    RematchState,
)
from service.store.rematch_store import MATCH_COLUMNS

# rows per fetch when a run streams the rows it loads
_LOAD_BATCH = 2000


def find_run(session: Session, run_id: int) -> RematchRun | None:
    """The run's record; None when it never existed or was pruned."""
    return session.get(RematchRun, run_id)


def active_run(session: Session) -> RematchRun | None:
    """The run holding the single running slot, if any."""
    return (
        session.execute(select(RematchRun).where(col(RematchRun.active_slot) == 1))
        .scalars()
        .first()
    )


def take_over_run(
    session: Session, run_id: int, previous_owner: str, owner: str, now: datetime
) -> bool:
    """Give the running run ``run_id`` to ``owner`` (a fresh heartbeat, one more resumption)
    if ``previous_owner`` still holds it, and commit; False when another process took it first."""
    taken = session.execute(
        update(RematchRun)
        .where(
            col(RematchRun.id) == run_id,
            col(RematchRun.owner) == previous_owner,
            col(RematchRun.active_slot) == 1,
        )
        .values(owner=owner, heartbeat_at=now, resumed=RematchRun.resumed + 1)
    )
    session.commit()
    return cast(CursorResult[Any], taken).rowcount == 1


def open_run(session: Session, top_k: int, owner: str) -> int | None:
    """A new run in the running slot, committed; its id, or None (rolled back) when another
    run took the slot at the same moment."""
    run = RematchRun(top_k=top_k, owner=owner)
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    assert run.id is not None
    return run.id


def update_run(engine: Engine, run_id: int, **values: Any) -> None:
    """Set these columns of the run's record, in a transaction of its own."""
    with Session(engine) as session:
        session.execute(update(RematchRun).where(col(RematchRun.id) == run_id).values(**values))
        session.commit()


def committed_batches(engine: Engine, run_id: int) -> dict[int, list[tuple[int, int]]]:
    """Per direction, the (lo_id, hi_id) query ranges of the run's batches committed so far."""
    with Session(engine) as session:
        rows = session.execute(
            select(
                col(RematchBatch.direction), col(RematchBatch.lo_id), col(RematchBatch.hi_id)
            ).where(col(RematchBatch.run_id) == run_id)
        ).all()
    out: dict[int, list[tuple[int, int]]] = {FOR_VACANCY: [], FOR_CANDIDATE: []}
    for d, lo, hi in rows:
        out[d].append((lo, hi))
    return out


def candidates_with_vectors(
    session: Session, model_id: str, placed_leave_pool: bool
) -> Iterator[tuple[Candidate, bytes]]:
    """Active candidates with their vector of ``model_id`` (those without one are left out),
    by id, streamed; without the placed ones when ``placed_leave_pool``."""
    stmt: Any = (
        select(Candidate, col(CandidateEmbedding.vector))
        .join(
            CandidateEmbedding,
            (col(CandidateEmbedding.candidate_id) == Candidate.id)
            & (col(CandidateEmbedding.model_id) == model_id),
        )
        .where(col(Candidate.active).is_(True))
        .order_by(col(Candidate.id))
    )
    if placed_leave_pool:
        placed = select(col(MatchStatus.candidate_id)).where(col(MatchStatus.status) == "placed")
        stmt = stmt.where(col(Candidate.id).not_in(placed))
    yield from session.execute(stmt.execution_options(yield_per=_LOAD_BATCH))


def vacancies_with_vectors(session: Session, model_id: str) -> Iterator[tuple[Vacancy, bytes]]:
    """Open vacancies with their vector of ``model_id`` (those without one are left out), by
    id, streamed."""
    stmt: Any = (
        select(Vacancy, col(VacancyEmbedding.vector))
        .join(
            VacancyEmbedding,
            (col(VacancyEmbedding.vacancy_id) == Vacancy.id)
            & (col(VacancyEmbedding.model_id) == model_id),
        )
        .where(col(Vacancy.status) == "open")
        .order_by(col(Vacancy.id))
    )
    yield from session.execute(stmt.execution_options(yield_per=_LOAD_BATCH))


def latest_success(session: Session) -> int | None:
    """The id of the newest successful run; None before any run succeeded."""
    return session.execute(
        select(func.max(RematchRun.id)).where(col(RematchRun.state) == "succeeded")
    ).scalar()


def previous_success(session: Session, before_run: int) -> int | None:
    """The id of the newest successful run before ``before_run``; None when there is none."""
    return session.execute(
        select(func.max(RematchRun.id)).where(
            col(RematchRun.state) == "succeeded", col(RematchRun.id) < before_run
        )
    ).scalar()


def count_matches(session: Session, run_id: int) -> int:
    """How many matches the run stored (both directions)."""
    return int(
        session.execute(select(func.count()).where(col(RematchMatch.run_id) == run_id)).scalar_one()
    )


def diff_counts(session: Session, run_id: int, base_run: int | None) -> dict[str, int]:
    """Distinct (vacancy, candidate) pairs of ``run_id`` that are new / unchanged vs
    ``base_run``, and pairs of ``base_run`` that disappeared."""
    pairs = text(
        "SELECT COUNT(*) FROM (SELECT DISTINCT vacancy_id, candidate_id FROM rematch_match "
        "WHERE run_id = :r) AS p"
    )
    total = session.execute(pairs, {"r": run_id}).scalar_one()
    if base_run is None:
        return {"pairs": total, "new": total, "unchanged": 0, "disappeared": 0}
    base_total = session.execute(pairs, {"r": base_run}).scalar_one()
    common = session.execute(
        text(
            "SELECT COUNT(*) FROM (SELECT DISTINCT vacancy_id, candidate_id FROM rematch_match a "
            "WHERE a.run_id = :r AND EXISTS (SELECT 1 FROM rematch_match b WHERE b.run_id = :b "
            "AND b.vacancy_id = a.vacancy_id AND b.candidate_id = a.candidate_id)) AS p"
        ),
        {"r": run_id, "b": base_run},
    ).scalar_one()
    return {
        "pairs": total,
        "new": total - common,
        "unchanged": common,
        "disappeared": base_total - common,
    }


def prune(engine: Engine, keep: int) -> int:
    """Delete finished runs beyond the newest ``keep`` (never a running one) with their
    matches, batches and saved state, in one transaction; returns how many."""
    with Session(engine) as session:
        ids = (
            session.execute(
                select(col(RematchRun.id))
                .where(col(RematchRun.state) != "running")
                .order_by(col(RematchRun.id).desc())
                .offset(keep)
            )
            .scalars()
            .all()
        )
        for table in (RematchMatch, RematchBatch, RematchState):
            session.execute(delete(table).where(col(table.run_id).in_(ids)))
        session.execute(delete(RematchRun).where(col(RematchRun.id).in_(ids)))
        session.commit()
    return len(ids)


def _new_pairs(
    session: Session, run_id: int, base_run: int | None, where: Any
) -> list[RematchMatch]:
    stmt = select(RematchMatch).where(col(RematchMatch.run_id) == run_id, where)
    if base_run is not None:
        b = RematchMatch.__table__.alias("b")  # type: ignore[attr-defined]  # SQLModel does not declare the __table__ SQLAlchemy sets
        stmt = stmt.where(
            ~exists().where(
                and_(
                    b.c.run_id == base_run,
                    b.c.vacancy_id == RematchMatch.vacancy_id,
                    b.c.candidate_id == RematchMatch.candidate_id,
                )
            )
        )
    stmt = stmt.where(
        ~exists().where(
            and_(
                col(MatchStatus.vacancy_id) == RematchMatch.vacancy_id,
                col(MatchStatus.candidate_id) == RematchMatch.candidate_id,
                col(MatchStatus.status) == "rejected",
            )
        )
    )
    best: dict[tuple[int, int], RematchMatch] = {}
    for (m,) in session.execute(stmt):
        key = (m.vacancy_id, m.candidate_id)
        if key not in best or (m.score, -m.direction) > (best[key].score, -best[key].direction):
            best[key] = m
    return sorted(best.values(), key=lambda m: (-m.score, m.vacancy_id, m.candidate_id))


def new_pairs_of_caseworker(
    session: Session, run_id: int, base_run: int | None, caseworker_id: str, bounds: CandidateBounds
) -> list[RematchMatch]:
    """Matches of ``run_id`` of this caseworker's candidates inside ``bounds`` whose pair is
    not in ``base_run`` and not rejected; one per pair (the better-scored direction), best
    first."""
    mine = select(col(Candidate.id)).where(
        col(Candidate.caseworker_id) == caseworker_id, *bounds.where()
    )
    return _new_pairs(session, run_id, base_run, col(RematchMatch.candidate_id).in_(mine))


def new_pairs_of_vacancy(
    session: Session, run_id: int, base_run: int | None, vacancy_id: int, bounds: CandidateBounds
) -> list[RematchMatch]:
    """Matches of ``run_id`` of this vacancy (internal id) and candidates inside ``bounds``
    whose pair is not in ``base_run`` and not rejected; one per pair (the better-scored
    direction), best first."""
    where = col(RematchMatch.vacancy_id) == vacancy_id
    members = bounds.members()
    if members is not None:
        where = and_(where, col(RematchMatch.candidate_id).in_(members))
    return _new_pairs(session, run_id, base_run, where)


def record_finished_run(engine: Engine, top_k: int, owner: str) -> int:
    """A run recorded as succeeded without running (its matches are written by the caller),
    out of the running slot; its id. Two transactions: the insert, then the slot's release."""
    with Session(engine) as session:
        run = RematchRun(top_k=top_k, owner=owner, state="succeeded")
        session.add(run)
        session.commit()
        assert run.id is not None
        session.execute(
            update(RematchRun).where(col(RematchRun.id) == run.id).values(active_slot=None)
        )
        session.commit()
        return run.id


def differing_match_rows(engine: Engine, a: int, b: int) -> int:
    """How many stored match rows (every column but the run id) one of runs ``a`` and ``b``
    has and the other has not, both ways."""
    cols = ", ".join(MATCH_COLUMNS[1:])
    sql = (
        f"SELECT COUNT(*) FROM (SELECT {cols} FROM rematch_match WHERE run_id = :a "
        f"EXCEPT SELECT {cols} FROM rematch_match WHERE run_id = :b) AS d"
    )
    with Session(engine) as session:
        one = session.execute(text(sql), {"a": a, "b": b}).scalar_one()
        other = session.execute(text(sql), {"a": b, "b": a}).scalar_one()
    return int(one) + int(other)
