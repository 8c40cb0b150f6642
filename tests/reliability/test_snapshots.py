"""Snapshots: written at shutdown and after N changes, loaded with replay at start, rejected
(and the indexes rebuilt from the database) when missing, torn, corrupt, from another model,
from the future or disagreeing with the database. Both backends, the real model and FAISS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from matching.embedder import Encoder
from matching.geo import default_locator
from service.config import Settings
from service.state.index_state import IndexNotReady, IndexState
from service.state.snapshot import MAGIC, read_snapshot, snapshot_path, stored_seq, write_snapshot
from service.store import crud
from service.store.db import make_engine
from service.store.models import CandidateIn
from tests.auth import api_client
from tests.factories import CARE_CV, candidate, vacancy

# the engines the test's index states opened; disposed after each test, so that no pooled
# connection to a dropped database is left to the garbage collector (a ResourceWarning in
# whichever test runs then)
_ENGINES: list[Engine] = []


@pytest.fixture(autouse=True)
def _engines_disposed() -> Iterator[None]:
    yield
    while _ENGINES:
        _ENGINES.pop().dispose()


def _state(settings: Settings, encoder: Encoder, snapshot_every: int = 0) -> IndexState:
    engine = make_engine(settings.resolved_database_url())
    _ENGINES.append(engine)
    return IndexState(
        engine,
        encoder,
        default_locator(),
        settings.focus_threshold,
        data_dir=settings.data_dir,
        snapshot_every=snapshot_every,
    )


def _seed(settings: Settings, encoder: Encoder, n: int = 4) -> None:
    """Write through a running app, then stop it: the shutdown writes a snapshot."""
    with api_client(settings, encoder) as c:
        for i in range(n):
            assert c.put(f"/v1/candidates/c{i}", json=candidate()).status_code == 201
        assert c.put("/v1/employers/e1/vacancies/v1", json=vacancy()).status_code == 201


def _db_write(state: IndexState, encoder: Encoder) -> None:
    """Changes made while no server runs: one new candidate, one deleted."""
    with Session(state.engine) as s:
        crud.upsert_many(
            session=s,
            kind=crud.CANDIDATES,
            items=[({"external_id": "late"}, CandidateIn(**candidate(cv_text=CARE_CV)))],
            encoder=encoder,
        )
        assert crud.delete_row(session=s, kind=crud.CANDIDATES, key={"external_id": "c0"})


def test_shutdown_snapshot_is_loaded_and_later_changes_replayed(
    settings: Settings, encoder: Encoder
) -> None:
    _seed(settings, encoder)
    path = snapshot_path(settings.data_dir, encoder.model_id)
    assert path.is_file() and path.read_bytes().startswith(MAGIC)
    state = _state(settings, encoder)
    _db_write(state, encoder)
    started = state.start()
    assert started["loaded_from"] == "snapshot" and started["snapshot_rejected"] is None
    assert started["check"]["ok"] and started["check"]["candidate"]["index"] == 4
    external = {f.external_id for f in state.matcher.candidates.facts.values()}
    assert external == {"c1", "c2", "c3", "late"}
    assert state.last_seq == started["check"]["db_seq"]


def test_snapshot_after_n_changes(settings: Settings, encoder: Encoder) -> None:
    state = _state(settings, encoder, snapshot_every=2)
    state.start(write_snapshot=False)
    path = snapshot_path(settings.data_dir, encoder.model_id)
    assert not path.exists()
    with Session(state.engine) as s:
        for i in range(2):
            crud.upsert_many(
                session=s,
                kind=crud.CANDIDATES,
                items=[({"external_id": f"n{i}"}, CandidateIn(**candidate()))],
                encoder=encoder,
            )
        state.catch_up(s)
    state.wait_for_snapshot()
    header, _ = read_snapshot(
        path, model_id=encoder.model_id, dim=encoder.dim, database=_fingerprint(state)
    )
    assert (header.seq, header.candidates) == (state.last_seq, 2)


def _fingerprint(state: IndexState) -> str:
    from service.state.index_state import database_fingerprint

    return database_fingerprint(state.engine)


def _rewrite(path: Path, state: IndexState, encoder: Encoder, **header_changes: object) -> None:
    header, payload = read_snapshot(
        path, model_id=encoder.model_id, dim=encoder.dim, database=_fingerprint(state)
    )
    fields = {k: v for k, v in vars(header).items() if k != "sha256"}
    write_snapshot(path, {**fields, **header_changes}, payload)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip_byte", "checksum"),
        ("truncate", "checksum"),
        ("garbage", "not a snapshot"),
        ("other_model", "made for model"),
        ("other_database", "another database"),
        ("future_seq", "older backup"),
    ],
)
def test_unusable_snapshot_is_rebuilt_from_the_database(
    settings: Settings, encoder: Encoder, damage: str, reason: str
) -> None:
    _seed(settings, encoder)
    path = snapshot_path(settings.data_dir, encoder.model_id)
    probe = _state(settings, encoder)
    if damage == "flip_byte":
        raw = bytearray(path.read_bytes())
        raw[-100] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "truncate":  # what a torn, non-atomic write would leave
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 64)
    elif damage == "other_model":
        _rewrite(path, probe, encoder, model_id="some-other-model@abc")
    elif damage == "other_database":
        _rewrite(path, probe, encoder, database="0123456789abcdef")
    elif damage == "future_seq":
        _rewrite(path, probe, encoder, seq=10**9)
    state = _state(settings, encoder)
    _db_write(state, encoder)
    started = state.start()
    assert started["loaded_from"] == "database"
    assert reason in started["snapshot_rejected"]
    assert started["check"]["ok"] and started["check"]["candidate"]["index"] == 4
    # a good snapshot replaced the bad one
    again = _state(settings, encoder).start()
    assert again["loaded_from"] == "snapshot" and again["check"]["ok"]


def test_snapshot_disagreeing_with_the_database_is_not_served(
    settings: Settings, encoder: Encoder
) -> None:
    """A well-formed snapshot whose id map lost a row (its seq claims otherwise)."""
    _seed(settings, encoder)
    tampered = _state(settings, encoder)
    assert tampered.start()["loaded_from"] == "snapshot"
    lost = min(tampered.matcher.candidates.facts)
    tampered.matcher.candidates.remove([lost])
    tampered.write_snapshot(force=True)
    unrepaired = _state(settings, encoder).start(repair=False, write_snapshot=False)
    assert not unrepaired["check"]["ok"]
    assert "candidate: 1 ids missing" in unrepaired["check"]["problems"][0]
    state = _state(settings, encoder)
    started = state.start()
    assert started["loaded_from"] == "database" and "disagrees" in started["snapshot_rejected"]
    assert lost in state.matcher.candidates.facts and started["check"]["ok"]


def test_leftover_temp_file_from_a_killed_writer_is_ignored(
    settings: Settings, encoder: Encoder
) -> None:
    _seed(settings, encoder)
    path = snapshot_path(settings.data_dir, encoder.model_id)
    (path.parent / f".{path.name}.99999.tmp").write_bytes(path.read_bytes()[:1000])
    started = _state(settings, encoder).start()
    assert started["loaded_from"] == "snapshot" and started["check"]["ok"]


def test_not_ready_is_503_never_an_empty_answer(client: TestClient) -> None:
    assert client.put("/v1/candidates/c1", json=candidate()).status_code == 201
    assert client.put("/v1/employers/e1/vacancies/v1", json=vacancy()).status_code == 201
    index: IndexState = client.app.state.werkmatch.index  # type: ignore[attr-defined]
    index.ready = False
    try:
        for resp in (
            client.get("/readyz"),
            client.get("/v1/candidates/c1/matches"),
            client.get("/v1/employers/e1/vacancies/v1/matches"),
            client.post("/v1/match", json={"text": "heftruck", "target": "candidates"}),
        ):
            assert resp.status_code == 503, resp.text
            assert resp.headers["retry-after"] == "5"
        assert client.get("/v1/candidates/c1/matches").json()["error"] == "index_not_ready"
        with pytest.raises(IndexNotReady), Session(index.engine) as s:
            index.catch_up(s)
    finally:
        index.ready = True
    assert client.get("/v1/candidates/c1/matches").status_code == 200
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["check"]["ok"]
    assert ready["check"]["candidate"] == {"db": 1, "index": 1, "vectors": 1}
    assert json.dumps(ready)  # plain JSON


def test_a_snapshot_is_not_replaced_by_an_older_or_equal_state(
    settings: Settings, encoder: Encoder
) -> None:
    _seed(settings, encoder)
    path = snapshot_path(settings.data_dir, encoder.model_id)
    behind = _state(settings, encoder)
    behind.start()
    ahead = _state(settings, encoder)
    ahead.start()
    with Session(ahead.engine) as s:
        crud.upsert_many(
            session=s,
            kind=crud.CANDIDATES,
            items=[({"external_id": "new"}, CandidateIn(**candidate()))],
            encoder=encoder,
        )
        ahead.catch_up(s)
    assert ahead.write_snapshot() == path
    written, inode = path.read_bytes(), path.stat().st_ino
    assert behind.last_seq < ahead.last_seq
    # a writer catches up under the file lock first (it must never write back an older state,
    # see test_erasure.py); then the file already holds its state and is left alone
    behind.write_snapshot()
    assert behind.last_seq == ahead.last_seq == stored_seq(path)
    assert path.read_bytes() == written and path.stat().st_ino == inode
    behind.write_snapshot(force=True)  # forced: written again, at the caught-up seq
    assert path.stat().st_ino != inode and stored_seq(path) == ahead.last_seq
