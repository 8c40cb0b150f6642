"""The process's matcher, derived from the database and kept in step through the change log.

The database is the only source of truth; the indexes are derived state in each process.

* **Start** (:meth:`IndexState.start`): load the latest snapshot and replay the change log after
  its sequence number; rebuild from the stored vectors (no model call) when the snapshot is
  missing, corrupt, from another model or database, or disagrees with the database afterwards.
* **Catch-up** (:meth:`IndexState.catch_up`): every write appends to ``change_log`` in its
  transaction. Before a match query, and after each of its own writes, a process reads the
  latest sequence number (one cheap query) and, when it moved, re-reads the current state of
  the rows named by the entries it has not seen. Applying is idempotent, so an entry may be seen
  twice. Sequence numbers never commit out of order: on PostgreSQL each appending transaction
  holds a transaction-level advisory lock from its first append to its commit
  (:func:`service.store.crud.log_change`); SQLite has one writer at a time anyway. So once seq ``n``
  is visible, every lower seq is committed or rolled back for good and "everything after my
  last seq" never misses a row.
* **Concurrency**: one writer of the indexes per process (``_writer``); searches run
  concurrently with each other (read side of the indexes' readers–writer locks).
* **Snapshots**: after ``snapshot_every`` applied changes (in a background thread) and on
  shutdown, see :mod:`service.state.snapshot`. A writer catches up with the database under the
  snapshot's file lock before it copies the indexes, so a snapshot never holds a row that was
  erased before the copy was taken.
* **Erasure**: every snapshot on disk older than a candidate's ``delete`` entry is removed,
  and a fresh one written. The erasing request does it before it answers: its
  :meth:`catch_up` gets the session :func:`service.store.crud.delete_row` marked and removes the
  files itself (waiting for a snapshot write in progress). Other processes, on applying the
  entry, do the same in their background snapshot thread (in case the eraser died), and
  :meth:`start` does it for erasures made while no index ran. A restart then loads a later
  snapshot or rebuilds from the database.
* **Index version**: :meth:`IndexState.search` runs a query on the indexes as of exactly one
  change-log position and names it (:func:`index_version`), so that a match answer records
  what it was computed from. Changes to the indexes are bracketed by a generation counter
  (odd while a change is being applied); a search that overlapped one runs again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from matching.embedder import Encoder
from matching.facts import FactStore
from matching.focus import FocusMatcher
from matching.focus import FocusOccupation as FocusDef
from matching.geo import PostcodeLocator
from matching.index import IndexSpec, VectorIndex
from matching.matcher import Collection, Matcher
from matching.profiles import (
    CandidateFacts,
    EscoLink,
    VacancyFacts,
    resolve_location,
)
from matching.profiles import make_side as make_side  # exported: the scale bench swaps it
from matching.ranking import calibration_for
from service.errors import WerkmatchError
from service.state import snapshot as snap
from service.store.crud import CANDIDATES, ERASED_IN_SESSION, VACANCIES, Kind
from service.store.focus_occupations import all_focus
from service.store.index_reads import (
    changes_after,
    indexed_ids_in_db,
    latest_erasure_seq,
    rows_with_vectors,
)
from service.store.index_reads import latest_seq as latest_seq  # imported from here by tests
from service.store.models import Candidate, Vacancy

log = logging.getLogger(__name__)

LOAD_BATCH = 2000
SEARCH_ATTEMPTS = 3

T = TypeVar("T")


class IndexNotReady(WerkmatchError):
    """The indexes are still loading: answering now could wrongly say "no matches"."""

    status_code = 503
    error = "index_not_ready"
    retry_after = 5


def decode_vector(blob: bytes, dim: int) -> np.ndarray:
    vec = np.frombuffer(blob, dtype="<f4")
    if vec.shape != (dim,):
        raise ValueError(f"stored vector has {vec.size} values, index expects {dim}")
    return vec


def database_fingerprint(engine: Engine) -> str:
    """Which database a snapshot belongs to (URL without password, hashed)."""
    url = engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode()).hexdigest()[:16]


_THREAD = threading.local()


def _search_threads(n: int) -> None:
    """Give FAISS ``n`` OpenMP threads in the calling thread. OpenMP's thread count is a
    per-thread setting: set once at start-up it held only for the thread that built the state,
    and every request thread searched with one OpenMP thread per core; on a busy machine those
    threads wait for each other (a 10k flat search measured 81 ms instead of 2.5 ms)."""
    if getattr(_THREAD, "faiss_threads", None) != n:
        import faiss

        faiss.omp_set_num_threads(n)
        _THREAD.faiss_threads = n


# session.info key: the change-log position this request's access check read (reads only), so
# that catching up costs no second read; the answer is then as of the request's arrival.
LOG_HEAD_SEEN = "werkmatch_log_head"


def index_version(seq: int, matcher: Matcher) -> str:
    """``<seq>:<candidate index layout>:<vacancy index layout>``, e.g. ``473:flat:flat``.

    ``seq`` is the change-log position the indexes had applied: every write up to it and none
    after it. The layouts are :attr:`matching.index.VectorIndex.layout`.
    """
    return f"{seq}:{matcher.candidates.index.layout}:{matcher.vacancies.index.layout}"


def snapshot_payload(matcher: Matcher, focus_threshold: float) -> dict[str, np.ndarray]:
    """The matcher as named arrays (copies): per collection the serialised FAISS index and the
    fact store's arrays, plus the focus list as JSON bytes. The caller holds what keeps the
    matcher still (``IndexState._writer``)."""
    out: dict[str, np.ndarray] = {}
    for name, coll in (("candidates", matcher.candidates), ("vacancies", matcher.vacancies)):
        with coll.reading():
            out[f"{name}.index"] = np.frombuffer(coll.index.to_bytes(), dtype=np.uint8)
            out |= {f"{name}.store.{k}": v for k, v in coll.store.to_arrays().items()}
    focus = {
        "threshold": focus_threshold,
        "occupations": [
            {"slug": f.slug, "name": f.name, "synonyms": f.synonyms, "esco_uris": f.esco_uris}
            for f in matcher.focus.occupations
        ],
    }
    out["focus"] = np.frombuffer(json.dumps(focus).encode(), dtype=np.uint8)
    return out


class IndexState:
    """Owns the :class:`Matcher` of one process and its change-log position."""

    def __init__(
        self,
        engine: Engine,
        encoder: Encoder,
        locator: PostcodeLocator,
        focus_threshold: float,
        data_dir: Path | None = None,
        snapshot_every: int = 0,
        spec: IndexSpec | None = None,
    ) -> None:
        self.engine = engine
        self.encoder = encoder
        # the fused score is calibrated per model: every matcher built here holds this one
        self.calibration = calibration_for(encoder.model_id)
        self.locator = locator
        self.focus_threshold = focus_threshold
        self.spec = spec or IndexSpec()
        self.faiss_threads = 1  # OpenMP threads of one search (the faiss_threads setting)
        self.matcher = Matcher(encoder.dim, spec=self.spec, calibration=self.calibration)
        self.last_seq = 0
        self.ready = False
        self.loaded_from = "nothing"
        self.snapshot_file = (
            snap.snapshot_path(data_dir, encoder.model_id) if data_dir is not None else None
        )
        self.snapshot_every = snapshot_every
        self.snapshot_seq = 0
        self._changes_since_snapshot = 0
        self._snapshot_thread: threading.Thread | None = None
        self._background_lock = threading.Lock()  # guards the three flags below
        self._background_running = False
        self._purge_wanted = False
        self._snapshot_wanted = False
        self._writer = threading.Lock()
        self._generation = 0  # odd while the indexes are being changed (see search)
        # the latest candidate erasure applied, and up to which one older snapshots are gone
        self._erased_seq = 0
        self._purged_seq = 0
        self._purge_lock = threading.Lock()

    # ------------------------------------------------------------ consistent searches

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Bracket a change of the indexes or of ``last_seq``; the caller holds ``_writer``."""
        self._generation += 1
        try:
            yield
        finally:
            self._generation += 1

    def search(self, session: Session, query: Callable[[Matcher], T]) -> tuple[T, str]:
        """Catch up, then run ``query`` on the indexes as of one change-log position.

        Args:
            session: for the catch-up.
            query: reads the matcher it is given (never changes it) and returns the answer.
        Returns:
            the answer and the :func:`index_version` it was computed at. A query that overlapped
            a change of the indexes (another request's catch-up) runs again; after
            ``SEARCH_ATTEMPTS`` tries it runs while holding back changes.
        Raises:
            IndexNotReady: the indexes have not been loaded yet.
        """
        self.catch_up(session)
        _search_threads(self.faiss_threads)
        for _ in range(SEARCH_ATTEMPTS):
            generation = self._generation
            if generation % 2:
                continue  # a change is being applied right now
            matcher, seq = self.matcher, self.last_seq
            answer = query(matcher)
            if self._generation == generation:
                return answer, index_version(seq, matcher)
        with self._writer:
            return query(self.matcher), index_version(self.last_seq, self.matcher)

    # ------------------------------------------------------------ facts from rows

    def candidate_facts(self, row: Candidate, matcher: Matcher | None = None) -> CandidateFacts:
        assert row.id is not None
        side = make_side(
            occupations=row.desired_occupations,
            skills=row.skills,
            text=row.cv_text,
            location=resolve_location(self.locator, row.postcode, row.lat, row.lon),
            focus=(matcher or self.matcher).focus,
            esco=[EscoLink.from_json(link) for link in row.desired_occupations_esco],
            inferred=[EscoLink.from_json(x) for x in row.inferred_occupations or ()],
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

    def vacancy_facts(self, row: Vacancy, matcher: Matcher | None = None) -> VacancyFacts:
        assert row.id is not None
        side = make_side(
            occupations=[t for t in (row.title, row.occupation) if t],
            skills=row.skills,
            text=row.description,
            location=resolve_location(self.locator, row.postcode, row.lat, row.lon),
            focus=(matcher or self.matcher).focus,
            esco=[EscoLink.from_json(row.occupation_esco)] if row.occupation_esco else [],
            inferred=[EscoLink.from_json(x) for x in row.inferred_occupations or ()],
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

    def _load(
        self,
        session: Session,
        kind: Kind,
        ids: Iterable[int] | None,
        matcher: Matcher | None = None,
    ) -> None:
        """(Re)load rows ``ids`` (all rows when None) with their current-model vectors."""
        m = matcher or self.matcher
        coll: Collection[Any] = m.candidates if kind is CANDIDATES else m.vacancies  # as make
        make = self.candidate_facts if kind is CANDIDATES else self.vacancy_facts
        wanted = None if ids is None else sorted(set(ids))
        chunks: list[Sequence[int] | None] = (
            [None]
            if wanted is None
            else [wanted[i : i + LOAD_BATCH] for i in range(0, len(wanted), LOAD_BATCH)]
        )
        for chunk in chunks:
            indexed: set[int] = set()
            # streamed in batches: a full load never holds more than a batch of rows and facts
            for batch in rows_with_vectors(session, kind, self.encoder.model_id, chunk, LOAD_BATCH):
                items = []
                for row, blob in batch:
                    if blob is None:
                        continue  # no vector for this model yet: not matchable until re-embedded
                    items.append((make(row, m), decode_vector(blob, self.encoder.dim)))
                coll.upsert(items)
                indexed.update(f.id for f, _ in items)
            before = set(chunk) if chunk is not None else set(coll.store.ids().tolist())
            coll.remove(sorted(before - indexed))

    def load_focus(self, session: Session) -> None:
        """Replace the focus-occupation list from the database (facts built later use it)."""
        self._load_focus(session)

    def _load_focus(self, session: Session, matcher: Matcher | None = None) -> None:
        rows = all_focus(session)
        defs = [
            FocusDef(
                slug=r.slug,
                name=r.name,
                synonyms=tuple(r.synonyms),
                esco_uris=tuple(r.esco_uris or ()),
            )
            for r in rows
        ]
        (matcher or self.matcher).set_focus(defs, self.focus_threshold)

    def _rebuild_locked(self, session: Session) -> None:
        latest = latest_seq(session)
        # built aside: searches keep the old one meanwhile
        matcher = Matcher(self.encoder.dim, spec=self.spec, calibration=self.calibration)
        self._load_focus(session, matcher)
        self._load(session, CANDIDATES, None, matcher)
        self._load(session, VACANCIES, None, matcher)
        matcher.candidates.relayout()  # large collections become IVF, trained on their vectors
        matcher.vacancies.relayout()
        with self._changing():
            self.matcher, self.last_seq = matcher, latest
        self._changes_since_snapshot = 0

    def rebuild(self) -> None:
        """Rebuild both indexes from the stored vectors and move to the latest log entry."""
        with self._writer, Session(self.engine) as session:
            self._rebuild_locked(session)
            self.loaded_from = "database"
            self.ready = True
        log.info(
            "indexes rebuilt: %d candidates, %d vacancies, change-log seq %d",
            len(self.matcher.candidates),
            len(self.matcher.vacancies),
            self.last_seq,
        )

    def catch_up(self, session: Session) -> None:
        """Apply change-log entries after ``last_seq`` (one cheap query when there are none).

        When ``session`` has just erased a candidate (:func:`service.store.crud.delete_row`),
        returns only once no snapshot file on disk is older than that erasure (module docstring).

        Raises:
            IndexNotReady: the indexes have not been loaded yet.
        """
        if not self.ready:
            raise IndexNotReady("the indexes are loading; retry shortly")
        head = session.info.pop(LOG_HEAD_SEEN, None)
        if (latest_seq(session) if head is None else head) > self.last_seq:
            with self._writer:
                applied = self._apply_log(session)
            if applied:
                self._maybe_snapshot()
        # outside ``_writer``: a snapshot writer holds the file lock and then wants ``_writer``
        if session.info.pop(ERASED_IN_SESSION, False):
            if self._purge_snapshots():
                self._in_background(snapshot=True)
        elif self._erased_seq > self._purged_seq:
            self._in_background(purge=True)

    def _apply_log(self, session: Session) -> int:
        """Apply entries after ``last_seq``; the caller holds ``_writer``. Returns how many."""
        entries = changes_after(session, self.last_seq)
        if not entries:
            return 0
        touched: dict[str, set[int]] = {"candidate": set(), "vacancy": set(), "focus": set()}
        erased = 0
        for seq, entity, entity_id, op in entries:
            touched.setdefault(entity, set()).add(entity_id)
            if entity == CANDIDATES.name and op == "delete" and seq is not None:
                erased = max(erased, seq)
        with self._changing():
            if touched["focus"]:
                self._load_focus(session)
            self._load(session, CANDIDATES, touched["candidate"])
            self._load(session, VACANCIES, touched["vacancy"])
            # before last_seq moves: a thread that sees the new last_seq also sees the erasure
            self._erased_seq = max(self._erased_seq, erased)
            self.last_seq = max(seq for seq, _, _, _ in entries if seq is not None)
        self._changes_since_snapshot += len(entries)
        return len(entries)

    # ------------------------------------------------------------ erasure

    def _purge_at_start(self) -> list[Path]:
        """Remove the snapshots older than the latest candidate erasure in the whole log: the
        process that erased may have died before removing them, or erased without an index."""
        if self.snapshot_file is None:
            return []
        with Session(self.engine) as session:
            latest = latest_erasure_seq(session)
        self._erased_seq = max(self._erased_seq, latest)
        return self._purge_snapshots()

    def _purge_snapshots(self) -> list[Path]:
        """Remove snapshots older than the latest applied erasure; returns what was removed.

        Must not be called while holding ``_writer`` or a snapshot's file lock.
        """
        if self.snapshot_file is None or self._erased_seq <= self._purged_seq:
            return []
        with self._purge_lock:  # a second caller waits until the files are really gone
            target = self._erased_seq
            if target <= self._purged_seq:
                return []
            removed = snap.erase_older(self.snapshot_file.parent, target)
            self._purged_seq = target
        if removed:
            log.info(
                "erasure at change-log seq %d: removed %d snapshot files", target, len(removed)
            )
        return removed

    # ------------------------------------------------------------ start-up

    def start(self, *, repair: bool = True, write_snapshot: bool = True) -> dict[str, Any]:
        """Load the snapshot and replay the log, or rebuild; then verify against the database.

        Args:
            repair: rebuild from the database when the loaded indexes disagree with it.
            write_snapshot: after a rebuild, write a fresh snapshot for the next start.
        Returns:
            what happened: ``loaded_from`` ("snapshot" or "database"), the reason a snapshot was
            not used, seconds taken and the consistency report.
        """
        started = time.perf_counter()
        reason = self._load_snapshot()
        purged: list[Path] = []
        if reason is None:
            self.ready = True
            with self._writer, Session(self.engine) as session:
                self._apply_log(session)
            purged = self._purge_at_start()
            report = self.compare()
            if not report["ok"] and repair:
                reason = f"snapshot disagrees with the database: {report['problems']}"
        if reason is not None:
            log.info("rebuilding indexes from the database: %s", reason)
            self.rebuild()
            report = self.compare()
            if write_snapshot:
                self.write_snapshot(force=True)
            purged = self._purge_at_start()  # other models' files
        if purged and write_snapshot:
            self.write_snapshot()
        seconds = round(time.perf_counter() - started, 3)
        log.info("indexes ready from %s in %.2f s: %s", self.loaded_from, seconds, report)
        return {
            "loaded_from": self.loaded_from,
            "snapshot_rejected": reason,
            "seconds": seconds,
            "check": report,
        }

    def _load_snapshot(self) -> str | None:
        """Install the snapshot's indexes; returns why it could not be used, or None."""
        if self.snapshot_file is None:
            return "snapshots disabled"
        try:
            header, payload = snap.read_snapshot(
                self.snapshot_file,
                model_id=self.encoder.model_id,
                dim=self.encoder.dim,
                database=database_fingerprint(self.engine),
            )
            with Session(self.engine) as session:
                db_seq = latest_seq(session)
            if header.seq > db_seq:
                raise snap.SnapshotInvalid(
                    f"snapshot is at seq {header.seq}, the database only at {db_seq} "
                    "(restored from an older backup?)"
                )
            matcher = Matcher(self.encoder.dim, spec=self.spec, calibration=self.calibration)
            for name, coll, count in (
                ("candidates", matcher.candidates, header.candidates),
                ("vacancies", matcher.vacancies, header.vacancies),
            ):
                index = VectorIndex.from_bytes(
                    payload.pop(f"{name}.index"),  # type: ignore[arg-type]  # a buffer will do
                    self.encoder.dim,
                )
                prefix = f"{name}.store."
                arrays = {
                    k[len(prefix) :]: payload.pop(k) for k in list(payload) if k.startswith(prefix)
                }
                store = FactStore.from_arrays(coll.kind, arrays)
                del arrays
                ids = store.ids()
                if len(index) != len(ids) or index.ids() != set(ids.tolist()) or len(ids) != count:
                    raise snap.SnapshotInvalid(f"{name}: id map and facts disagree")
                wanted = self.spec.resolve(len(ids))[0]
                if len(ids) and index.kind != wanted:
                    raise snap.SnapshotInvalid(
                        f"{name}: snapshot holds a {index.kind} index, settings ask for {wanted}"
                    )
                coll.install(index, store)
            focus = json.loads(payload["focus"].tobytes())
            focus_defs = [
                FocusDef(
                    slug=f["slug"],
                    name=f["name"],
                    synonyms=tuple(f["synonyms"]),
                    esco_uris=tuple(f["esco_uris"]),
                )
                for f in focus["occupations"]
            ]
            if focus["threshold"] == self.focus_threshold:
                matcher.focus = FocusMatcher(focus_defs, threshold=self.focus_threshold)
            else:
                matcher.set_focus(focus_defs, self.focus_threshold)
        except snap.SnapshotInvalid as exc:
            return str(exc)
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            return f"unusable snapshot: {exc}"
        with self._writer, self._changing():
            self.matcher = matcher
            self.last_seq = self.snapshot_seq = header.seq
            self._changes_since_snapshot = 0
            self.loaded_from = "snapshot"
        return None

    # ------------------------------------------------------------ snapshots

    def write_snapshot(self, *, force: bool = False) -> Path | None:
        """Save both indexes atomically; None when disabled or another process is writing.

        First catches up with the database, under the file lock: a lagging process must not
        write back a row erased after its last catch-up (see
        :func:`service.state.snapshot.erase_older`).
        Skipped when the file on disk already claims this seq or a later one (another worker
        saved it), unless ``force``: after a rebuild the file on disk was found unusable.
        """
        if self.snapshot_file is None or not self.ready:
            return None
        with snap.writer_lock(self.snapshot_file) as mine:
            if not mine:
                return None
            with Session(self.engine) as session, self._writer:
                self._apply_log(session)
            existing = snap.stored_seq(self.snapshot_file)
            if not force and existing is not None and existing >= self.last_seq:
                # another worker already saved this state (or a later one); the file is only
                # trusted after full verification at load, so a wrong header costs a rebuild.
                return self.snapshot_file
            with self._writer:  # a consistent view; searches go on meanwhile
                m = self.matcher
                seq = self.last_seq
                payload = snapshot_payload(m, self.focus_threshold)
                counts = (len(m.candidates), len(m.vacancies))
                self._changes_since_snapshot = 0
            header = {
                "model_id": self.encoder.model_id,
                "dim": self.encoder.dim,
                "seq": seq,
                "candidates": counts[0],
                "vacancies": counts[1],
                "database": database_fingerprint(self.engine),
            }
            size = snap.write_snapshot(self.snapshot_file, header, payload)
        self.snapshot_seq = seq
        log.info("snapshot written: seq %d, %d bytes, pid %d", seq, size, os.getpid())
        return self.snapshot_file

    def _maybe_snapshot(self) -> None:
        if not self.snapshot_every or self._changes_since_snapshot < self.snapshot_every:
            return
        self._in_background(snapshot=True)

    def _in_background(self, *, purge: bool = False, snapshot: bool = False) -> None:
        """Remove snapshots older than an applied erasure (and write a fresh one if any was
        removed) and/or write a snapshot, in the background thread. A request made while the
        thread works is carried out after the current round (which may have copied the
        indexes before the request)."""
        with self._background_lock:
            self._purge_wanted |= purge
            self._snapshot_wanted |= snapshot
            if self._background_running:
                return
            self._background_running = True

        def run() -> None:
            while True:
                with self._background_lock:
                    purge, write = self._purge_wanted, self._snapshot_wanted
                    if not (purge or write):
                        self._background_running = False
                        return
                    self._purge_wanted = self._snapshot_wanted = False
                try:
                    if purge and self._purge_snapshots():
                        write = True
                    if write:
                        self.write_snapshot()
                except Exception:  # a failed snapshot only costs start-up time later
                    log.exception("removing or writing index snapshots failed")

        self._snapshot_thread = threading.Thread(target=run, name="snapshot", daemon=True)
        self._snapshot_thread.start()

    def wait_for_snapshot(self) -> None:
        """Wait until no background snapshot write is running or requested."""
        while (thread := self._snapshot_thread) is not None and thread.is_alive():
            thread.join()

    # ------------------------------------------------------------ consistency

    def compare(self, attempts: int = 5) -> dict[str, Any]:
        """Compare both indexes with the database: ids, counts and change-log sequence.

        Ids are read from the database and then the latest sequence; if that sequence equals
        the index's own, no write committed in between and the comparison is exact. Under a
        steady stream of writes it retries and reports ``busy`` (not drift) if it never settles.
        """
        for _ in range(attempts):
            with Session(self.engine) as session:
                self.catch_up(session)
                with self._writer:
                    db_ids = {
                        kind.name: indexed_ids_in_db(session, kind, self.encoder.model_id)
                        for kind in (CANDIDATES, VACANCIES)
                    }
                    db_seq = latest_seq(session)
                    if db_seq != self.last_seq:
                        continue
                    return self._report(db_ids, db_seq)
        return {"ok": True, "status": "busy", "seq": self.last_seq, "problems": []}

    def _report(self, db_ids: dict[str, set[int]], db_seq: int) -> dict[str, Any]:
        problems: list[str] = []
        out: dict[str, Any] = {"seq": self.last_seq, "db_seq": db_seq}
        colls: dict[str, Collection[Any]] = {
            "candidate": self.matcher.candidates,
            "vacancy": self.matcher.vacancies,
        }
        for name, coll in colls.items():
            in_db, facts, vectors = db_ids[name], set(coll.facts), coll.index.ids()
            missing, extra = sorted(in_db - facts), sorted(facts - in_db)
            if missing:
                problems.append(f"{name}: {len(missing)} ids missing, e.g. {missing[:5]}")
            if extra:
                problems.append(f"{name}: {len(extra)} ids not in the database, e.g. {extra[:5]}")
            if facts != vectors:
                problems.append(f"{name}: id map and facts disagree")
            out[name] = {"db": len(in_db), "index": len(facts), "vectors": len(vectors)}
        out.update(ok=not problems, status="ok" if not problems else "drift", problems=problems)
        return out
