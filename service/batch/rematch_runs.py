"""Rematch runs against the database: the lock, embedding, batches, storing, diff, retention.

Run life cycle:
1. :func:`claim_run` takes the single running slot (``rematch_run.active_slot`` is unique), or
   takes over a run whose process is gone (same host: the pid is dead; another host: the
   heartbeat is older than ``rematch_stale_after_s``). A live run makes it raise
   :class:`RunConflict`.
2. :func:`execute_run` re-embeds rows whose text changed, loads facts and vectors and computes
   both directions' top-k with the block core (:mod:`matching.rematch`): incrementally from the
   previous successful run's saved core state when nothing but rows changed since
   (:func:`matching.rematch.rematch_incremental`), else in full. It then stores the lists in
   batches of queries (:func:`service.store.rematch_store.store_topk`; an incremental run writes
   only the lists that changed and copies the rest in the database). Each batch's matches and its
   ``rematch_batch`` row commit in one transaction (after deleting any rows of the same query
   range), so a batch is either fully stored or absent, and re-doing it is idempotent: a killed run
   computes again and stores only the batches not committed yet, with no duplicate or lost matches.
   A batch stores no match of a candidate or vacancy erased since the run
   loaded it (checked in the storing transaction, see :func:`service.store.crud.hold_erasure_lock`).
3. On success the run is diffed against the previous successful run, saves its core state for
   the next run (and drops the older runs'), the slot is released and runs beyond the last
   ``rematch_keep_runs`` are pruned.
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
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from matching.embedder import Embedded, Encoder
from matching.geo import PostcodeLocator
from matching.rematch import (
    FOR_CANDIDATE,
    FOR_VACANCY,
    DaskExecutor,
    Executor,
    LocalExecutor,
    RematchResult,
    SideArrays,
    rematch_full,
    rematch_incremental,
)
from matching.rematch import RematchState as CoreState
from matching.rematch import TopK as CoreTopK
from service.config import Settings
from service.errors import WerkmatchError
from service.state.index_state import IndexState, decode_vector
from service.store import crud
from service.store.index_reads import latest_seq
from service.store.models import utcnow
from service.store.rematch_models import RematchRun
from service.store.rematch_runs import (
    active_run,
    candidates_with_vectors,
    committed_batches,
    count_matches,
    find_run,
    open_run,
    previous_success,
    take_over_run,
    update_run,
    vacancies_with_vectors,
)

# the run's diff and retention, imported from here by their callers
from service.store.rematch_runs import diff_counts as diff_counts
from service.store.rematch_runs import prune as prune
from service.store.rematch_store import (
    ChangeSet,
    StoreStats,
    TopK,
    detect_changes,
    full_changes,
    latest_state,
    load_core_state,
    save_core_state,
    save_state,
    settings_key,
    store_topk,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (batches stored, batches total)


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
        current = active_run(session)
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
            if not take_over_run(session, run_id, previous_owner, me, utcnow()):
                raise RunConflict(
                    f"rematch run {current.id} was just taken over by another process"
                )
            log.warning("took over rematch run %d from %s", run_id, previous_owner)
            return run_id, True
        new_id = open_run(session, top_k, me)
        if new_id is None:
            raise RunConflict("another rematch run started at the same moment")
        return new_id, False


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
) -> dict[str, int]:
    """Re-embed rows whose text changed since their vector (or that have none)."""
    counting = _CountingEncoder(encoder.model_id, encoder.dim, executor.embed)
    counts: dict[str, int] = {}
    for kind, key in ((crud.CANDIDATES, "candidates"), (crud.VACANCIES, "vacancies")):
        ids = crud.outdated_ids(session=session, kind=kind, model_id=encoder.model_id)
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            try:
                crud.reembed(session=session, kind=kind, ids=chunk, encoder=counting)
            except IntegrityError:
                # a row of the chunk was erased while its text was being embedded: its vector
                # may not be stored (foreign key); the rows still there are embedded again
                session.rollback()
                crud.reembed(session=session, kind=kind, ids=chunk, encoder=counting)
            if heartbeat is not None:
                heartbeat()
        counts[f"outdated_{key}"] = len(ids)
    counts["texts_embedded"] = counting.embedded
    return counts


def load_sides(
    session: Session, encoder: Encoder, locator: PostcodeLocator, settings: Settings
) -> Loaded:
    """Active candidates and open vacancies with their current-model vectors, sorted by id."""
    facts_of = IndexState(session.get_bind(), encoder, locator, settings.focus_threshold)  # type: ignore[arg-type]  # the run's session is bound to its engine
    facts_of.load_focus(session)

    def side(rows: Iterator[tuple[Any, bytes]], make: Callable[[Any], Any]) -> SideArrays:
        facts, vecs = [], []
        for row, blob in rows:
            facts.append(make(row))
            vecs.append(decode_vector(blob, encoder.dim))
        ids = np.array([f.id for f in facts], dtype=np.int64)
        matrix = np.stack(vecs) if vecs else np.zeros((0, encoder.dim), dtype=np.float32)
        return SideArrays(
            ids, np.ascontiguousarray(matrix, dtype=np.float32), facts, encoder.model_id
        )

    return Loaded(
        candidates=side(
            candidates_with_vectors(session, encoder.model_id, settings.rematch_placed_leave_pool),
            facts_of.candidate_facts,
        ),
        vacancies=side(vacancies_with_vectors(session, encoder.model_id), facts_of.vacancy_facts),
    )


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

    ``full``: True computes and stores every list afresh; False is incremental (the core
    recomputes what the changes since the previous successful run can have moved, from that
    run's core state when it saved one; only the lists that differ from its stored ones are
    written, the rest copied in the database) and raises :class:`IncrementalImpossible` when
    that run left no usable state (see :func:`service.store.rematch_store.detect_changes`); None
    (default) is incremental when it can be. Both store the same matches. A resumed run keeps
    the choice it made first.

    On an exception the run is marked failed and the slot released; a killed process leaves it
    'running', to be taken over by the next :func:`claim_run`.
    """
    timings: dict[str, float] = {}
    counts: dict[str, Any] = {}
    try:
        with Session(engine) as session:
            run = find_run(session, run_id)
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
                    lambda: update_run(engine, run_id, heartbeat_at=utcnow()),
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
            previous = (
                load_core_state(session, changes.base_run_id)
                if changes.incremental and changes.base_run_id is not None
                else None
            )
        counts.update(candidates=len(cands), vacancies=len(vacs))
        counts.update(changes.as_counts())
        base_run = changes.base_run_id if changes.incremental else None
        t = time.perf_counter()
        result, changed = _compute(cands, vacs, top_k, changes, previous, executor, counts)
        timings["compute"] = timings.get("compute", 0.0) + time.perf_counter() - t
        # the core's split is summed over workers with Dask: compute time, not wall clock
        for key, value in result.seconds.items():
            timings[f"core_{key}"] = timings.get(f"core_{key}", 0.0) + value
        for key, parts in (("search", _SEARCH), ("ranking", _RANKING)):
            timings[key] = timings.get(key, 0.0) + sum(result.seconds.get(p, 0.0) for p in parts)
        counts.update({f"core_{k}": v for k, v in result.counts.items()})
        lists = (
            (_as_stored(FOR_VACANCY, vacs.ids, result.for_vacancy), changed.get(FOR_VACANCY)),
            (
                _as_stored(FOR_CANDIDATE, cands.ids, result.for_candidate),
                changed.get(FOR_CANDIDATE),
            ),
        )
        done = committed_batches(engine, run_id)
        step = max(1, settings.rematch_batch_max_queries)
        plan = [
            (topk, mask, start, stop)
            for topk, mask in lists
            for start, stop in pending_chunks(topk.query_ids, done[topk.direction], step)
        ]
        already = sum(len(v) for v in done.values())
        # a resumed run keeps what an earlier attempt stored: its lists are not all this
        # computation's, so the next run must compare with them rather than trust the state
        lists_stored = already == 0
        total = already + len(plan)
        update_run(
            engine, run_id, batches_total=total, batches_done=already, counts=counts,
            timings=timings, progress=already / total if total else 1.0, **record,
        )  # fmt: skip
        if progress is not None:
            progress(already, total)
        stored = StoreStats()
        finished = already
        s = time.perf_counter()
        for topk, mask, start, stop in plan:
            stored.add(
                store_topk(
                    engine, run_id, topk.slice(start, stop), base_run=base_run,
                    changed=None if mask is None else mask[start:stop], chunk_rows=_ONE_CHUNK,
                )
            )  # fmt: skip
            finished += 1
            update_run(
                engine, run_id, batches_done=finished, progress=finished / total,
                heartbeat_at=utcnow(),
            )  # fmt: skip
            if progress is not None:
                progress(finished, total)
        timings["storing"] = timings.get("storing", 0.0) + time.perf_counter() - s
        # this process's share of the store (a resumed run's earlier batches are not in it)
        counts["stored_rows_written"] = stored.written
        counts["stored_rows_carried"] = stored.carried
        counts["stored_lists_written"] = stored.lists_written
        counts["stored_lists_carried"] = stored.lists_carried
        timings["batches_wall"] = timings.get("batches_wall", 0.0) + time.perf_counter() - t
        t = time.perf_counter()
        with Session(engine) as session:
            base = previous_success(session, run_id)
            counts["previous_run_id"] = base
            counts["matches"] = count_matches(session, run_id)
            counts.update(diff_counts(session, run_id, base))
            save_state(session, run_id, run_key, vacs.ids, cands.ids)
            timings["diff"] = time.perf_counter() - t
            t = time.perf_counter()
            save_core_state(session, run_id, result.state, lists_stored)
            session.commit()
        timings["state"] = time.perf_counter() - t
        update_run(
            engine, run_id, state="succeeded", active_slot=None, finished_at=utcnow(),
            counts=counts, timings={k: round(v, 3) for k, v in timings.items()}, progress=1.0,
        )  # fmt: skip
        counts["pruned_runs"] = prune(engine, settings.rematch_keep_runs)
        update_run(engine, run_id, counts=counts)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise  # leave it 'running' to be resumed, like a killed process
        log.exception("rematch run %d failed", run_id)
        with Session(engine) as session:
            run = find_run(session, run_id)
            errors = [*(run.errors if run else []), run_error(exc)]
        update_run(
            engine, run_id, state="failed", active_slot=None, finished_at=utcnow(),
            errors=errors, counts=counts, timings={k: round(v, 3) for k, v in timings.items()},
        )  # fmt: skip
        raise
    with Session(engine) as session:
        final = find_run(session, run_id)
        assert final is not None
        return final


