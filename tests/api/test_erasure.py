"""Complete erasure of a candidate, on SQLite and PostgreSQL, with the real model and FAISS.

A candidate carries a unique marker string in its CV, skills, desired occupations and in a
match-status note; it is indexed, written to a snapshot, matched by a rematch run and given a
status, then erased. Afterwards: its exact stored vector finds it in no index (in-process,
after a restart, in any snapshot file), no table holds the marker, its external id or its
vector, no file under the data directory (and, on SQLite, neither the database file nor its
-wal/-shm files) holds them, and a later rematch does not bring it back. The races are tested
too: a lagging worker writing a snapshot after the erasure, a snapshot write in progress while
the erasure answers, and rematch batches stored after or during an erasure.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, delete, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from matching.embedder import Embedded, Encoder
from matching.facts import FactStore
from matching.geo import default_locator
from matching.index import VectorIndex
from matching.rematch import (
    FOR_CANDIDATE,
    LocalExecutor,
    MatchRow,
    Ranked,
    RankPart,
    SideColumns,
    Tile,
    TilePools,
)
from service.api.deps import AppState
from service.batch.rematch_runs import claim_run, execute_run
from service.config import Settings
from service.state import snapshot as snap
from service.state.index_state import IndexState
from service.store import crud
from service.store.db import make_engine
from service.store.models import Candidate, CandidateEmbedding, ChangeLog, Vacancy
from service.store.rematch_models import RematchMatch
from service.store.rematch_store import store_topk, topk_from_rows
from tests.auth import api_client
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, candidate, vacancy

EMP = "/v1/employers/e-1/vacancies"
# Tables that may keep the erased candidate's external (pseudonymous) id, never its data: the
# audit log (who read or erased whom must stay answerable after the erasure).
KEEPS_CANDIDATE_ID = frozenset({"audit_event"})


@dataclass(frozen=True)
class Subject:
    """The candidate to erase: its external id, marker, internal id and stored vector."""

    external_id: str
    marker: str
    row_id: int
    vector: bytes

    def needles(self) -> dict[str, bytes]:
        return {
            "marker": self.marker.encode(),
            "external id": self.external_id.encode(),
            "vector": self.vector,
        }

    def data_needles(self) -> dict[str, bytes]:
        """What no byte of the database files may hold: the external id may stay in the
        tables of ``KEEPS_CANDIDATE_ID`` (checked per table by :func:`table_hits`)."""
        return {k: v for k, v in self.needles().items() if k != "external id"}


@pytest.fixture
def snap_settings(settings: Settings) -> Settings:
    """Snapshots on (whatever the environment says), written only when asked and at shutdown."""
    return settings.model_copy(update={"snapshots": True, "snapshot_every_changes": 0})


def _state(client: TestClient) -> AppState:
    return client.app.state.werkmatch  # type: ignore[attr-defined,no-any-return]


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url())


def _seed(client: TestClient) -> None:
    others = {
        "k-2": candidate(FORKLIFT_CV + " Ook ervaring met bezorgen."),
        "k-3": candidate(CARE_CV, desired_occupations=["verzorgende IG"], skills=["zorg"]),
        "k-4": candidate(CATERING_CV, desired_occupations=["kok"], skills=["HACCP"]),
    }
    for cid, body in others.items():
        assert client.put(f"/v1/candidates/{cid}", json=body).status_code == 201
    for vid, body in (
        ("v-1", vacancy(requires_driving_licence=True)),
        ("v-2", vacancy(title="Magazijnmedewerker", occupation="magazijnmedewerker")),
    ):
        assert client.put(f"{EMP}/{vid}", json=body).status_code == 201


def _plant(client: TestClient, settings: Settings) -> Subject:
    """Create the candidate to erase, with the marker in every free-text field."""
    marker = f"wisproef{uuid.uuid4().hex[:12]}"
    external_id = f"gone-{uuid.uuid4().hex[:10]}"
    body = candidate(
        f"{FORKLIFT_CV} Referentie {marker} voor de test.",
        skills=["heftruck rijden", f"{marker}vaardigheid"],
        desired_occupations=["heftruckchauffeur", f"{marker} chauffeur"],
    )
    assert client.put(f"/v1/candidates/{external_id}", json=body).status_code == 201
    engine = _engine(settings)
    with Session(engine) as s:
        row_id, vector = s.execute(
            select(Candidate.id, CandidateEmbedding.vector)
            .join(CandidateEmbedding, CandidateEmbedding.candidate_id == Candidate.id)
            .where(Candidate.external_id == external_id)
        ).one()
    engine.dispose()
    return Subject(external_id, marker, row_id, vector)


def _run(client: TestClient, top_k: int = 5) -> int:
    resp = client.post("/v1/rematch-runs", json={"top_k": top_k})
    assert resp.status_code == 202, resp.text
    run_id: int = resp.json()["run_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/v1/rematch-runs/{run_id}").json()
        if body["state"] != "running":
            assert body["state"] == "succeeded", body
            return run_id
        time.sleep(0.1)
    raise AssertionError("rematch run did not finish")


def _stored_match_ids(settings: Settings) -> set[int]:
    engine = _engine(settings)
    with Session(engine) as s:
        ids = set(s.execute(select(RematchMatch.candidate_id)).scalars())
    engine.dispose()
    return ids


# ---------------------------------------------------------------- the scans


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).encode()
    return str(value).encode()


def table_hits(engine: Engine, needles: dict[str, bytes]) -> list[str]:
    """Every (table, column, needle) where a needle occurs in a stored value: all tables of the
    database as reflected (not only the models), all columns, read back as text or bytes."""
    meta = MetaData()
    meta.reflect(engine)
    hits = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    raw = _as_bytes(value)
                    for name, needle in needles.items():
                        if needle in raw:
                            hits.append(f"{table.name}.{column.name}: {name}")
    return sorted(set(hits))


def sqlite_files(settings: Settings) -> list[Path]:
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() != "sqlite":
        return []
    db = Path(str(url.database))
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def file_hits(paths: Sequence[Path], needles: dict[str, bytes]) -> list[str]:
    hits = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:  # a temp file renamed meanwhile: its target is read too
            continue
        hits += [f"{path.name}: {name}" for name, needle in needles.items() if needle in raw]
    return hits


def data_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.data_dir.rglob("*") if p.is_file())


def snapshot_files(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "snapshots").glob("*.snap"))


def snapshot_ids_near(path: Path, encoder: Encoder, vector: np.ndarray) -> set[int]:
    """Ids a snapshot file's candidate index returns for ``vector`` (all it holds)."""
    with open(path, "rb") as fh:
        assert fh.read(len(snap.MAGIC)) == snap.MAGIC
        database = json.loads(fh.readline())["database"]
    _, payload = snap.read_snapshot(
        path, model_id=encoder.model_id, dim=encoder.dim, database=database
    )
    index = VectorIndex.from_bytes(payload["candidates.index"].tobytes(), encoder.dim)
    facts = np.flatnonzero(payload["candidates.store.present"]).tolist()
    return {i for i, _ in index.search(vector, max(len(index), 1))} | set(facts)


