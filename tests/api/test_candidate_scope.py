"""Scope and audit of candidate data as one table: every route that shows or writes candidate
data × every kind of key, on both backends.

For each cell the answer may show only candidates the key may see (a caseload-limited director:
that caseload; a key bound to an organisation: that organisation's; both: where both hold;
other roles: everyone), a candidate outside the scope answers 404 as a missing one does, counts
and totals count only the scope, and the audit log holds a record for exactly the candidates
the answer showed (or, for a refusal or a miss, one record of the attempt).
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from matching.embedder import Encoder
from service.api.app import create_app
from service.api.tenancy import CandidateScopeDep, candidate_scope
from service.config import Settings
from service.security import audit, auth
from service.security.auth import POLICY, flat_routes
from service.store.db import make_engine
from service.store.security_models import AuditEvent
from tests.auth import bearer, make_token
from tests.databases import BACKENDS, copy_database, copy_source, drop_database
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, candidate, vacancy

ALL = frozenset({"k-1", "k-2", "k-3", "k-4"})
EVERYONE = ALL | {"k-9"}  # k-9 (caseworker cw-9) exists only during the erasure call
# key name -> (role, caseworker limit, candidates it may see)
KEYS: dict[str, tuple[str, str | None, frozenset[str]]] = {
    "admin": ("admin", None, EVERYONE),
    "director": ("director", None, EVERYONE),
    "cw1": ("director", "cw-1", frozenset({"k-1", "k-3"})),
    "cw2": ("director", "cw-2", frozenset({"k-2", "k-4"})),
    "intake": ("intake", None, EVERYONE),
    "employer": ("employer", None, frozenset()),
    "batch": ("batch", None, frozenset()),
}
V1 = "/v1/employers/emp-a/vacancies/v-1"
V2 = "/v1/employers/emp-a/vacancies/v-2"
_ID = re.compile(r"\bk-\d+\b")


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]
    url: str


def _build(client: TestClient, admin: dict[str, str], bodies: dict[str, dict[str, Any]]) -> None:
    """Write the candidates and the two vacancies, and run a rematch to its end."""
    for cid, body in bodies.items():
        resp = client.put(f"/v1/candidates/{cid}", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
    care = vacancy(
        title="Verzorgende IG thuiszorg",
        description=(
            "Voor onze thuiszorgteams in Rotterdam zoeken wij een verzorgende IG. Je "
            "verleent persoonlijke verzorging aan ouderen en rapporteert in het dossier."
        ),
        occupation="verzorgende IG",
        skills=["persoonlijke verzorging"],
        requires_driving_licence=False,
    )
    for path, body in ((V1, vacancy()), (V2, care)):
        assert client.put(path, json=body, headers=admin).status_code == 201
    resp = client.post("/v1/rematch-runs", json={"top_k": 10}, headers=admin)
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["run_id"]
    deadline = time.monotonic() + 120
    while client.get(f"/v1/rematch-runs/{run_id}", headers=admin).json()["state"] == "running":
        assert time.monotonic() < deadline, "rematch run did not finish"
        time.sleep(0.1)


@dataclass(frozen=True)
class Built:
    """A world as built once per backend: its database and data folder, copied per test."""

    database: Path | str  # a SQLite file, or a PostgreSQL database name (a template)
    data_dir: Path
    headers: dict[str, dict[str, str]]


def _built(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    encoder: Encoder,
    keys: dict[str, tuple[str, dict[str, str]]],
    bodies: dict[str, dict[str, Any]],
) -> Iterator[Built]:
    """Build a world once (keys of ``keys``: name -> (role, binding); the candidates of
    ``bodies``, the two vacancies and a finished rematch run) on the fixture's backend."""
    folder = tmp_path_factory.mktemp("scope-world")
    template = "sqlite_template" if request.param == "sqlite" else "pg_template"
    url = copy_database(request.getfixturevalue(template), folder)
    try:
        settings = Settings(database_url=url, data_dir=folder / "data")
        headers = {
            name: bearer(make_token(url, role, **bound)) for name, (role, bound) in keys.items()
        }
        with TestClient(create_app(settings, encoder)) as client:
            _build(client, headers["admin"], bodies)
        yield Built(copy_source(url), settings.data_dir, headers)
    finally:
        drop_database(url)


