"""Concurrent writes of one id answer as if they ran one after another, on both backends.

Every write route is raced against a real uvicorn server (requests from separate threads and
connections, released by one barrier): first PUTs of a new id, PUTs racing DELETEs, parallel
DELETEs, follow-up statuses racing an erasure, and rematch starts. Each racer must get the
answer it would get in some serial order (200/201/204/404, 202/409 for a rematch start), an
audit record when the route is audited, and nothing may be half-written: every row has the
vector of its current text, no vector is left without its row, the change log's last entry of
every id says whether it exists, and the in-memory index equals the database. No log record at
WARNING or above and no warning outside logging may appear (the deployed service prints those
as text lines, not as JSON).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from matching.embedder import Encoder, content_hash
from service.api.app import create_app
from service.config import Settings
from service.formats.jobposting import JOBPOSTING_EXAMPLE, MEDIA_TYPE
from service.security.keys import create_key, revoke_key
from service.store import crud
from service.store.db import make_engine
from service.store.models import ChangeLog, FocusOccupation
from service.store.rematch_models import MatchStatus, RematchRun
from service.store.security_models import ApiKey, AuditEvent
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, HEFTRUCK_FOCUS, candidate, vacancy
from tests.live_server import Call, LiveServer, race, watch_problems

RACERS = 8
ROUNDS = 2


@dataclass
class Live:
    server: LiveServer
    key: str
    engine: Engine

    def race(self, calls: list[Call]) -> list[httpx.Response]:
        return race(self.server.base, self.key, calls)

    def get(self, path: str) -> httpx.Response:
        with httpx.Client(base_url=self.server.base, timeout=30) as http:
            return http.get(path, headers={"Authorization": f"Bearer {self.key}"})


@pytest.fixture
def live(settings: Settings, encoder: Encoder) -> Iterator[Live]:
    url = settings.resolved_database_url()
    key = make_token(url, "admin")
    engine = make_engine(url)
    with LiveServer(settings, encoder) as server:
        yield Live(server, key, engine)
    engine.dispose()


# ---------------------------------------------------------------- what "consistent" means


def _half_written(engine: Engine, model_id: str) -> list[str]:
    """Everything that disagrees between rows, vectors and the change log."""
    problems = []
    with Session(engine) as s:
        for kind in (crud.CANDIDATES, crud.VACANCIES):
            rows = {r.id: r for r in s.exec(select(kind.table)).all()}
            vectors = {getattr(e, kind.fk): e for e in s.exec(select(kind.embedding)).all()}
            for row_id, row in rows.items():
                text = kind.embed_text(kind.schema.model_validate(crud.input_fields(kind, row)))
                stored = vectors.get(row_id)
                if stored is None or stored.content_hash != content_hash(text, model_id):
                    problems.append(f"{kind.name} {row_id}: vector missing or of an older text")
            problems += [f"{kind.name} vector {i} without a row" for i in set(vectors) - set(rows)]
            problems += _log_disagrees(s, kind.name, set(rows))
        focus = set(s.exec(select(FocusOccupation.id)).all())
        problems += _log_disagrees(s, "focus", focus)  # type: ignore[arg-type]
    return problems


def _log_disagrees(session: Session, entity: str, existing: set[int]) -> list[str]:
    last: dict[int, str] = {}
    entries = session.exec(
        select(ChangeLog).where(ChangeLog.entity == entity).order_by(col(ChangeLog.seq))
    )
    for entry in entries:
        last[entry.entity_id] = entry.op
    wrong = [i for i, op in last.items() if (op == "upsert") != (i in existing)]
    unlogged = existing - set(last)
    return [f"{entity} {i}: change log says {last.get(i)}" for i in [*wrong, *unlogged]]


def _assert_consistent(live: Live) -> None:
    assert _half_written(live.engine, live.server.state.encoder.model_id) == []
    report = live.server.state.index.compare()
    assert report["ok"] and report["status"] == "ok", report


def _audit_statuses(engine: Engine, candidate_id: str) -> list[int]:
    """The statuses of the audit records of writes (PUT, DELETE) naming this candidate."""
    with Session(engine) as s:
        rows = s.exec(
            select(AuditEvent).where(
                AuditEvent.candidate_id == candidate_id,
                col(AuditEvent.method).in_(["PUT", "DELETE"]),
            )
        ).all()
    return sorted(r.status for r in rows)


def _codes(answers: list[httpx.Response]) -> list[int]:
    return sorted(a.status_code for a in answers)


# ---------------------------------------------------------------- the written kinds


@dataclass(frozen=True)
class Target:
    """A kind of row written by PUT and erased by DELETE at one path."""

    name: str
    path: Callable[[str], str]
    body: Callable[[int], tuple[dict[str, Any], str]]  # (body, media type) of racer j
    audited: bool  # the route is in the audit log (candidate data)


def _vacancy_body(j: int) -> tuple[dict[str, Any], str]:
    if j % 2:  # every other racer sends a schema.org JobPosting through the intake mapping
        return {**JOBPOSTING_EXAMPLE, "title": f"Heftruckchauffeur {j}"}, MEDIA_TYPE
    return vacancy(title=f"Heftruckchauffeur {j}"), "application/json"


TARGETS = [
    Target(
        "candidate",
        lambda ident: f"/v1/candidates/{ident}",
        # half the racers send another text: the stored vector must follow the stored text
        lambda j: (
            candidate(skills=[f"vaardigheid {j % 2}"], hours_per_week_min=j % 24),
            "application/json",
        ),
        audited=True,
    ),
    Target(
        "vacancy",
        lambda ident: f"/v1/employers/race-employer/vacancies/{ident}",
        _vacancy_body,
        audited=False,
    ),
    Target(
        "focus",
        lambda ident: f"/v1/focus-occupations/{ident}",
        lambda j: ({**HEFTRUCK_FOCUS, "synonyms": [f"heftruckrijder {j}"]}, "application/json"),
        audited=False,
    ),
]


def _put(target: Target, ident: str, j: int) -> Call:
    body, media = target.body(j)
    return Call("PUT", target.path(ident), body, media)


def _written(answers: list[httpx.Response]) -> list[dict[str, Any]]:
    return [a.json() for a in answers if a.status_code in (200, 201)]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_first_puts_of_one_new_id(live: Live, target: Target) -> None:
    """Eight first PUTs of one new id: one creates it (201), seven replace it (200); the row
    that stays is the one the last writer answered."""
    with watch_problems() as problems:
        for r in range(ROUNDS):
            ident = f"first-{r}"
            answers = live.race([_put(target, ident, j) for j in range(RACERS)])
            assert _codes(answers) == [200] * (RACERS - 1) + [201], [a.text for a in answers]
            final = live.get(target.path(ident))
            assert final.status_code == 200
            assert final.json() in _written(answers)
            if target.audited:
                assert _audit_statuses(live.engine, ident) == _codes(answers)
    assert problems.describe() == []
    _assert_consistent(live)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_puts_racing_deletes_of_one_id(live: Live, target: Target) -> None:
    """PUTs and DELETEs of one existing id: each answer fits one serial order (a DELETE of an
    existing row 204, of a missing one 404; a PUT 201 when it re-creates the row, else 200)."""
    with watch_problems() as problems:
        for r in range(ROUNDS):
            ident = f"contested-{r}"
            first = live.race([_put(target, ident, 99)])
            assert _codes(first) == [201]
            calls = [
                _put(target, ident, j) if j % 2 else Call("DELETE", target.path(ident))
                for j in range(RACERS)
            ]
            answers = live.race(calls)
            codes = Counter(a.status_code for a in answers)
            assert set(codes) <= {200, 201, 204, 404}, [a.text for a in answers]
            assert sum(codes[c] for c in (204, 404)) == RACERS // 2
            # the row existed: deletes and re-creations alternate, starting with a delete
            assert codes[204] - codes[201] in (0, 1), codes
            final = live.get(target.path(ident))
            exists = codes[204] == codes[201]
            assert final.status_code == (200 if exists else 404), (codes, final.text)
            if exists:
                assert final.json() in _written(answers)
            if target.audited:
                assert _audit_statuses(live.engine, ident) == sorted([201, *codes.elements()])
    assert problems.describe() == []
    _assert_consistent(live)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_parallel_deletes_of_one_id(live: Live, target: Target) -> None:
    """Eight DELETEs of one row: exactly one erases it (204), seven find nothing (404), and
    the change log holds one delete."""
    with watch_problems() as problems:
        for r in range(ROUNDS):
            ident = f"doomed-{r}"
            created = live.race([_put(target, ident, 0)])
            assert _codes(created) == [201]
            answers = live.race([Call("DELETE", target.path(ident))] * RACERS)
            assert _codes(answers) == [204] + [404] * (RACERS - 1), [a.text for a in answers]
            assert live.get(target.path(ident)).status_code == 404
            if target.audited:
                assert _audit_statuses(live.engine, ident) == [201, 204] + [404] * (RACERS - 1)
    with Session(live.engine) as s:
        deletes = s.exec(select(ChangeLog).where(ChangeLog.op == "delete")).all()
    assert len(deletes) == ROUNDS
    assert problems.describe() == []
    _assert_consistent(live)


def test_match_statuses_race_each_other_and_an_erasure(live: Live) -> None:
    """First status PUTs of one pair all succeed (one row stays, from one of them); status
    PUTs racing the candidate's erasure answer 200 or 404 and leave no status behind."""
    statuses = ["seen", "proposed", "rejected", "placed"]
    with watch_problems() as problems:
        assert (
            live.race([Call("PUT", "/v1/employers/e1/vacancies/v1", vacancy())])[0].status_code
            == 201
        )
        for r in range(ROUNDS):
            cid = f"followed-{r}"
            assert (
                live.race([Call("PUT", f"/v1/candidates/{cid}", candidate(CARE_CV))])[0].status_code
                == 201
            )
            path = f"/v1/matches/e1/v1/{cid}/status"
            answers = live.race(
                [
                    Call("PUT", path, {"status": statuses[j % 4], "note": f"n{j}"})
                    for j in range(RACERS)
                ]
            )
            assert _codes(answers) == [200] * RACERS, [a.text for a in answers]
            with Session(live.engine) as s:
                rows = s.exec(select(MatchStatus)).all()
            assert len(rows) == 1
            assert (rows[0].status, rows[0].note) in {
                (a.json()["status"], a.json()["note"]) for a in answers
            }

            calls = [Call("PUT", path, {"status": "seen"}) for _ in range(RACERS - 2)]
            calls += [Call("DELETE", f"/v1/candidates/{cid}")] * 2
            answers = live.race(calls)
            puts, deletes = _codes(answers[:-2]), _codes(answers[-2:])
            assert deletes == [204, 404] and set(puts) <= {200, 404}, [a.text for a in answers]
            with Session(live.engine) as s:
                assert s.exec(select(MatchStatus)).all() == []
            assert _audit_statuses(live.engine, cid) == sorted(
                [201, *puts, *deletes, *[200] * RACERS]
            )
    assert problems.describe() == []
    _assert_consistent(live)