def index_ids_near_state(index: IndexState, vector: np.ndarray) -> set[int]:
    """Ids an index returns for ``vector`` (all it holds), and the ids it has facts of."""
    coll = index.matcher.candidates
    return {i for i, _ in coll.index.search(vector, max(len(coll.index), 1))} | set(coll.facts)


def store_hits(store: FactStore[Any], subject: Subject) -> list[str]:
    """Interned tables and byte columns of a fact store that hold the marker or external id."""
    needles = {k: v for k, v in subject.needles().items() if k != "vector"}
    hits = []
    for name in ("strings", "term_vocab", "title_vocab", "links", "hits"):
        held = " ".join(str(v) for v in getattr(store, name).items if v is not None)
        hits += [f"{name}: {k}" for k, v in needles.items() if v.decode() in held]
    raw = store.lists["external_id"].values.tobytes()
    return hits + [f"external_id: {k}" for k, v in needles.items() if v in raw]


def index_ids_near(state: AppState, vector: np.ndarray) -> set[int]:
    return index_ids_near_state(state.index, vector)


def vector_of(subject: Subject) -> np.ndarray:
    return np.frombuffer(subject.vector, dtype="<f4")


def assert_gone_from_disk(settings: Settings, subject: Subject) -> None:
    """No file under the data directory (snapshots and temp files included) and no SQLite file
    holds the marker, the external id or the vector. (A background snapshot write may have a
    temp file open meanwhile: of a state after the erasure, so it is scanned like the rest.)"""
    assert file_hits(data_files(settings), subject.needles()) == []
    assert file_hits(sqlite_files(settings), subject.data_needles()) == []