def _copy(built: Built, encoder: Encoder, tmp_path: Path) -> Iterator[World]:
    """A copy of a built world (database and data folder) for one test, with its own app: the
    calls of a test change its copy only."""
    url = copy_database(built.database, tmp_path)
    try:
        settings = Settings(database_url=url, data_dir=tmp_path / "data")
        shutil.copytree(built.data_dir, settings.data_dir)
        with TestClient(create_app(settings, encoder)) as client:
            yield World(client, built.headers, url)
    finally:
        drop_database(url)


def _key_binding(role: str, cw: str | None) -> dict[str, str]:
    if role == "employer":
        return {"employer_id": "emp-a"}
    return {"caseworker_id": cw} if cw else {}


@pytest.fixture(scope="module", params=BACKENDS)
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> Iterator[Built]:
    """Four candidates in two caseloads, two vacancies, a finished rematch run and a key of
    each kind, built once per backend (the rematch run makes it the slow part)."""
    keys = {name: (role, _key_binding(role, cw)) for name, (role, cw, _) in KEYS.items()}
    bodies = {
        "k-1": candidate(FORKLIFT_CV, caseworker_id="cw-1"),
        "k-2": candidate(FORKLIFT_CV + " Ook reachtruck.", caseworker_id="cw-2"),
        "k-3": candidate(CARE_CV, caseworker_id="cw-1", desired_occupations=["verzorgende IG"]),
        # incomplete: no occupation, hours or ladder step, so it is in the report
        "k-4": {
            "cv_text": CATERING_CV,
            "caseworker_id": "cw-2",
            "postcode": "3011AB",
            "active": True,
        },
    }
    yield from _built(request, tmp_path_factory, encoder, keys, bodies)


@pytest.fixture
def world(built: Built, encoder: Encoder, tmp_path: Path) -> Iterator[World]:
    yield from _copy(built, encoder, tmp_path)


def _shown(resp: httpx.Response) -> set[str]:
    """The candidate ids an answer shows (JSON fields or text of a page fragment)."""
    if resp.headers.get("content-type", "").startswith("application/json"):
        found: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for k, v in value.items():
                    if k == "candidate_id" and isinstance(v, str):
                        found.add(v)
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(resp.json())
        return found
    return set(_ID.findall(resp.text))


def _audited(url: str, request_id: str) -> list[AuditEvent]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return list(
                s.exec(select(AuditEvent).where(col(AuditEvent.request_id) == request_id)).all()
            )
    finally:
        engine.dispose()


Call = Callable[[World, dict[str, str]], httpx.Response]


def _get(path: str) -> Call:
    return lambda w, h: w.client.get(path, headers=h)


def _put_status(candidate_id: str) -> Call:
    url = f"/v1/matches/emp-a/v-1/{candidate_id}/status"
    return lambda w, h: w.client.put(url, json={"status": "seen"}, headers=h)


def _erase_made_for_it(w: World, h: dict[str, str]) -> httpx.Response:
    """Erase a candidate made for the purpose (erasing one of the four would change the
    world for the calls after it); an admin removes it again when the key may not."""
    admin = w.headers["admin"]
    body = candidate(caseworker_id="cw-9")
    assert w.client.put("/v1/candidates/k-9", json=body, headers=admin).status_code == 201
    resp = w.client.delete("/v1/candidates/k-9", headers=h)
    w.client.delete("/v1/candidates/k-9", headers=admin)
    return resp