# the core's phases (matching.rematch) that the run reports as its search and ranking
_SEARCH = ("product", "filters", "pools", "exact", "merge")
_RANKING = ("rerank",)
_ONE_CHUNK = 1 << 62  # store_topk's chunk_rows when the caller hands it one chunk at a time


def _compute(
    cands: SideArrays,
    vacs: SideArrays,
    top_k: int,
    changes: ChangeSet,
    previous: tuple[CoreState, bool] | None,
    executor: Executor,
    counts: dict[str, Any],
) -> tuple[RematchResult, dict[int, np.ndarray]]:
    """Both directions' top-k: incremental from the base run's core state when the change set
    allows it and that run saved one, else in full. Also, per direction, which lists differ
    from the base run's stored ones (bool per query; empty when they must be read back to
    tell, see :func:`service.store.rematch_store.store_topk`)."""
    vc, cc = vacs.columns, cands.columns
    if previous is None or previous[0].top_k != top_k:
        counts["core"] = "full"
        return rematch_full(vc, cc, top_k, executor), {}
    state, lists_stored = previous
    args = changes.incremental_args()
    result = rematch_incremental(
        vc, cc, top_k, state,
        args["changed_vacancy_ids"], args["changed_candidate_ids"],
        args["removed_vacancy_ids"], args["removed_candidate_ids"],
        executor=executor,
    )  # fmt: skip
    counts["core"] = "incremental"
    if not lists_stored:
        return result, {}
    return result, {
        FOR_VACANCY: lists_changed(
            vacs.ids, result.for_vacancy, state.vacancy_ids, state.for_vacancy
        ),
        FOR_CANDIDATE: lists_changed(
            cands.ids, result.for_candidate, state.candidate_ids, state.for_candidate
        ),
    }