# ---------------------------------------------------------------- the whole path


def test_erasure_is_complete_in_index_snapshots_database_and_rematch(
    snap_settings: Settings, encoder: Encoder
) -> None:
    settings = snap_settings
    with api_client(settings, encoder) as client:
        _seed(client)
        subject = _plant(client, settings)
        state = _state(client)
        vec = vector_of(subject)
        assert state.index.matcher.candidates.index.search(vec, 1)[0][0] == subject.row_id
        assert state.index.write_snapshot(force=True) is not None
        run_id = _run(client)
        assert subject.row_id in _stored_match_ids(settings)
        note = {"status": "proposed", "note": f"gesprek gepland, {subject.marker}"}
        url = f"/v1/matches/e-1/v-1/{subject.external_id}/status"
        assert client.put(url, json=note).status_code == 200
        # the checks below can fail: before the erasure they find the candidate everywhere
        engine = _engine(settings)
        assert {h.split(":")[0] for h in table_hits(engine, subject.needles())} >= {
            "candidate.cv_text",
            "candidate.skills",
            "candidate.external_id",
            "candidate_embedding.vector",
            "match_status.note",
        }
        [snapshot] = snapshot_files(settings)
        assert set(file_hits([snapshot], subject.needles())) == {
            f"{snapshot.name}: {n}" for n in ("marker", "external id", "vector")
        }
        assert subject.row_id in snapshot_ids_near(snapshot, encoder, vec)
        assert {"term_vocab: marker", "external_id: external id"} <= set(
            store_hits(state.index.matcher.candidates.store, subject)
        )
        if sqlite_files(settings):
            assert file_hits(sqlite_files(settings), {"marker": subject.marker.encode()})
        matches = client.get(f"{EMP}/v-1/matches", params={"limit": 50}).json()["data"]
        assert subject.external_id in {m["candidate_id"] for m in matches}
        mine = next(m for m in matches if m["candidate_id"] == subject.external_id)
        assert any(h["side"] == "cv" for h in mine["highlights"])  # its CV's spans were kept
        assert subject.row_id in state.index.matcher.candidates.kept_spans

        assert client.delete(f"/v1/candidates/{subject.external_id}").status_code == 204

        # (c) at the moment of the answer: no snapshot, temp file or database file holds it
        assert_gone_from_disk(settings, subject)
        for path in snapshot_files(settings):
            assert subject.row_id not in snapshot_ids_near(path, encoder, vec)
        # (a) the in-process index does not find it with its own exact vector, and its fact
        # store holds none of its own strings (terms, titles, skills, external id)
        assert subject.row_id not in index_ids_near(state, vec)
        assert store_hits(state.index.matcher.candidates.store, subject) == []
        assert subject.row_id not in state.index.matcher.candidates.kept_spans
        matches = client.get(f"{EMP}/v-1/matches", params={"limit": 50}).json()["data"]
        assert subject.external_id not in {m["candidate_id"] for m in matches}
        # (b) no table holds the marker, the vector or (outside the audit log) the external id
        hits = table_hits(engine, subject.needles())
        assert [h for h in hits if h.split(".")[0] not in KEEPS_CANDIDATE_ID] == []
        assert subject.row_id not in _stored_match_ids(settings)
        # the change log keeps the internal id and the operation, nothing of the person
        with Session(engine) as s:
            ops = s.execute(
                select(ChangeLog.entity, ChangeLog.op)
                .where(ChangeLog.entity == "candidate", ChangeLog.entity_id == subject.row_id)
                .order_by(ChangeLog.seq)
            ).all()
        assert ops[-1] == ("candidate", "delete")
        assert {c.name for c in ChangeLog.__table__.columns} == {  # type: ignore[attr-defined]
            "seq", "entity", "entity_id", "op", "created_at",
        }  # fmt: skip
        # (d) a rematch after the erasure does not bring it back
        later = _run(client)
        assert later > run_id and subject.row_id not in _stored_match_ids(settings)
        new = client.get("/v1/caseworkers/cw-01/new-matches", params={"since_run": run_id})
        assert subject.external_id not in {m["candidate_id"] for m in new.json()["data"]}
        state.index.wait_for_snapshot()  # the snapshot rewritten after the erasure
        assert snapshot_files(settings)
        assert_gone_from_disk(settings, subject)

    # a restart on the same data directory and database (loads the shutdown snapshot)
    with api_client(settings, encoder) as again:
        restarted = _state(again)
        assert restarted.index.loaded_from == "snapshot"
        assert subject.row_id not in index_ids_near(restarted, vec)
        assert len(restarted.index.matcher.candidates.facts) == 3
        _run(again)
        assert subject.row_id not in _stored_match_ids(settings)
    # and a restart that rebuilds from the database
    for path in snapshot_files(settings):
        path.unlink()
    with api_client(settings, encoder) as rebuilt:
        assert _state(rebuilt).index.loaded_from == "database"
        assert subject.row_id not in index_ids_near(_state(rebuilt), vec)
    hits = table_hits(engine, subject.needles())
    assert [h for h in hits if h.split(".")[0] not in KEEPS_CANDIDATE_ID] == []
    engine.dispose()
    assert_gone_from_disk(settings, subject)


