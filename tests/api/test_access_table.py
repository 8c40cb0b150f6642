"""The role × route × method table, tested exhaustively on both backends.

``TABLE`` is written out by hand from the issue's roles (not read from ``service.security.auth``),
so a change to the policy that does not match the intended access fails here. Every route of the app
must be in the table, and every cell is called with a real key of each role, with no key, a
malformed key, a revoked key, an expired key and a key in the URL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import Match

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.security.auth import _match_route, flat_routes
from service.security.keys import revoke_key
from service.store.db import make_engine
from service.store.security_models import ApiKey
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, FORKLIFT_VACANCY, candidate

ROLES = ("admin", "director", "intake", "employer", "batch")

# method, route template, roles allowed ("public": no key needed; "everyone": every role)
TABLE = """
GET    /healthz                                                        public
GET    /readyz                                                         public
GET    /openapi.json                                                   public
GET    /docs                                                           public
GET    /docs/oauth2-redirect                                           public
GET    /redoc                                                          public
GET    /ui                                                             public
GET    /ui/static                                                      public
GET    /metrics                                                        admin
PUT    /v1/candidates/{candidate_id}                                   admin intake
GET    /v1/candidates/{candidate_id}                                   admin director intake
DELETE /v1/candidates/{candidate_id}                                   admin intake
GET    /v1/candidates                                                  admin director intake
GET    /v1/candidates/{candidate_id}/matches                           admin director
PUT    /v1/candidates/{candidate_id}/cv-document                       admin intake
PUT    /v1/employers/{employer_id}/vacancies/{vacancy_id}              admin employer
GET    /v1/employers/{employer_id}/vacancies/{vacancy_id}              admin director employer
DELETE /v1/employers/{employer_id}/vacancies/{vacancy_id}              admin employer
GET    /v1/vacancies                                                   admin director employer
GET    /v1/employers/{employer_id}/vacancies/{vacancy_id}/matches      admin director
POST   /v1/match                                                       admin director
PUT    /v1/focus-occupations/{slug}                                    admin
GET    /v1/focus-occupations/{slug}                                    everyone
DELETE /v1/focus-occupations/{slug}                                    admin
GET    /v1/focus-occupations                                           everyone
POST   /v1/occupations/normalize                                       everyone
GET    /v1/reports/profile-completeness                                admin director
GET    /v1/reports/unmatched                                           admin director
POST   /v1/rematch-runs                                                admin batch
GET    /v1/rematch-runs/{run_id}                                       admin director batch
GET    /v1/caseworkers/{caseworker_id}/new-matches                     admin director
GET    /v1/employers/{employer_id}/vacancies/{vacancy_id}/new-matches  admin director
PUT    /v1/matches/{employer_id}/{vacancy_id}/{candidate_id}/status    admin director
GET    /v1/audit                                                       admin
GET    /ui/f/vacancies                                                 admin director
GET    /ui/f/vacancies/{employer_id}/{vacancy_id}                      admin director
GET    /ui/f/candidates/{candidate_id}                                 admin director
GET    /ui/f/new-matches                                               admin director
GET    /ui/f/unmatched                                                 admin director
"""


def _table() -> dict[tuple[str, str], frozenset[str]]:
    rows = {}
    for line in TABLE.strip().splitlines():
        method, route, *roles = line.split()
        rows[(method, route)] = frozenset(ROLES if roles == ["everyone"] else roles)
    return rows


EXPECTED = _table()

CAND_BODY = candidate(CARE_CV, caseworker_id="cw-1")
VAC_BODY = dict(FORKLIFT_VACANCY)
FOCUS_BODY = {"name": "Heftruckchauffeur", "synonyms": ["reachtruckchauffeur"]}


def _request(method: str, route: str, role: str) -> tuple[str, dict[str, Any]]:
    """A concrete, valid request for a route. Writes use throwaway ids so that no call
    changes what the next call sees; an employer key addresses its own employer."""
    employer = "emp-a"
    vacancy = "vac-a"
    candidate_id = "cand-1"
    if method == "DELETE":
        candidate_id, vacancy = f"gone-{role}", f"gone-{role}"
    if method == "PUT" and route.startswith("/v1/candidates"):
        candidate_id = f"new-{role}"
    if route.endswith("/cv-document"):
        candidate_id = "cand-1"  # the same text again: allowed, and changes nothing
    if method == "PUT" and route.startswith("/v1/employers"):
        vacancy = f"new-{role}"
    slug = "heftruck" if method != "DELETE" else f"gone-{role}"
    path = (
        route.replace("{candidate_id}", candidate_id)
        .replace("{employer_id}", employer)
        .replace("{vacancy_id}", vacancy)
        .replace("{slug}", slug if method != "PUT" else f"new-{role}")
        .replace("{run_id}", "1")
        .replace("{caseworker_id}", "cw-1")
    )
    if route == "/ui/static":
        path = "/ui/static/werkmatch.css"
    kw: dict[str, Any] = {}
    if route.endswith("/cv-document"):
        kw["content"] = CAND_BODY["cv_text"].encode()
        kw["headers"] = {"Content-Type": "text/plain"}
    elif route.startswith("/v1/candidates/{candidate_id}") and method == "PUT":
        kw["json"] = CAND_BODY
    elif route == "/v1/employers/{employer_id}/vacancies/{vacancy_id}" and method == "PUT":
        kw["json"] = VAC_BODY
    elif route == "/v1/focus-occupations/{slug}" and method == "PUT":
        kw["json"] = FOCUS_BODY
    elif route == "/v1/match":
        kw["json"] = {"text": "heftruck laden en lossen", "target": "candidates"}
    elif route == "/v1/occupations/normalize":
        kw["json"] = {"title": "heftruckchauffeur"}
    elif route == "/v1/rematch-runs":
        kw["json"] = {"top_k": 1}
    elif route.endswith("/status"):
        kw["json"] = {"status": "seen"}
    return path, kw


@pytest.fixture
def world(settings: Settings, encoder: Encoder) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A started app with seed data and one token per kind of caller."""
    url = settings.resolved_database_url()
    tokens = {role: make_token(url, role) for role in ROLES if role != "employer"}
    tokens["employer"] = make_token(url, "employer", employer_id="emp-a")
    revoked = make_token(url, "admin")
    expired = make_token(url, "admin", expires_in_days=1)
    engine = make_engine(url)
    with Session(engine) as session:
        revoke_key(session, revoked.split("_")[1])
        key = session.get(ApiKey, expired.split("_")[1])
        assert key is not None
        key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(key)
        session.commit()
    engine.dispose()
    tokens["revoked"] = revoked
    tokens["expired"] = expired
    # The table sends ~180 requests without a valid key from one address within seconds; the
    # per-address bound on those (429 beyond it, tests/api/test_refusal_bounds.py) is off here
    # so that every cell shows its own answer.
    unbounded = settings.model_copy(update={"unauthenticated_limit": 0})
    with TestClient(create_app(unbounded, encoder)) as client:
        admin = bearer(tokens["admin"])
        assert client.put("/v1/focus-occupations/heftruck", json=FOCUS_BODY, headers=admin)
        for cid in ("cand-1", *(f"gone-{r}" for r in ROLES)):
            resp = client.put(f"/v1/candidates/{cid}", json=CAND_BODY, headers=admin)
            assert resp.status_code == 201, resp.text
        for vid in ("vac-a", *(f"gone-{r}" for r in ROLES)):
            resp = client.put(f"/v1/employers/emp-a/vacancies/{vid}", json=VAC_BODY, headers=admin)
            assert resp.status_code == 201, resp.text
        for r in ROLES:
            assert client.put(f"/v1/focus-occupations/gone-{r}", json=FOCUS_BODY, headers=admin)
        yield client, tokens