def lists_changed(
    ids: np.ndarray, lists: CoreTopK, before_ids: np.ndarray, before: CoreTopK
) -> np.ndarray:
    """bool (n,): query ``ids[i]``'s list differs from its list in ``before`` (targets, scores
    or parts; a query absent from ``before_ids`` counts as changed)."""
    out = np.ones(len(ids), dtype=bool)
    if not len(before_ids) or not len(ids):
        return out
    order = np.argsort(before_ids, kind="stable")
    at = order[np.minimum(np.searchsorted(before_ids, ids, sorter=order), len(order) - 1)]
    known = np.flatnonzero(before_ids[at] == ids)
    old = at[known]

    def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        eq: np.ndarray = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
        return np.asarray(eq.reshape(len(a), -1).all(axis=1))

    out[known] = ~(
        same(lists.ids[known], before.ids[old])
        & same(lists.scores[known], before.scores[old])
        & same(lists.parts[known], before.parts[old])
    )
    return out


def _as_stored(direction: int, query_ids: np.ndarray, lists: CoreTopK) -> TopK:
    """The core's lists (float64, NaN padding) as the store's (float32, -1 padding)."""
    return TopK(
        direction,
        np.asarray(query_ids, dtype=np.int64),
        np.ascontiguousarray(lists.ids, dtype=np.int64),
        np.nan_to_num(lists.scores, nan=0.0).astype(np.float32),
        np.nan_to_num(lists.parts, nan=0.0).astype(np.float32),
    )