# ---------------------------------------------------------------- snapshot races


def _worker(settings: Settings, encoder: Encoder) -> IndexState:
    """Another worker process's index state on the same database and data directory."""
    state = IndexState(
        _engine(settings),
        encoder,
        default_locator(),
        settings.focus_threshold,
        data_dir=settings.data_dir,
    )
    state.start(write_snapshot=False)
    return state


def test_a_lagging_worker_never_writes_the_erased_candidate_back(
    snap_settings: Settings, encoder: Encoder
) -> None:
    settings = snap_settings
    with api_client(settings, encoder) as client:
        _seed(client)
        subject = _plant(client, settings)
        lagging = _worker(settings, encoder)  # has the candidate, then stops catching up
        assert subject.row_id in lagging.matcher.candidates.facts
        assert client.delete(f"/v1/candidates/{subject.external_id}").status_code == 204
        assert subject.row_id in lagging.matcher.candidates.facts  # not caught up yet
        _state(client).index.wait_for_snapshot()  # the erasing worker's rewrite holds the lock
        for force in (False, True):
            assert lagging.write_snapshot(force=force) is not None
            assert_gone_from_disk(settings, subject)
        assert subject.row_id not in lagging.matcher.candidates.facts
        lagging.engine.dispose()


def test_a_snapshot_write_in_progress_is_removed_before_the_erasure_answers(
    snap_settings: Settings, encoder: Encoder
) -> None:
    """Another process is writing a snapshot of the state before the erasure (it holds the
    writer lock): the DELETE waits for it, then removes what it wrote."""
    settings = snap_settings
    with api_client(settings, encoder) as client:
        _seed(client)
        subject = _plant(client, settings)
        path = _state(client).index.write_snapshot(force=True)
        assert path is not None
        stale = path.read_bytes()
        answered: list[int] = []
        eraser = threading.Thread(
            target=lambda: answered.append(
                client.delete(f"/v1/candidates/{subject.external_id}").status_code
            )
        )
        with snap.writer_lock(path) as mine:
            assert mine
            eraser.start()
            time.sleep(1.5)
            assert eraser.is_alive() and not answered  # waits for the writer
            # the slow writer finishes its (old) state: a temp file renamed over the snapshot
            temp = path.with_name(f".{path.name}.424242.tmp")
            temp.write_bytes(stale)
            temp.replace(path)
            (path.parent / f".{path.name}.434343.tmp").write_bytes(stale)  # a killed one's
        eraser.join(30)
        assert answered == [204]
        assert_gone_from_disk(settings, subject)
        _state(client).index.wait_for_snapshot()
        assert [p.name for p in path.parent.glob(".*.tmp")] == []
        assert snap.stored_seq(path) == _state(client).index.last_seq  # rewritten after it
        assert_gone_from_disk(settings, subject)