# route template -> the calls that exercise it
CALLS: dict[tuple[str, str], list[Call]] = {
    ("GET", "/v1/candidates/{candidate_id}"): [_get(f"/v1/candidates/{c}") for c in sorted(ALL)],
    ("GET", "/v1/candidates"): [
        _get("/v1/candidates?limit=200"),
        _get("/v1/candidates?caseworker_id=cw-2"),
    ],
    ("GET", "/v1/candidates/{candidate_id}/matches"): [
        _get(f"/v1/candidates/{c}/matches") for c in sorted(ALL)
    ],
    ("GET", "/v1/employers/{employer_id}/vacancies/{vacancy_id}/matches"): [
        _get(f"{V1}/matches?limit=50"),
        _get(f"{V2}/matches?limit=50"),
    ],
    ("POST", "/v1/match"): [
        lambda w, h: w.client.post(
            "/v1/match", json={"target": "candidates", "text": FORKLIFT_CV, "limit": 50}, headers=h
        ),
        lambda w, h: w.client.post(
            "/v1/match", json={"target": "vacancies", "text": FORKLIFT_CV}, headers=h
        ),
    ],
    ("GET", "/v1/reports/profile-completeness"): [
        _get("/v1/reports/profile-completeness"),
        _get("/v1/reports/profile-completeness?caseworker_id=cw-2"),
    ],
    ("GET", "/v1/reports/unmatched"): [
        _get("/v1/reports/unmatched?limit=200"),
        _get("/v1/reports/unmatched?caseworker_id=cw-2"),
    ],
    ("GET", "/v1/caseworkers/{caseworker_id}/new-matches"): [
        _get("/v1/caseworkers/cw-1/new-matches?limit=200"),
        _get("/v1/caseworkers/cw-2/new-matches?limit=200"),
    ],
    ("GET", "/v1/employers/{employer_id}/vacancies/{vacancy_id}/new-matches"): [
        _get(f"{V1}/new-matches?limit=200"),
        _get(f"{V2}/new-matches?limit=200"),
    ],
    ("PUT", "/v1/matches/{employer_id}/{vacancy_id}/{candidate_id}/status"): [
        _put_status(c) for c in sorted(ALL)
    ],
    ("PUT", "/v1/candidates/{candidate_id}"): [
        lambda w, h: w.client.put(
            "/v1/candidates/k-1", json=candidate(FORKLIFT_CV, caseworker_id="cw-1"), headers=h
        )
    ],
    ("DELETE", "/v1/candidates/{candidate_id}"): [_erase_made_for_it],
    ("PUT", "/v1/candidates/{candidate_id}/cv-document"): [
        lambda w, h: w.client.put(
            "/v1/candidates/k-1/cv-document",
            content=FORKLIFT_CV.encode(),
            headers={**h, "Content-Type": "text/plain; charset=utf-8"},
        )
    ],
    ("GET", "/ui/f/vacancies/{employer_id}/{vacancy_id}"): [_get("/ui/f/vacancies/emp-a/v-1")],
    ("GET", "/ui/f/candidates/{candidate_id}"): [
        _get(f"/ui/f/candidates/{c}") for c in sorted(ALL)
    ],
    ("GET", "/ui/f/new-matches"): [
        _get("/ui/f/new-matches?caseworker=cw-1"),
        _get("/ui/f/new-matches?caseworker=cw-2"),
    ],
    ("GET", "/ui/f/unmatched"): [
        _get("/ui/f/unmatched?caseworker=cw-1"),
        _get("/ui/f/unmatched?caseworker=cw-2"),
    ],
}


def test_every_audited_route_is_in_the_table_and_every_route_is_classified() -> None:
    assert set(CALLS) == set(audit.AUDITED)
    assert set(POLICY) == set(audit.AUDITED) | audit.NO_CANDIDATE_DATA
    assert not set(audit.AUDITED) & audit.NO_CANDIDATE_DATA