def test_every_route_of_the_app_is_in_the_table(settings: Settings, encoder: Encoder) -> None:
    app = create_app(settings, encoder)
    routes = set()
    for route in flat_routes(app.routes):
        for method in getattr(route, "methods", None) or {"GET"}:
            if method != "HEAD":
                routes.add((method, route.path))  # type: ignore[attr-defined]
    assert routes == set(EXPECTED), (
        f"not in the table: {sorted(routes - set(EXPECTED))}; "
        f"in the table but not in the app: {sorted(set(EXPECTED) - routes)}"
    )


def test_the_gates_route_lookup_agrees_with_every_routes_own_match(
    settings: Settings, encoder: Encoder
) -> None:
    """The gate skips routes whose pattern misses the path; the answer stays the one that
    asking each route in order gives (first full match, else first partial)."""
    app = create_app(settings, encoder)
    routes = list(flat_routes(app.routes))
    paths = {"/", "/v1", "/v1/", "/nowhere", "/ui/static/app.js", "/v1/candidates/a/b/c"}
    for route in routes:
        template: str = getattr(route, "path", "/")
        filled = template.replace("{", "x-").replace("}", "")
        paths |= {
            filled,
            filled + "/",
            filled + "/extra",
            template.replace("{", "").replace("}", ""),
        }
    for path in sorted(paths):
        for method in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "app": app}
            expected: tuple[str | None, dict[str, Any], bool] = (None, {}, False)
            for route in routes:
                match, child = route.matches(dict(scope))
                found = (getattr(route, "path", None), child.get("path_params", {}))
                if match == Match.FULL:
                    expected = (*found, True)
                    break
                if match == Match.PARTIAL and expected[0] is None:
                    expected = (*found, False)
            assert _match_route(dict(scope)) == expected, (method, path)