# ---------------------------------------------------------------- rematch races


class EraseBetween:
    """A local executor that runs ``erase`` at a chosen moment of the run: once the lists are
    computed, before they are handed over for storing, or while the run embeds changed texts."""

    def __init__(self, encoder: Encoder, erase: Any, moment: str) -> None:
        self.inner = LocalExecutor(encoder.embed)
        self._erase, self.moment = erase, moment
        self.erased = False
        self.computed: set[int] = set()  # candidate ids in the computed lists

    def erase(self) -> None:
        if not self.erased:
            self.erased = True
            self._erase()

    def scan_parts(
        self, vacs: SideColumns, cands: SideColumns, tiles: Sequence[Tile], w_rows: int, w_cols: int
    ) -> Iterator[TilePools]:
        return self.inner.scan_parts(vacs, cands, tiles, w_rows, w_cols)

    def rerank_parts(
        self,
        queries: SideColumns,
        targets: SideColumns,
        parts: Sequence[RankPart],
        p: int,
        top_k: int,
    ) -> Iterator[Ranked]:
        for ranked in self.inner.rerank_parts(queries, targets, parts, p, top_k):
            positions, _, lists, _, _ = ranked
            if targets.kind == "candidate":
                self.computed.update(int(i) for i in lists.ids[lists.ids >= 0].tolist())
            else:
                listed = queries.ids[positions][(lists.ids >= 0).any(axis=1)]
                self.computed.update(int(i) for i in listed.tolist())
            yield ranked

    def release(self) -> None:
        # the core is done with the run's sides: what follows is storing
        self.inner.release()
        if self.moment == "storing":
            self.erase()

    def embed(self, texts: Sequence[str]) -> Embedded:
        done = self.inner.embed(texts)
        if self.moment == "embedding":
            self.erase()
        return done


@pytest.mark.parametrize("moment", ["storing", "embedding"])
def test_a_rematch_running_during_the_erasure_stores_nothing_of_it(
    snap_settings: Settings, encoder: Encoder, moment: str
) -> None:
    settings = snap_settings
    with api_client(settings, encoder) as client:
        _seed(client)
        subject = _plant(client, settings)
        engine = _engine(settings)
        if moment == "embedding":  # its text changed outside the API: the run re-embeds it
            with Session(engine) as s:
                s.execute(
                    delete(CandidateEmbedding).where(
                        CandidateEmbedding.candidate_id == subject.row_id
                    )
                )
                s.commit()

        def erase() -> None:
            assert client.delete(f"/v1/candidates/{subject.external_id}").status_code == 204

        executor = EraseBetween(encoder, erase, moment)
        run_id, _ = claim_run(engine, 5, settings.rematch_stale_after_s)
        run = execute_run(
            engine=engine,
            run_id=run_id,
            encoder=encoder,
            locator=default_locator(),
            settings=settings,
            executor=executor,
        )
        assert run.state == "succeeded", run.errors
        assert executor.erased
        if moment == "embedding":
            assert run.counts["outdated_candidates"] == 1
        if moment == "storing":  # it was matched, and the matches were dropped at storing
            assert subject.row_id in executor.computed
        assert subject.row_id not in _stored_match_ids(settings)
        assert _stored_match_ids(settings)  # the others were stored
        hits = table_hits(engine, subject.needles())
        assert [h for h in hits if h.split(".")[0] not in KEEPS_CANDIDATE_ID] == []
        engine.dispose()


