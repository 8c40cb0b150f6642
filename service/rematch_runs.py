"""Rematch runs against the database: the lock, embedding, batches, storing, diff, retention.

Run life cycle:
1. :func:`claim_run` takes the single running slot (``rematch_run.active_slot`` is unique), or
   takes over a run whose process is gone (same host: the pid is dead; another host: the
   heartbeat is older than ``rematch_stale_after_s``). A live run makes it raise
   :class:`RunConflict`.
2. :func:`execute_run` re-embeds rows whose text changed, loads facts and vectors, and computes
   the batches that are not committed yet. Each batch's matches and its ``rematch_batch`` row
   commit in one transaction (after deleting any rows of the same query range), so a batch is
   either fully stored or absent, and re-doing it is idempotent: a killed run resumes with no
   duplicate or lost matches. A batch stores no match of a candidate or vacancy erased since
   the run loaded it (checked in the storing transaction, see
   :func:`service.crud.hold_erasure_lock`).
3. On success the run is diffed against the previous successful run, the slot is released and
   runs beyond the last ``rematch_keep_runs`` are pruned.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Engine, and_, delete, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from matching.embedder import Embedded, Encoder
from matching.geo import PostcodeLocator
from matching.rematch import (
    FOR_CANDIDATE,
    FOR_VACANCY,
    BatchSpec,
    DaskExecutor,
    Executor,
    LocalExecutor,
    SideArrays,
    plan_batches,
)
from service import crud
from service.config import Settings
from service.errors import WerkmatchError
from service.index_state import IndexState, decode_vector, latest_seq
from service.models import Candidate, CandidateEmbedding, Vacancy, VacancyEmbedding, utcnow
from service.rematch_models import (
    MatchStatus,
    RematchBatch,
    RematchMatch,
    RematchRun,
    RematchState,
)
from service.rematch_store import (
    ChangeSet,
    StoreStats,
    detect_changes,
    full_changes,
    latest_state,
    save_state,
    settings_key,
    store_topk,
    topk_from_rows,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (batches done, batches total)


class RunConflict(WerkmatchError):
    """Another rematch run is in progress."""

    status_code = 409
    error = "rematch_running"


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def owner_alive(owner: str, heartbeat: datetime, stale_after_s: float) -> bool:
    """Whether the process named ``owner`` (host:pid) may still be running its run."""
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return utcnow() - _aware(heartbeat) < timedelta(seconds=stale_after_s)


def claim_run(engine: Engine, top_k: int, stale_after_s: float) -> tuple[int, bool]:
    """Start a run or take over an orphaned one; returns (run id, resumed).

    A taken-over run keeps its own ``top_k``.

    Raises:
        RunConflict: a run is in progress in a live process.
    """
    me = owner_id()
    with Session(engine) as session:
        current = (
            session.execute(select(RematchRun).where(col(RematchRun.active_slot) == 1))
            .scalars()
            .first()
        )
        if current is not None:
            assert current.id is not None
            if owner_alive(current.owner, current.heartbeat_at, stale_after_s):
                # Which host and process runs it is for the operator's log, not for the caller.
                log.info("rematch run %d is in progress in %s", current.id, current.owner)
                raise RunConflict(
                    f"rematch run {current.id} is in progress (started "
                    f"{current.started_at.isoformat()}); try again when it has finished"
                )
            # the commit expires ``current``: keep what the log line needs
            run_id, previous_owner = current.id, current.owner
            taken = session.execute(
                update(RematchRun)
                .where(
                    col(RematchRun.id) == current.id,
                    col(RematchRun.owner) == current.owner,
                    col(RematchRun.active_slot) == 1,
                )
                .values(owner=me, heartbeat_at=utcnow(), resumed=RematchRun.resumed + 1)
            )
            session.commit()
            if taken.rowcount != 1:
                raise RunConflict(
                    f"rematch run {current.id} was just taken over by another process"
                )
            log.warning("took over rematch run %d from %s", run_id, previous_owner)
            return run_id, True
        run = RematchRun(top_k=top_k, owner=me)
        session.add(run)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise RunConflict("another rematch run started at the same moment") from None
        assert run.id is not None
        return run.id, False


@dataclass
class Loaded:
    candidates: SideArrays
    vacancies: SideArrays


class _CountingEncoder:
    """Passes embedding to the executor and counts the texts the model really saw."""

    def __init__(self, model_id: str, dim: int, embed: Callable[[Sequence[str]], Embedded]) -> None:
        self.model_id, self.dim, self._embed = model_id, dim, embed
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> Embedded:
        self.embedded += len(texts)
        return self._embed(texts)


def refresh_vectors(
    session: Session,
    encoder: Encoder,
    executor: Executor,
    batch: int,
    heartbeat: Callable[[], None] | None = None,
) -> dict:
    """Re-embed rows whose text changed since their vector (or that have none)."""
    counting = _CountingEncoder(encoder.model_id, encoder.dim, executor.embed)
    counts: dict[str, int] = {}
    for kind, key in ((crud.CANDIDATES, "candidates"), (crud.VACANCIES, "vacancies")):
        ids = crud.outdated_ids(session=session, kind=kind, model_id=encoder.model_id)
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            try:
                crud.reembed(session=session, kind=kind, ids=chunk, encoder=counting)  # type: ignore[arg-type]
            except IntegrityError:
                # a row of the chunk was erased while its text was being embedded: its vector
                # may not be stored (foreign key); the rows still there are embedded again
                session.rollback()
                crud.reembed(session=session, kind=kind, ids=chunk, encoder=counting)  # type: ignore[arg-type]
            if heartbeat is not None:
                heartbeat()
        counts[f"outdated_{key}"] = len(ids)
    counts["texts_embedded"] = counting.embedded
    return counts


def load_sides(
    session: Session, encoder: Encoder, locator: PostcodeLocator, settings: Settings
) -> Loaded:
    """Active candidates and open vacancies with their current-model vectors, sorted by id."""
    facts_of = IndexState(session.get_bind(), encoder, locator, settings.focus_threshold)  # type: ignore[arg-type]
    facts_of.load_focus(session)
    cand_stmt: Any = (
        select(Candidate, CandidateEmbedding.vector)
        .join(
            CandidateEmbedding,
            (col(CandidateEmbedding.candidate_id) == Candidate.id)
            & (col(CandidateEmbedding.model_id) == encoder.model_id),
        )
        .where(col(Candidate.active).is_(True))
        .order_by(col(Candidate.id))
    )
    if settings.rematch_placed_leave_pool:
        placed = select(MatchStatus.candidate_id).where(col(MatchStatus.status) == "placed")
        cand_stmt = cand_stmt.where(col(Candidate.id).not_in(placed))
    vac_stmt: Any = (
        select(Vacancy, VacancyEmbedding.vector)
        .join(
            VacancyEmbedding,
            (col(VacancyEmbedding.vacancy_id) == Vacancy.id)
            & (col(VacancyEmbedding.model_id) == encoder.model_id),
        )
        .where(col(Vacancy.status) == "open")
        .order_by(col(Vacancy.id))
    )

    def side(stmt: Any, make: Callable[[Any], Any]) -> SideArrays:
        facts, vecs = [], []
        for row, blob in session.execute(stmt.execution_options(yield_per=2000)):
            facts.append(make(row))
            vecs.append(decode_vector(blob, encoder.dim))
        ids = np.array([f.id for f in facts], dtype=np.int64)
        matrix = np.stack(vecs) if vecs else np.zeros((0, encoder.dim), dtype=np.float32)
        return SideArrays(
            ids, np.ascontiguousarray(matrix, dtype=np.float32), facts, encoder.model_id
        )

    return Loaded(
        candidates=side(cand_stmt, facts_of.candidate_facts),
        vacancies=side(vac_stmt, facts_of.vacancy_facts),
    )


def _committed(engine: Engine, run_id: int) -> dict[int, list[tuple[int, int]]]:
    with Session(engine) as session:
        rows = session.execute(
            select(RematchBatch.direction, RematchBatch.lo_id, RematchBatch.hi_id).where(
                col(RematchBatch.run_id) == run_id
            )
        ).all()
    out: dict[int, list[tuple[int, int]]] = {FOR_VACANCY: [], FOR_CANDIDATE: []}
    for d, lo, hi in rows:
        out[d].append((lo, hi))
    return out


def _update_run(engine: Engine, run_id: int, **values: Any) -> None:
    with Session(engine) as session:
        session.execute(update(RematchRun).where(col(RematchRun.id) == run_id).values(**values))
        session.commit()


def previous_success(session: Session, before_run: int) -> int | None:
    return session.execute(
        select(func.max(RematchRun.id)).where(
            col(RematchRun.state) == "succeeded", col(RematchRun.id) < before_run
        )
    ).scalar()


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
    """Delete finished runs beyond the newest ``keep`` (never a running one); returns how many."""
    with Session(engine) as session:
        ids = (
            session.execute(
                select(RematchRun.id)
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


def run_error(exc: BaseException) -> str:
    """What a failed run records (and ``GET /v1/rematch-runs/{id}`` shows) about its error.

    Our own errors say what went wrong in words meant for the caller; any other exception's
    text may hold SQL, parameter values (personal data) or paths, so only its type is kept here
    and the whole of it goes to the server log.
    """
    if isinstance(exc, WerkmatchError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (details in the server log)"


def execute_run(
    *,
    engine: Engine,
    run_id: int,
    encoder: Encoder,
    locator: PostcodeLocator,
    settings: Settings,
    executor: Executor,
    progress: Progress | None = None,
    full: bool | None = None,
) -> RematchRun:
    """Carry a claimed run to the end (see the module docstring); returns the final record.

    ``full``: True stores every list afresh; False is incremental (only the lists that differ
    from the previous successful run's are written, the rest copied in the database) and
    raises :class:`IncrementalImpossible` when that run left no usable state (see
    :func:`service.rematch_store.detect_changes`); None (default) is incremental when it can
    be. Both store the same matches. A resumed run keeps the choice it made first.

    On an exception the run is marked failed and the slot released; a killed process leaves it
    'running', to be taken over by the next :func:`claim_run`.
    """
    timings: dict[str, float] = {}
    counts: dict[str, Any] = {}
    try:
        with Session(engine) as session:
            run = session.get(RematchRun, run_id)
            assert run is not None
            top_k = run.top_k
            timings = dict(run.timings or {})
            chosen = (run.counts or {}).get("incremental")
            t = time.perf_counter()
            counts.update(
                refresh_vectors(
                    session,
                    encoder,
                    executor,
                    settings.embed_batch_size * 8,
                    lambda: _update_run(engine, run_id, heartbeat_at=utcnow()),
                )
            )
            timings["embedding"] = timings.get("embedding", 0.0) + time.perf_counter() - t
            t = time.perf_counter()
            # Every write up to seq_from is in what load_sides reads, none after seq_to (change
            # log entries commit in seq order); a resumed run widens the range over its loads.
            seq_from = latest_seq(session)
            sides = load_sides(session, encoder, locator, settings)
            seq_to = latest_seq(session)
            record = {
                "model_id": encoder.model_id,
                "change_seq_from": min(seq_from, run.change_seq_from or seq_from),
                "change_seq_to": max(seq_to, run.change_seq_to or seq_to),
            }
            timings["loading"] = timings.get("loading", 0.0) + time.perf_counter() - t
            cands, vacs = sides.candidates, sides.vacancies
            run_key = settings_key(encoder.model_id, top_k, settings)
            changes = _changes(session, run_id, run_key, vacs.ids, cands.ids, full, chosen)
        counts.update(candidates=len(cands), vacancies=len(vacs))
        counts.update(changes.as_counts())
        base_run = changes.base_run_id if changes.incremental else None
        done = _committed(engine, run_id)
        by_direction = {FOR_VACANCY: (vacs, cands), FOR_CANDIDATE: (cands, vacs)}
        specs: list[BatchSpec] = []
        for direction, (queries, targets) in by_direction.items():
            specs += plan_batches(
                direction,
                queries.ids,
                done[direction],
                len(targets),
                settings.rematch_batch_cells,
                settings.rematch_batch_max_queries,
            )
        already = sum(len(v) for v in done.values())
        total = already + len(specs)
        _update_run(
            engine, run_id, batches_total=total, batches_done=already, counts=counts,
            timings=timings, progress=already / total if total else 1.0, **record,
        )  # fmt: skip
        if progress is not None:
            progress(already, total)
        clock: dict[str, float] = {}
        storing = 0.0
        stored = StoreStats()
        finished = already
        t = time.perf_counter()
        for spec, rows, batch_clock in executor.run_batches(by_direction, specs, top_k):
            for k, v in batch_clock.items():
                clock[k] = clock.get(k, 0.0) + v
            s = time.perf_counter()
            queries = by_direction[spec.direction][0]
            topk = topk_from_rows(
                rows, spec.direction, queries.ids[spec.start : spec.stop], k=top_k
            )
            stored.add(store_topk(engine, run_id, topk, base_run=base_run))
            finished += 1
            _update_run(
                engine, run_id, batches_done=finished, progress=finished / total,
                heartbeat_at=utcnow(),
            )  # fmt: skip
            storing += time.perf_counter() - s
            if progress is not None:
                progress(finished, total)
        # search and ranking are summed over batches (over workers with Dask): compute time
        for key in ("search", "ranking"):
            timings[key] = timings.get(key, 0.0) + clock.get(key, 0.0)
        timings["storing"] = timings.get("storing", 0.0) + storing
        # this process's share of the store (a resumed run's earlier batches are not in it)
        counts["stored_rows_written"] = stored.written
        counts["stored_rows_carried"] = stored.carried
        timings["batches_wall"] = timings.get("batches_wall", 0.0) + time.perf_counter() - t
        t = time.perf_counter()
        with Session(engine) as session:
            base = previous_success(session, run_id)
            counts["previous_run_id"] = base
            counts["matches"] = session.execute(
                select(func.count()).where(col(RematchMatch.run_id) == run_id)
            ).scalar_one()
            counts.update(diff_counts(session, run_id, base))
            save_state(session, run_id, run_key, vacs.ids, cands.ids)
            session.commit()
        timings["diff"] = time.perf_counter() - t
        _update_run(
            engine, run_id, state="succeeded", active_slot=None, finished_at=utcnow(),
            counts=counts, timings={k: round(v, 3) for k, v in timings.items()}, progress=1.0,
        )  # fmt: skip
        counts["pruned_runs"] = prune(engine, settings.rematch_keep_runs)
        _update_run(engine, run_id, counts=counts)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise  # leave it 'running' to be resumed, like a killed process
        log.exception("rematch run %d failed", run_id)
        with Session(engine) as session:
            run = session.get(RematchRun, run_id)
            errors = [*(run.errors if run else []), run_error(exc)]
        _update_run(
            engine, run_id, state="failed", active_slot=None, finished_at=utcnow(),
            errors=errors, counts=counts, timings={k: round(v, 3) for k, v in timings.items()},
        )  # fmt: skip
        raise
    with Session(engine) as session:
        final = session.get(RematchRun, run_id)
        assert final is not None
        return final


class IncrementalImpossible(WerkmatchError):
    """An incremental run was asked for, but only a full run gives the right matches."""

    status_code = 409
    error = "rematch_incremental_impossible"


def incremental_blocker(
    session: Session, model_id: str, top_k: int, settings: Settings
) -> str | None:
    """Why a run started now could not be incremental, as far as is known before it loads the
    rows (no previous state, other settings); None when it can be."""
    state = latest_state(session)
    if state is None:
        return "no previous successful run saved its state"
    if state.key != settings_key(model_id, top_k, settings):
        return "the model, top-k or ranking settings changed since the previous run"
    return None


def _changes(
    session: Session,
    run_id: int,
    key: str,
    vacancy_ids: np.ndarray,
    candidate_ids: np.ndarray,
    full: bool | None,
    chosen: bool | None,
) -> ChangeSet:
    """The run's change set; ``chosen``: whether the run was incremental before it was resumed."""
    if chosen is not None:
        full = not chosen
    state = latest_state(session, before_run=run_id)
    if full:
        return full_changes("a full run was asked for", None if state is None else state.run_id)
    changes = detect_changes(
        session, state, key=key, vacancy_ids=vacancy_ids, candidate_ids=candidate_ids
    )
    if full is False and not changes.incremental:
        raise IncrementalImpossible(f"no incremental run: {changes.full_reason}")
    return changes


class SchedulerUnreachable(WerkmatchError):
    status_code = 503
    error = "scheduler_unreachable"


@contextmanager
def executor_for(settings: Settings, encoder: Encoder, scheduler: str | None) -> Iterator[Executor]:
    """In-process execution, or a Dask client on ``scheduler`` (e.g. ``tcp://host:8786``)."""
    if scheduler is None:
        yield LocalExecutor(encoder.embed)
        return
    from distributed import Client

    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerUnreachable(f"cannot reach Dask scheduler {scheduler}: {exc}") from None
    try:
        yield DaskExecutor(client, settings.encoder_args())
    finally:
        client.close()


def rematch_version(run: RematchRun) -> str | None:
    """The index version of a run's stored matches, in the format of the match endpoints'.

    ``<seq>:exact:exact``: the run compared every active candidate with every open vacancy
    exactly (no index), on the profiles as of change-log position ``seq``. When writes were
    committed while it read the profiles (or it was resumed and read them again), the position
    is a range ``<from>-<to>``: every write up to ``from`` is in the run, none after ``to``.
    None for runs from before Werkmatch recorded it.
    """
    lo, hi = run.change_seq_from, run.change_seq_to
    if lo is None or hi is None:
        return None
    return f"{lo}:exact:exact" if lo == hi else f"{lo}-{hi}:exact:exact"


def latest_success(session: Session) -> int | None:
    return session.execute(
        select(func.max(RematchRun.id)).where(col(RematchRun.state) == "succeeded")
    ).scalar()


def new_pairs(
    session: Session, run_id: int, base_run: int | None, where: Any
) -> list[RematchMatch]:
    """Matches of ``run_id`` (filtered by ``where``) whose pair is not in ``base_run`` and not
    rejected; one per pair (the better-scored direction), best first."""
    stmt = select(RematchMatch).where(col(RematchMatch.run_id) == run_id, where)
    if base_run is not None:
        b = RematchMatch.__table__.alias("b")  # type: ignore[attr-defined]
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