def test_rematch_starts_race(live: Live) -> None:
    """Eight starts of a rematch at once: one run starts (202), the others are told a run is in
    progress (409); one run row exists."""
    assert live.race([Call("PUT", "/v1/candidates/c1", candidate())])[0].status_code == 201
    assert (
        live.race([Call("PUT", "/v1/employers/e1/vacancies/v1", vacancy())])[0].status_code == 201
    )
    with watch_problems() as problems:
        answers = live.race([Call("POST", "/v1/rematch-runs", {"top_k": 5})] * RACERS)
        assert _codes(answers) == [202] + [409] * (RACERS - 1), [a.text for a in answers]
        run_id = next(a.json()["run_id"] for a in answers if a.status_code == 202)
        deadline = time.monotonic() + 60
        while live.get(f"/v1/rematch-runs/{run_id}").json()["state"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the rematch run did not finish"
            time.sleep(0.2)
        assert live.get(f"/v1/rematch-runs/{run_id}").json()["state"] == "succeeded"
    with Session(live.engine) as s:
        assert len(s.exec(select(RematchRun)).all()) == 1
    assert problems.describe() == []


def test_bad_input_in_a_race_changes_nothing(live: Live) -> None:
    """Racing PUTs with invalid bodies are each a 422 naming the field, next to valid ones."""
    calls = [
        Call("PUT", "/v1/candidates/mixed", candidate(postcode="nope") if j % 2 else candidate())
        for j in range(RACERS)
    ]
    with watch_problems() as problems:
        answers = live.race(calls)
    assert _codes(answers) == [200] * 3 + [201] + [422] * 4
    assert {a.json()["detail"][0]["field"] for a in answers if a.status_code == 422} == {"postcode"}
    assert live.get("/v1/candidates/mixed").json()["postcode"] == candidate()["postcode"]
    assert problems.describe() == []
    _assert_consistent(live)


def test_parallel_revocations_of_one_key(settings: Settings) -> None:
    """``werkmatch keys revoke`` run several times at once: one revocation time, the first."""
    engine = make_engine(settings.resolved_database_url())
    with Session(engine) as s:
        key, _ = create_key(s, "director", label="revoked-in-parallel")
    barrier = threading.Barrier(RACERS)
    seen: list[Any] = []

    def revoke() -> None:
        with Session(engine) as s:
            barrier.wait()
            revoked = revoke_key(s, key.id)
            assert revoked is not None
            seen.append(revoked.revoked_at)

    threads = [threading.Thread(target=revoke) for _ in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with Session(engine) as s:
        stored = s.get(ApiKey, key.id)
        assert stored is not None and stored.revoked_at is not None
        assert len(seen) == RACERS and set(seen) == {stored.revoked_at}
        assert revoke_key(s, "nosuchkey123") is None
    engine.dispose()


def test_an_unexpected_error_is_audited_too(
    settings: Settings, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails in an unforeseen way (answered 500 by the outermost handler, outside
    the access gate) still leaves its audit record."""

    def broken(**_: object) -> None:
        raise RuntimeError("boom")

    engine = make_engine(settings.resolved_database_url())
    token = make_token(settings.resolved_database_url(), "intake")
    app = create_app(settings, encoder)
    with TestClient(app, headers=bearer(token), raise_server_exceptions=False) as client:
        monkeypatch.setattr(crud, "upsert_many", broken)
        resp = client.put("/v1/candidates/unlucky", json=candidate())
        assert resp.status_code == 500
        assert resp.json() == {"error": "internal_error", "detail": "unexpected server error"}
    with Session(engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.candidate_id == "unlucky")).all()
    assert [(r.method, r.action, r.status, r.outcome) for r in rows] == [
        ("PUT", "write", 500, "failed")
    ]
    engine.dispose()