def _depends_on(dependant: Any, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def test_every_audited_route_takes_the_candidate_scope(
    settings: Settings, encoder: Encoder
) -> None:
    app = create_app(settings, encoder)
    seen = set()
    for route in flat_routes(app.routes):
        for method in getattr(route, "methods", ()) or ():
            key = (method, getattr(route, "path", ""))
            if key in audit.AUDITED:
                seen.add(key)
                assert _depends_on(route.dependant, candidate_scope), key  # type: ignore[attr-defined]
    assert seen == set(audit.AUDITED)


@pytest.mark.parametrize("key", sorted(KEYS))
def test_candidate_data_routes_by_key_scope(world: World, key: str) -> None:
    role, _, visible = KEYS[key]
    _check_table(world, CALLS, key, world.headers[key], role, visible)


def _check_table(
    world: World,
    table: dict[tuple[str, str], list[Call]],
    key: str,
    h: dict[str, str],
    role: str,
    visible: frozenset[str],
) -> None:
    """Every call of the table with this key: what it shows, what is 404, what is audited."""
    for (method, route), calls in table.items():
        allowed = role in POLICY[(method, route)]
        for call in calls:
            rid = f"t-{uuid.uuid4().hex}"
            resp = call(world, {**h, "X-Request-ID": rid})
            where = f"{key} {method} {resp.request.url}"
            if not allowed:
                assert resp.status_code == 403, where
            assert resp.status_code < 500, where
            shown = _shown(resp) if resp.status_code < 300 else set()
            assert shown <= visible, (where, shown - visible)
            path_ids = set(_ID.findall(resp.request.url.path))
            if resp.status_code == 404 and path_ids:
                assert not path_ids <= visible or method == "DELETE", where
            if allowed and path_ids and path_ids <= visible and method != "DELETE":
                assert resp.status_code < 300, (where, resp.text)
            if allowed and path_ids and not path_ids <= visible:
                assert resp.status_code == 404, where
            rows = _audited(world.url, rid)
            assert rows, f"no audit record for {where}"
            audited = {r.candidate_id for r in rows} - {None}
            if resp.status_code < 300:
                assert {r.outcome for r in rows} == {"allowed"}, where
                if (method, route) == ("POST", "/v1/match"):
                    assert audited == shown, where
                else:
                    # the answer's own candidates, plus the one its path names
                    assert audited == shown | path_ids or audited == shown, (where, audited)
            else:
                assert {r.outcome for r in rows} <= {"refused", "not_found", "failed"}, where


def test_report_counts_only_the_scope(world: World) -> None:
    cw1 = world.client.get("/v1/reports/profile-completeness", headers=world.headers["cw1"])
    cw2 = world.client.get("/v1/reports/profile-completeness", headers=world.headers["cw2"])
    everyone = world.client.get("/v1/reports/profile-completeness", headers=world.headers["admin"])
    assert cw1.json()["active_candidates"] == 2 and cw2.json()["active_candidates"] == 2
    assert everyone.json()["active_candidates"] == 4
    assert {p["candidate_id"] for p in cw2.json()["data"]} == {"k-4"}
    assert cw1.json()["count"] == 0 and cw1.json()["data"] == []
    asked = world.client.get(
        "/v1/reports/profile-completeness?caseworker_id=cw-2", headers=world.headers["cw1"]
    ).json()
    assert asked["active_candidates"] == 0 and asked["data"] == []
    assert sum(everyone.json()["missing_counts"].values()) == sum(
        cw2.json()["missing_counts"].values()
    ) + sum(cw1.json()["missing_counts"].values())


def test_a_route_that_forgets_its_scope_or_audit_fails_closed(
    settings: Settings, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new route that shows candidates without naming them, or that shows a candidate outside
    the key's caseload, answers 500 and shows nothing."""
    router = APIRouter()

    @router.get("/v1/forgetful/{candidate_id}")
    def forgetful(candidate_id: str, scope: CandidateScopeDep) -> dict[str, str]:
        return {"candidate_id": candidate_id}  # forgot scope.show

    @router.get("/v1/leaky/{candidate_id}")
    def leaky(candidate_id: str, scope: CandidateScopeDep) -> dict[str, str]:
        scope.show([candidate_id])  # forgot scope.get: shows whatever it is asked for
        return {"candidate_id": candidate_id}

    for path in ("/v1/forgetful/{candidate_id}", "/v1/leaky/{candidate_id}"):
        monkeypatch.setitem(auth.POLICY, ("GET", path), frozenset({"admin", "director"}))
        monkeypatch.setitem(audit.AUDITED, ("GET", path), "read")
    app: FastAPI = create_app(settings, encoder)
    app.include_router(router)
    url = settings.resolved_database_url()
    admin = bearer(make_token(url, "admin"))
    cw1 = bearer(make_token(url, "director", caseworker_id="cw-1"))
    with TestClient(app, raise_server_exceptions=False) as client:
        body = candidate(FORKLIFT_CV, caseworker_id="cw-2")
        assert client.put("/v1/candidates/k-2", json=body, headers=admin).status_code == 201
        forgot = client.get("/v1/forgetful/k-2", headers=admin)
        assert forgot.status_code == 500 and "k-2" not in forgot.text
        leaked = client.get("/v1/leaky/k-2", headers=cw1)
        assert leaked.status_code == 500 and "k-2" not in leaked.text
        assert client.get("/v1/leaky/k-2", headers=admin).status_code == 200


# ---------------------------------------------------------------- organisations of a region
#
# One world per backend for the whole module: the calls of the table leave it as they found
# it (the writes rewrite what is stored, the erasure removes the candidate it made), so every
# test reads the same world in any order.

ORG_ALL = frozenset({"k-1", "k-2", "k-3", "k-4", "k-5"})
ORG_A = frozenset({"k-1", "k-4"})
ORG_B = frozenset({"k-2", "k-3"})
# key name -> (role, what the key is bound to, candidates it may see)
ORG_KEYS: dict[str, tuple[str, dict[str, str], frozenset[str]]] = {
    "admin": ("admin", {}, ORG_ALL | {"k-9"}),
    "director": ("director", {}, ORG_ALL | {"k-9"}),
    "intake": ("intake", {}, ORG_ALL | {"k-9"}),
    "intake-a": ("intake", {"organisation_id": "org-a"}, ORG_A),
    "intake-b": ("intake", {"organisation_id": "org-b"}, ORG_B),
    "director-a": ("director", {"organisation_id": "org-a"}, ORG_A),
    "director-b": ("director", {"organisation_id": "org-b"}, ORG_B),
    # caseload and organisation together: both must hold
    "director-a-cw1": ("director", {"organisation_id": "org-a", "caseworker_id": "cw-1"}, {"k-1"}),
    "director-b-cw1": ("director", {"organisation_id": "org-b", "caseworker_id": "cw-1"}, {"k-3"}),
}
# k-5 belongs to no organisation: seen by keys without one, 404 to bound keys
ORG_CALLS: dict[tuple[str, str], list[Call]] = {
    route: [
        *calls,
        *{
            ("GET", "/v1/candidates/{candidate_id}"): [_get("/v1/candidates/k-5")],
            ("GET", "/v1/candidates/{candidate_id}/matches"): [_get("/v1/candidates/k-5/matches")],
            ("PUT", "/v1/matches/{employer_id}/{vacancy_id}/{candidate_id}/status"): [
                _put_status("k-5")
            ],
            ("GET", "/ui/f/candidates/{candidate_id}"): [_get("/ui/f/candidates/k-5")],
        }.get(route, []),
    ]
    for route, calls in CALLS.items()
}


@pytest.fixture(scope="module", params=BACKENDS)
def org_built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> Iterator[Built]:
    """Five candidates of two organisations (and one of none), two vacancies and a finished
    rematch run, built once per backend for the module."""
    keys = {key: (role, bound) for key, (role, bound, _) in ORG_KEYS.items()}
    org_a, org_b = {"organisation_id": "org-a"}, {"organisation_id": "org-b"}
    bodies = {
        "k-1": candidate(FORKLIFT_CV, caseworker_id="cw-1", **org_a),
        "k-2": candidate(FORKLIFT_CV + " Ook reachtruck.", caseworker_id="cw-2", **org_b),
        "k-3": candidate(
            CARE_CV, caseworker_id="cw-1", desired_occupations=["verzorgende IG"], **org_b
        ),
        # incomplete: no occupation, hours or ladder step, so it is in the report
        "k-4": {
            "cv_text": CATERING_CV,
            "caseworker_id": "cw-2",
            "postcode": "3011AB",
            "active": True,
            **org_a,
        },
        "k-5": candidate(FORKLIFT_CV + " Ook orderpicken.", caseworker_id="cw-1"),
    }
    yield from _built(request, tmp_path_factory, encoder, keys, bodies)


@pytest.fixture
def org_world(org_built: Built, encoder: Encoder, tmp_path: Path) -> Iterator[World]:
    yield from _copy(org_built, encoder, tmp_path)


def test_the_organisation_table_covers_every_audited_route() -> None:
    assert set(ORG_CALLS) == set(audit.AUDITED)
    bound = {k for k, (_, b, _) in ORG_KEYS.items() if "organisation_id" in b}
    assert {ORG_KEYS[k][0] for k in bound} == {"intake", "director"}


@pytest.mark.parametrize("key", sorted(ORG_KEYS))
def test_candidate_data_routes_by_organisation(org_world: World, key: str) -> None:
    role, _, visible = ORG_KEYS[key]
    _check_table(org_world, ORG_CALLS, key, org_world.headers[key], role, frozenset(visible))


def _ids(resp: httpx.Response) -> set[str]:
    assert resp.status_code == 200, resp.text
    return _shown(resp)


def test_lists_and_reports_count_only_the_organisation(org_world: World) -> None:
    get, h = org_world.client.get, org_world.headers
    for key, visible in (("intake-a", ORG_A), ("intake-b", ORG_B), ("intake", ORG_ALL)):
        listed = get("/v1/candidates?limit=200", headers=h[key]).json()
        assert {c["candidate_id"] for c in listed["data"]} == visible, key
        assert listed["count"] == len(visible), key
    a = get("/v1/reports/profile-completeness", headers=h["director-a"]).json()
    b = get("/v1/reports/profile-completeness", headers=h["director-b"]).json()
    everyone = get("/v1/reports/profile-completeness", headers=h["admin"]).json()
    assert (a["active_candidates"], b["active_candidates"], everyone["active_candidates"]) == (
        2,
        2,
        5,
    )
    assert {p["candidate_id"] for p in a["data"]} == {"k-4"} and b["data"] == []
    # a caseworker id another organisation uses too: only the key's own organisation's
    cw2 = get("/v1/reports/profile-completeness?caseworker_id=cw-2", headers=h["director-b"])
    assert cw2.json()["active_candidates"] == 1 and cw2.json()["data"] == []


def test_matches_rank_only_the_organisation(org_world: World) -> None:
    get, post, h = org_world.client.get, org_world.client.post, org_world.headers
    everyone = _ids(get(f"{V1}/matches?limit=50", headers=h["admin"]))
    assert everyone == ORG_ALL
    for key, visible in (("director-a", ORG_A), ("director-b", ORG_B)):
        assert _ids(get(f"{V1}/matches?limit=50", headers=h[key])) == visible, key
        body = {"target": "candidates", "text": FORKLIFT_CV, "limit": 50}
        assert _ids(post("/v1/match", json=body, headers=h[key])) == visible, key
    assert _ids(get(f"{V1}/matches?limit=50", headers=h["director-b-cw1"])) == {"k-3"}
    # vacancies stay shared: both organisations' keys read the same vacancy for their candidate
    for key, cid in (("director-a", "k-1"), ("director-b", "k-2")):
        found = get(f"/v1/candidates/{cid}/matches", headers=h[key])
        assert "v-1" in {v["vacancy_id"] for v in found.json()["data"]}, key


def test_new_matches_are_computed_for_the_region_and_shown_per_organisation(
    org_world: World,
) -> None:
    """The rematch ranks everyone once; each key reads its own part of the same run."""
    get, h = org_world.client.get, org_world.headers
    for path in (f"{V1}/new-matches?limit=200", f"{V2}/new-matches?limit=200"):
        everyone = get(path, headers=h["admin"]).json()
        run = everyone["run_id"]
        region = {m["candidate_id"] for m in everyone["data"]}
        for key, visible in (("director-a", ORG_A), ("director-b", ORG_B)):
            mine = get(path, headers=h[key]).json()
            assert mine["run_id"] == run
            assert {m["candidate_id"] for m in mine["data"]} == region & visible, (key, path)
            assert mine["count"] == len(region & visible)
    cw1 = "/v1/caseworkers/cw-1/new-matches?limit=200"
    assert {m["candidate_id"] for m in get(cw1, headers=h["admin"]).json()["data"]} == {
        "k-1",
        "k-3",
        "k-5",
    }
    assert {m["candidate_id"] for m in get(cw1, headers=h["director-b"]).json()["data"]} == {"k-3"}
    assert {m["candidate_id"] for m in get(cw1, headers=h["director-a"]).json()["data"]} == {"k-1"}


def test_page_fragments_of_an_organisation_show_none_of_another(org_world: World) -> None:
    get, h = org_world.client.get, org_world.headers
    page = get("/ui/f/vacancies/emp-a/v-1", headers=h["director-b"])
    assert page.status_code == 200 and _ID.findall(page.text)
    assert set(_ID.findall(page.text)) == ORG_B
    assert set(_ID.findall(get("/ui/f/vacancies/emp-a/v-1", headers=h["admin"]).text)) == ORG_ALL
    news = get("/ui/f/new-matches?caseworker=cw-1", headers=h["director-b"])
    assert news.status_code == 200 and set(_ID.findall(news.text)) == {"k-3"}
    mine = get("/ui/f/candidates/k-3", headers=h["director-b"])
    assert mine.status_code == 200 and "k-3" in mine.text
    other = get("/ui/f/candidates/k-1", headers=h["director-b"])
    missing = get("/ui/f/candidates/k-77", headers=h["director-b"])
    assert other.status_code == missing.status_code == 404
    assert other.text.replace("k-1", "k-77") == missing.text


def test_another_organisations_candidate_is_word_for_word_a_missing_one(org_world: World) -> None:
    get, h = org_world.client.get, org_world.headers
    for path in ("/v1/candidates/{}", "/v1/candidates/{}/matches"):
        other = get(path.format("k-1"), headers=h["director-b"])
        missing = get(path.format("k-77"), headers=h["director-b"])
        assert other.status_code == missing.status_code == 404
        assert other.json() == {
            **missing.json(),
            "detail": missing.json()["detail"].replace("k-77", "k-1"),
        }