def test_a_batch_waits_for_an_uncommitted_erasure_and_then_leaves_it_out(
    snap_settings: Settings, encoder: Encoder
) -> None:
    """The storing transaction against an erasure that has deleted but not yet committed."""
    settings = snap_settings
    with api_client(settings, encoder) as client:
        _seed(client)
        subject = _plant(client, settings)
    engine = _engine(settings)
    run_id, _ = claim_run(engine, 5, settings.rematch_stale_after_s)
    with Session(engine) as s:
        vacancy_id = s.execute(select(Vacancy.id)).scalars().first()
        other = s.execute(select(Candidate.id).where(Candidate.id != subject.row_id)).scalar()
    assert vacancy_id is not None and other is not None
    rows = [
        MatchRow(vacancy_id, cid, FOR_CANDIDATE, 1, 0.5, 0.3, 0.1, 0.1)
        for cid in sorted((subject.row_id, other))
    ]
    query_ids = np.array(sorted((subject.row_id, other)), dtype=np.int64)
    topk = topk_from_rows(rows, FOR_CANDIDATE, query_ids, k=5)
    with Session(engine) as eraser:
        crud.hold_erasure_lock(eraser)
        eraser.execute(
            delete(CandidateEmbedding).where(CandidateEmbedding.candidate_id == subject.row_id)
        )
        eraser.execute(delete(RematchMatch).where(RematchMatch.candidate_id == subject.row_id))
        eraser.execute(delete(Candidate).where(Candidate.id == subject.row_id))
        storing = threading.Thread(target=store_topk, args=(engine, run_id, topk))
        storing.start()
        storing.join(1.5)
        assert storing.is_alive()  # waits for the erasure to commit or roll back
        eraser.commit()
    storing.join(60)
    assert not storing.is_alive()
    assert _stored_match_ids(settings) == {other}
    engine.dispose()


def test_an_erasure_made_around_the_index_is_purged_by_other_workers_and_at_start(
    snap_settings: Settings, encoder: Encoder
) -> None:
    """The eraser died before removing the snapshots (or erased with no index at all, like a
    script): a running worker removes them in the background on applying the entry, and a
    starting one before it serves."""
    settings = snap_settings
    with api_client(settings, encoder) as client:
        _seed(client)
        subject = _plant(client, settings)
    [path] = snapshot_files(settings)  # written at shutdown, with the candidate
    stale = path.read_bytes()
    assert subject.marker.encode() in stale
    running = _worker(settings, encoder)
    engine = _engine(settings)
    with Session(engine) as s:
        key = {"external_id": subject.external_id}
        assert crud.delete_row(session=s, kind=crud.CANDIDATES, key=key)
    assert path.read_bytes() == stale
    with Session(engine) as s:
        running.catch_up(s)  # not the erasing session: the files go in the background
    running.wait_for_snapshot()
    assert_gone_from_disk(settings, subject)
    assert snap.stored_seq(path) == running.last_seq
    path.write_bytes(stale)  # as if restored, or never removed
    starting = IndexState(
        engine, encoder, default_locator(), settings.focus_threshold, data_dir=settings.data_dir
    )
    report = starting.start()
    assert report["loaded_from"] == "snapshot"  # loaded the old file, replayed the erasure...
    assert subject.row_id not in index_ids_near_state(starting, vector_of(subject))
    assert_gone_from_disk(settings, subject)  # ...and replaced the file before serving
    assert snap.stored_seq(path) == starting.last_seq
    running.engine.dispose()
    engine.dispose()