def pending_chunks(
    query_ids: np.ndarray, done: Sequence[tuple[int, int]], size: int
) -> list[tuple[int, int]]:
    """Position ranges (start, stop) of at most ``size`` queries of ``query_ids`` (sorted) that
    no committed (lo_id, hi_id) range of ``done`` covers; no range spans a committed one, so
    storing a range (which first deletes its id span) never touches a committed batch."""
    n = len(query_ids)
    covered = np.zeros(n, dtype=bool)
    for lo, hi in done:
        covered |= (query_ids >= lo) & (query_ids <= hi)
    # how many committed ranges end below each id: it changes across every committed range
    below = np.searchsorted(np.sort(np.array([hi for _, hi in done], dtype=np.int64)), query_ids)
    key = np.where(covered, -1, below)
    cuts = np.flatnonzero(np.diff(key)) + 1
    out: list[tuple[int, int]] = []
    for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), n], strict=True):
        if a < b and not covered[a]:
            out += [(s, min(s + size, b)) for s in range(a, b, size)]
    return out


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


class RematchFailed(Exception):
    """A claimed run failed (it is recorded on the run as 'failed'); ``cause`` says why."""

    def __init__(self, run_id: int, cause: Exception) -> None:
        super().__init__(f"rematch run {run_id} failed: {cause}")
        self.run_id, self.cause = run_id, cause


def run_rematch(
    *,
    engine: Engine,
    encoder: Encoder,
    make_locator: Callable[[], PostcodeLocator],
    settings: Settings,
    top_k: int,
    scheduler: str | None,
    full: bool | None,
    progress: Progress | None = None,
    claimed: Callable[[int, bool], None] | None = None,
) -> RematchRun:
    """A whole run, as ``werkmatch rematch`` starts it: connect to the Dask ``scheduler`` (None:
    in-process) before taking the run slot, so that an unreachable scheduler starts nothing;
    claim the slot (or resume a dead process's run; ``claimed(run_id, resumed)`` is told which)
    and carry the run to the end (:func:`execute_run`). Returns the final record.

    Raises:
        SchedulerUnreachable: the scheduler could not be reached.
        RunConflict: a run is in progress in a live process.
        RematchFailed: the claimed run failed.
    """
    with executor_for(settings, encoder, scheduler) as executor:
        run_id, resumed = claim_run(engine, top_k, settings.rematch_stale_after_s)
        if claimed is not None:
            claimed(run_id, resumed)
        try:
            return execute_run(
                engine=engine,
                run_id=run_id,
                encoder=encoder,
                locator=make_locator(),
                settings=settings,
                executor=executor,
                progress=progress,
                full=full,
            )
        except Exception as exc:
            raise RematchFailed(run_id, exc) from exc
