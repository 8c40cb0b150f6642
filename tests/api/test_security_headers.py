"""Security headers on every answer, CORS closed unless configured, and error bodies that never
carry SQL, exception text or a stack trace."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError, ProgrammingError

from matching.embedder import Encoder
from service.api.app import create_app
from service.batch import rematch_runs
from service.config import Settings
from service.security.headers import COMMON_HEADERS, SWAGGER_CDN
from service.store import crud
from tests.auth import api_client, bearer, make_token
from tests.factories import candidate

UI_TEMPLATES = Path(__file__).parents[2] / "service" / "ui" / "templates"
PORTAL = "https://portaal.voorbeeldgemeente.nl"
GENERIC_500 = {"error": "internal_error", "detail": "unexpected server error"}


def _csp(resp) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out = {}
    for directive in resp.headers["content-security-policy"].split(";"):
        name, *sources = directive.split()
        out[name] = sources
    return out


def _assert_common(resp) -> None:  # type: ignore[no-untyped-def]
    for name, value in COMMON_HEADERS.items():
        assert resp.headers.get(name) == value, (resp.request.url, name)
    assert "content-security-policy" in resp.headers


def test_every_kind_of_answer_carries_the_headers(client: TestClient, settings: Settings) -> None:
    answers = {
        "health": client.get("/healthz"),
        "no key": client.get("/v1/candidates", headers={"Authorization": ""}),
        "forbidden": client.get(
            "/v1/candidates", headers=bearer(make_token(settings.resolved_database_url(), "batch"))
        ),
        "list": client.get("/v1/candidates"),
        "put": client.put("/v1/candidates/k-1", json=candidate()),
        "not found": client.get("/v1/candidates/nobody"),
        "no route": client.get("/v1/nothing-here"),
        "bad input": client.get("/v1/candidates", params={"limit": 0}),
        "too large": client.put("/v1/candidates/k-2", content=b"x" * 1_000_001),
        "openapi": client.get("/openapi.json"),
        "metrics": client.get("/metrics"),
        "ui": client.get("/ui"),
        "ui fragment": client.get("/ui/f/vacancies"),
        "ui static": client.get("/ui/static/werkmatch.js"),
        "docs": client.get("/docs"),
        "redoc": client.get("/redoc"),
    }
    expected = {
        "put": 201,
        "not found": 404,
        "no route": 404,
        "bad input": 422,
        "too large": 413,
        "no key": 401,
        "forbidden": 403,
    }
    workers = set()
    for name, resp in answers.items():
        assert resp.status_code == expected.get(name, 200), (name, resp.text)
        _assert_common(resp)
        # once, also on the docs pages (get_list: httpx merges repeated headers elsewhere)
        assert len(resp.headers.get_list("x-werkmatch-worker")) == 1, name
        assert len(resp.headers.get_list("x-request-id")) == 1, name
        workers.add(resp.headers["x-werkmatch-worker"])
    assert len(workers) == 1 and re.fullmatch(r"[0-9a-f]{8}", workers.pop())
    for name in ("health", "list", "put", "not found", "bad input", "too large", "openapi"):
        csp = _csp(answers[name])
        assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], name
    for name in ("ui", "ui fragment", "ui static"):
        csp = _csp(answers[name])
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"], name
        assert csp["default-src"] == ["'none'"] and csp["connect-src"] == ["'self'"], name
    # personal data is never kept in a cache; the page shell and its static files may be
    for name in ("list", "put", "not found", "bad input", "ui fragment", "no key", "forbidden"):
        assert answers[name].headers["cache-control"] == "no-store", name
    assert "no-store" not in answers["ui static"].headers.get("cache-control", "")


def test_docs_pages_allow_exactly_their_own_scripts(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        resp = client.get(path)
        html = resp.content
        csp = _csp(resp)
        inline = re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
        hashes = {
            "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
            for body in inline
        }
        allowed_scripts = set(csp["script-src"])
        assert hashes <= allowed_scripts, path
        assert "'unsafe-inline'" not in allowed_scripts and "'unsafe-eval'" not in allowed_scripts
        assert csp["default-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
        # every external script, style sheet and icon the page names is allowed, nothing wider
        for tag, url in re.findall(rb'<(script|link)[^>]*\b(?:src|href)="(https://[^"]+)"', html):
            directive = "script-src" if tag == b"script" else "style-src"
            if b"favicon" in url:
                directive = "img-src"
            sources = csp[directive]
            assert any(url.decode().startswith(s) for s in sources if s.startswith("https://")), (
                path,
                url,
                sources,
            )
        for sources in csp.values():
            assert "*" not in sources and "https:" not in sources
    docs = _csp(client.get("/docs"))
    assert [s for s in docs["script-src"] if s.startswith("https://")] == [SWAGGER_CDN]
    assert docs["connect-src"] == ["'self'"]


def test_ui_templates_need_no_inline_script_or_style() -> None:
    """The /ui CSP allows no inline code: the templates must not contain any."""
    for template in UI_TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\sstyle=|<style", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name  # inline event handlers
        assert "javascript:" not in text, template.name


def test_cors_is_closed_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/v1/candidates",
        headers={
            "Origin": PORTAL,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    simple = client.get("/v1/candidates", headers={"Origin": PORTAL})
    assert simple.status_code == 200
    for resp in (preflight, simple):
        assert not [h for h in resp.headers if h.lower().startswith("access-control-")]
        _assert_common(resp)


@pytest.fixture
def cors_client(db_url: str, tmp_path: Path, encoder: Encoder) -> Iterator[TestClient]:
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data", cors_origins=[PORTAL])
    with api_client(settings, encoder) as c:
        yield c


def test_cors_allows_only_the_configured_origins(cors_client: TestClient) -> None:
    ask = {
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Authorization",
    }
    ok = cors_client.options("/v1/candidates/k-1", headers={"Origin": PORTAL, **ask})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == PORTAL
    assert set(ok.headers["access-control-allow-methods"].split(", ")) == {
        "GET",
        "PUT",
        "POST",
        "DELETE",
    }
    allowed_headers = {
        h.strip().lower() for h in ok.headers["access-control-allow-headers"].split(",")
    }
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "access-control-allow-credentials" not in ok.headers
    _assert_common(ok)
    assert "x-werkmatch-worker" not in ok.headers  # CORS answers a preflight itself

    other = cors_client.options(
        "/v1/candidates/k-1", headers={"Origin": "https://elders.example", **ask}
    )
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    patch = cors_client.options(
        "/v1/candidates/k-1",
        headers={"Origin": PORTAL, "Access-Control-Request-Method": "PATCH"},
    )
    assert patch.status_code == 400
    get = cors_client.get("/v1/candidates", headers={"Origin": PORTAL})
    assert get.headers["access-control-allow-origin"] == PORTAL
    assert "x-request-id" in get.headers["access-control-expose-headers"].lower()
    assert len(get.headers.get_list("x-werkmatch-worker")) == 1
    foreign = cors_client.get("/v1/candidates", headers={"Origin": "https://elders.example"})
    assert "access-control-allow-origin" not in foreign.headers


def test_cors_origins_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WERKMATCH_CORS_ORIGINS", f"{PORTAL}, http://localhost:5173")
    assert Settings().cors_origins == [PORTAL, "http://localhost:5173"]
    monkeypatch.delenv("WERKMATCH_CORS_ORIGINS")
    assert Settings().cors_origins == []
    for bad in ("*", f"{PORTAL}/pad", "portaal.voorbeeldgemeente.nl", "ftp://x.nl"):
        monkeypatch.setenv("WERKMATCH_CORS_ORIGINS", bad)
        with pytest.raises(ValidationError, match="origin"):
            Settings()


SQL = (
    "SELECT candidate.id, candidate.cv_text FROM candidate "
    "WHERE candidate.external_id = %(external_id_1)s"
)


@pytest.fixture
def quiet_client(settings: Settings, encoder: Encoder, admin_token: str) -> Iterator[TestClient]:
    """Answers server errors as a real client sees them, instead of raising them in the test."""
    app = create_app(settings, encoder)
    with TestClient(app, raise_server_exceptions=False, headers=bearer(admin_token)) as c:
        yield c


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (
            ProgrammingError(
                SQL,
                {"external_id_1": "k-geheim-1"},
                Exception('relation "candidate" does not exist at character 42'),
            ),
            500,
        ),
        (RuntimeError(f"boom in {SQL} for k-geheim-1"), 500),
        (KeyError("cv_text"), 500),
        (
            OperationalError(
                SQL,
                {"external_id_1": "k-geheim-1"},
                Exception("connection to server at 10.0.0.5 failed"),
            ),
            503,
        ),
    ],
    ids=["sql-error", "runtime-error", "key-error", "database-down"],
)
def test_error_bodies_carry_no_sql_or_exception_text(
    quiet_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
) -> None:
    def broken(**_: object) -> None:
        raise error

    monkeypatch.setattr(crud, "get_row", broken)
    resp = quiet_client.get("/v1/candidates/k-geheim-1")
    assert resp.status_code == status
    body = resp.json()
    if status == 500:
        assert body == GENERIC_500
    else:
        assert body["error"] == "database_unavailable" and resp.headers["retry-after"]
    for leak in ("SELECT", "candidate.", "k-geheim-1", "Traceback", "relation", "10.0.0.5"):
        assert leak not in resp.text, leak
    for leak in ("boom", "cv_text", "Error", "exception"):
        assert leak not in resp.text, leak
    assert resp.headers["content-type"] == "application/json"
    _assert_common(resp)
    assert resp.headers["cache-control"] == "no-store"


def test_a_failed_rematch_run_shows_no_sql_or_exception_text(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ProgrammingError(SQL, {"external_id_1": "k-geheim-1"}, Exception("syntax error"))

    monkeypatch.setattr(rematch_runs, "load_sides", broken)
    run_id = client.post("/v1/rematch-runs", json={"top_k": 2}).json()["run_id"]
    deadline = time.monotonic() + 60
    while (run := client.get(f"/v1/rematch-runs/{run_id}").json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert run["state"] == "failed"
    assert run["errors"] == ["ProgrammingError (details in the server log)"]