def test_role_route_method_table(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    wrong: list[str] = []
    cells = 0
    for (method, route), allowed in EXPECTED.items():
        for caller in (*ROLES, "anonymous", "malformed", "revoked", "expired", "in-url"):
            role = caller if caller in ROLES else "admin"
            path, kw = _request(method, route, role)
            headers: dict[str, str] = {}
            if caller in ROLES or caller in ("revoked", "expired"):
                headers = bearer(tokens[caller])
            elif caller == "malformed":
                headers = {"Authorization": "Bearer wm_notakey"}
            elif caller == "in-url":
                path += ("&" if "?" in path else "?") + f"api_key={tokens['admin']}"
            resp = client.request(method, path, headers={**kw.pop("headers", {}), **headers}, **kw)
            cells += 1
            if "public" in allowed:
                ok = resp.status_code < 400
            elif caller not in ROLES:
                ok = resp.status_code == 401 and resp.headers.get(
                    "www-authenticate", ""
                ).startswith("Bearer")
            elif caller in allowed:
                ok = resp.status_code not in (401, 403, 500)  # 503: ESCO not imported
            else:
                ok = resp.status_code == 403
            if not ok:
                wrong.append(f"{caller:9} {method:6} {path}: {resp.status_code} {resp.text[:120]}")
    assert not wrong, "\n".join(wrong)
    assert cells == len(EXPECTED) * 10


def test_other_methods_on_public_paths_are_405_without_a_key(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = world
    for path in ("/healthz", "/readyz"):
        resp = client.delete(path)
        assert resp.status_code == 405 and "GET" in resp.headers["allow"]
    # on a keyed path, another method still needs a key first
    assert client.post("/v1/candidates/cand-1").status_code == 401
    wrong = client.post("/v1/candidates/cand-1", headers=bearer(tokens["admin"]))
    assert wrong.status_code == 405


def test_refusals_carry_no_data_and_say_why(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    anon = client.get("/v1/candidates/cand-1")
    assert anon.status_code == 401
    assert anon.json()["error"] == "unauthorized"
    assert "Authorization: Bearer" in anon.json()["detail"]
    assert "cv_text" not in anon.text
    forbidden = client.get("/v1/candidates/cand-1", headers=bearer(tokens["employer"]))
    assert forbidden.status_code == 403
    assert forbidden.json() == {
        "error": "forbidden",
        "detail": "this key's role may not use this route",
    }
    # an anonymous body is never parsed: no validation detail leaks before authentication
    bad = client.put("/v1/candidates/cand-1", content=b"{not json")
    assert bad.status_code == 401
    for header in ("Basic YWRtaW46YWRtaW4=", f"bearer{tokens['admin']}", "Bearer", ""):
        resp = client.get("/v1/candidates", headers={"Authorization": header})
        assert resp.status_code == 401, header


def test_revocation_takes_effect_on_the_next_request(
    world: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    client, _ = world
    token = make_token(settings.resolved_database_url(), "director")
    assert client.get("/v1/candidates", headers=bearer(token)).status_code == 200
    engine = make_engine(settings.resolved_database_url())
    with Session(engine) as session:
        assert revoke_key(session, token.split("_")[1]) is not None
    engine.dispose()
    time.sleep(0.01)
    assert client.get("/v1/candidates", headers=bearer(token)).status_code == 401
