"""The work-director page in real headless Chromium (Debian's /usr/bin/chromium, Playwright).

A real ``werkmatch serve`` process on a free port serves a SQLite database filled with a slice
of the made-up demo set (the first 6 vacancies and all forklift ones, the first 10 candidates
and all forklift profiles, all focus occupations). The browser logs in with a key, searches,
opens the forklift vacancy, filters, checks the ranking against the JSON API, marks the top
candidate proposed (kept over a reload and stored in ``match_status``) and opens the candidate.
After a real rematch run, "Nieuw sinds vannacht" lists a caseworker's new matches as the API does,
and "Niet gevonden" a caseworker's candidates in no vacancy's top-k, with a chart of the reasons.
A CV upload (a scan refused, a PDF read) proposes fields, and accepting one writes it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from matching.embedder import Encoder
from service.batch.importer import import_lines
from service.store import crud
from service.store.db import make_engine, migrate
from service.store.match_statuses import statuses_by_candidate
from service.store.models import FocusOccupationIn
from service.tools.demo_data import demo_candidates, demo_vacancies, focus_occupations
from tests import cv_files
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, candidate

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FORKLIFT_WORDS = ("heftruck", "reachtruck")
SCREENSHOT_DIR = Path(os.environ.get("WERKMATCH_SCREENSHOT_DIR", "var/screenshots"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load_slice(url: str, encoder: Encoder) -> None:
    candidates = demo_candidates()
    chosen = [
        c
        for i, c in enumerate(candidates)
        if i < 10 or any(w in " ".join(c["desired_occupations"]).lower() for w in FORKLIFT_WORDS)
    ]
    vacancies = [
        v for i, v in enumerate(demo_vacancies()) if i < 6 or "truck" in v["title"].lower()
    ]
    engine = make_engine(url)
    with Session(engine) as session:
        for f in focus_occupations():
            crud.upsert_focus(
                session=session,
                slug=f["slug"],
                data=FocusOccupationIn(name=f["name"], synonyms=f["synonyms"]),
            )
        for kind, rows in ((crud.CANDIDATES, chosen), (crud.VACANCIES, vacancies)):
            report = import_lines(
                session=session,
                kind=kind,
                lines=[json.dumps(r) for r in rows],
                encoder=encoder,
            )
            assert not report.rejected, report.rejected
    engine.dispose()


@pytest.fixture(scope="module")
def server_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SQLite database the server process uses (module scope, shared by its tests)."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'werkmatch.db'}"


@pytest.fixture(scope="module")
def server(server_db_url: str, encoder: Encoder) -> Iterator[str]:
    """Base URL of a real server process on demo-like data."""
    url = server_db_url
    data_dir = Path(url.removeprefix("sqlite:///")).parent
    migrate(url)
    _load_slice(url, encoder)
    port = _free_port()
    env = {**os.environ, "WERKMATCH_DATABASE_URL": url, "WERKMATCH_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reads and closes the stderr pipe


@pytest.fixture(scope="module")
def keys(server: str, server_db_url: str) -> dict[str, str]:
    """Real keys in the server's database: a director's for the page, an admin's for the API."""
    return {
        "director": make_token(server_db_url, "director"),
        "admin": make_token(server_db_url, "admin"),
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run `make browser`"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A page that fails its test if the Content-Security-Policy blocked anything on it."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="nl-NL")
    pg = context.new_page()
    blocked: list[str] = []
    pg.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield pg
    context.close()
    assert blocked == [], blocked


def _login(page, base: str, key: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/ui")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", name="Inloggen").is_visible()
    page.get_by_label("API-sleutel").fill(key)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("heading", name="Open vacatures").wait_for()


def _wait_for_hash(page, part: str) -> None:  # type: ignore[no-untyped-def]
    # Not wait_for_function: it evaluates a string in the page, which the CSP forbids.
    page.wait_for_url(lambda url: part in url.partition("#")[2])


def _api_top(base: str, params: dict, key: str) -> list[dict]:
    url = f"{base}/v1/employers/transport-rijnmond-bv/vacancies/vac-0001/matches"
    resp = httpx.get(url, params={"limit": 20, **params}, timeout=60, headers=bearer(key))
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]  # type: ignore[no-any-return]


def _shown_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.locator("body[data-loading='0']").wait_for(state="attached")
    return page.locator("li.match").evaluate_all("els => els.map(e => e.dataset.candidate)")


def test_work_director_finds_the_forklift_candidate(  # type: ignore[no-untyped-def]
    server: str, server_db_url: str, keys: dict[str, str], page
) -> None:
    key = keys["director"]
    sent_keys: list[str | None] = []
    page.on(
        "request",
        lambda r: sent_keys.append(r.headers.get("authorization")) if "/ui/f/" in r.url else None,
    )
    _login(page, server, key)

    # Search the open vacancies.
    page.get_by_label("Zoek op functie, beroep, werkgever of plaats").fill("heftruck")
    page.get_by_role("button", name="Zoeken").click()
    _wait_for_hash(page, "q=heftruck")
    page.get_by_text("open vacatures voor „heftruck”").wait_for()
    rows = page.locator("table.list tbody tr")
    assert rows.count() >= 2
    assert all("truck" in t.lower() for t in rows.locator("td:first-child").all_inner_texts())

    # Open the forklift vacancy with the keyboard.
    link = page.get_by_role("link", name="Heftruckchauffeur (m/v) 32 uur")
    link.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Heftruckchauffeur (m/v) 32 uur").wait_for()
    unfiltered = _shown_ids(page)
    api = _api_top(server, {}, key)
    assert unfiltered == [m["candidate_id"] for m in api]
    assert any(
        w in " ".join(api[0]["summary"]["desired_occupations"]).lower() for w in FORKLIFT_WORDS
    )

    # Filter: focus occupations only, ladder step 6 or higher, within 25 km.
    page.get_by_label("Alleen focusberoepen").check()
    page.get_by_label("Trede participatieladder, minimaal").select_option("6")
    page.get_by_label("Maximale afstand (km)").fill("25")
    page.get_by_role("button", name="Toepassen").click()
    _wait_for_hash(page, "ladder_step_min=6")
    filtered = _shown_ids(page)
    expected = _api_top(
        server, {"focus_only": "true", "ladder_step_min": 6, "max_distance_km": 25}, key
    )
    assert filtered == [m["candidate_id"] for m in expected] and filtered
    assert filtered != unfiltered  # the filter changed the list
    top = expected[0]
    assert top["summary"]["participation_ladder_step"] >= 6 and top["distance_km"] <= 25
    assert any(w in " ".join(top["summary"]["desired_occupations"]).lower() for w in FORKLIFT_WORDS)
    first = page.locator("li.match").first
    assert f"Kandidaat {top['candidate_id']}" in first.inner_text()
    assert first.locator(".parts .bar").count() == 3  # semantic, lexical, occupation parts
    assert first.locator(".why li").count() >= 1  # the explanation
    # The filters survive a reload (they live in the URL).
    page.reload()
    page.get_by_role("heading", name="Heftruckchauffeur (m/v) 32 uur").wait_for()
    assert _shown_ids(page) == filtered
    assert page.get_by_label("Alleen focusberoepen").is_checked()

    # Mark the top candidate proposed with the keyboard; the row shows it, a reload keeps it.
    assert first.get_by_text("Nog niet beoordeeld").is_visible()
    first.get_by_role("button", name="Voorstellen").focus()
    page.keyboard.press("Enter")
    first.locator("[data-status='proposed']").wait_for()
    assert first.locator(".match-status").inner_text() == "Status: Voorgesteld"
    page.locator("body[data-saving='0']").wait_for(state="attached")
    page.reload()
    page.get_by_role("heading", name="Heftruckchauffeur (m/v) 32 uur").wait_for()
    assert _shown_ids(page) == filtered
    first = page.locator("li.match").first
    assert first.locator(".match-status").inner_text() == "Status: Voorgesteld"
    assert first.get_by_role("button", name="Voorstellen").get_attribute("aria-pressed") == "true"
    others = page.locator("li.match").nth(1) if len(filtered) > 1 else None
    if others is not None:
        assert others.locator(".match-status").inner_text() == "Status: Nog niet beoordeeld"
    # The stored status agrees: one row in match_status, for this pair only.
    engine = make_engine(server_db_url)
    with Session(engine) as session:
        vac = crud.get_row(
            session=session,
            kind=crud.VACANCIES,
            key={"employer_id": "transport-rijnmond-bv", "external_id": "vac-0001"},
        )
        assert vac is not None
        assert statuses_by_candidate(session, vac.id) == {top["candidate_id"]: "proposed"}
    engine.dispose()

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOT_DIR / "vacature-heftruck.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000

    # Open the candidate: the vacancies that fit them, the forklift one among them.
    first.get_by_role("link").first.click()
    page.get_by_role("heading", name=f"Kandidaat {top['candidate_id']}").wait_for()
    page.locator("body[data-loading='0']").wait_for(state="attached")
    titles = page.locator("li.match a.who").all_inner_texts()
    assert titles and any("truck" in t.lower() for t in titles[:3])

    assert sent_keys and all(k == f"Bearer {key}" for k in sent_keys)


def test_bad_filter_and_unknown_vacancy_show_an_error(server: str, keys, page) -> None:  # type: ignore[no-untyped-def]
    _login(page, server, keys["director"])
    page.evaluate("location.hash = '#/vacature/transport-rijnmond-bv/vac-0001?max_distance_km=0'")
    page.get_by_role("status").filter(has_text="max_distance_km").wait_for()
    page.evaluate("location.hash = '#/vacature/transport-rijnmond-bv/vac-9999'")
    page.get_by_role("status").filter(has_text="not found").wait_for()


def test_a_wrong_key_shows_no_data(server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/ui")
    page.get_by_label("API-sleutel").fill("wm_aaaaaaaaaaaa_" + "x" * 43)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("status").filter(has_text="API-sleutel is ongeldig").wait_for()
    assert page.locator("table.list tbody tr").count() == 0
    assert "heftruck" not in page.locator("body").inner_text().lower()


def test_page_is_labelled_and_logout_forgets_the_key(server: str, keys, page) -> None:  # type: ignore[no-untyped-def]
    _login(page, server, keys["director"])
    page.goto(f"{server}/ui#/vacature/transport-rijnmond-bv/vac-0001")
    page.get_by_role("heading", name="Heftruckchauffeur (m/v) 32 uur").wait_for()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select')]
              .filter(el => !(el.labels && el.labels.length))
              .map(el => el.name || el.id)"""
    )
    assert unlabelled == []
    page.get_by_role("button", name="Uitloggen").click()
    assert page.get_by_label("API-sleutel").is_visible()
    assert page.evaluate("sessionStorage.getItem('werkmatch.sleutel')") is None
    assert not page.locator("#inhoud").is_visible()


@pytest.fixture(scope="module")
def rematched(server: str, keys: dict[str, str]) -> int:
    """One real rematch run on the server's data (top 3), shared by the tests that read it."""
    batch = bearer(keys["admin"])
    resp = httpx.post(f"{server}/v1/rematch-runs", json={"top_k": 3}, timeout=30, headers=batch)
    assert resp.status_code == 202, resp.text
    run_id = int(resp.json()["run_id"])
    deadline = time.monotonic() + 180
    url = f"{server}/v1/rematch-runs/{run_id}"
    while (state := httpx.get(url, headers=batch).json()["state"]) == "running":
        assert time.monotonic() < deadline, "rematch run did not finish"
        time.sleep(0.5)
    assert state == "succeeded"
    return run_id


def test_new_since_last_night_after_a_rematch_run(server: str, keys, rematched: int, page) -> None:  # type: ignore[no-untyped-def]
    api = httpx.get(
        f"{server}/v1/caseworkers/cw-rotterdam-01/new-matches",
        timeout=60,
        headers=bearer(keys["director"]),
    ).json()
    assert api["data"], api

    _login(page, server, keys["director"])
    page.get_by_role("link", name="Nieuw sinds vannacht").click()
    page.get_by_role("heading", name="Nieuw sinds vannacht").wait_for()
    page.get_by_label("Id van de werkregisseur (klantmanager)").fill("cw-rotterdam-01")
    page.keyboard.press("Enter")
    _wait_for_hash(page, "caseworker=cw-rotterdam-01")
    page.locator("#nieuwe-matches").wait_for()
    shown = page.locator("li.match").evaluate_all(
        "els => els.map(e => [e.dataset.vacancy, e.dataset.candidate])"
    )
    assert shown == [[m["vacancy_id"], m["candidate_id"]] for m in api["data"]]
    assert page.locator("li.match").first.locator(".why li").count() >= 1


def test_cv_upload_shows_suggestions_and_accepting_one_is_a_candidate_update(  # type: ignore[no-untyped-def]
    server: str, keys, page, tmp_path: Path
) -> None:
    admin = bearer(keys["admin"])  # uploads and profile writes are for admin and intake keys
    url = f"{server}/v1/candidates/kand-cv-upload"
    sparse = candidate(
        CARE_CV,
        desired_occupations=[],
        languages=["nl"],
        driving_licence=False,
        education_level=None,
        hours_per_week_min=None,
        hours_per_week_max=None,
        caseworker_id="cw-cv-upload",
    )
    assert httpx.put(url, json=sparse, headers=admin, timeout=60).status_code in (200, 201)
    _login(page, server, keys["admin"])
    page.evaluate("location.hash = '#/kandidaat/kand-cv-upload'")
    page.get_by_role("heading", name="Kandidaat kand-cv-upload").wait_for()

    # A scan is refused, and the page says why; nothing changes.
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(cv_files.make_scan_pdf())
    page.get_by_label("CV-bestand").set_input_files(str(scan))
    page.get_by_role("button", name="Uploaden").click()
    page.get_by_role("status").filter(has_text="no_text_layer").wait_for()
    assert httpx.get(url, headers=admin).json()["cv_text"] == CARE_CV

    # A real PDF: the text is stored, what the profile lacks is proposed with its evidence.
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(cv_files.make_pdf())
    page.get_by_label("CV-bestand").set_input_files(str(pdf))
    page.get_by_role("button", name="Uploaden").click()
    page.get_by_role("status").filter(has_text="CV gelezen").wait_for()
    assert page.locator("[data-cv-read]").inner_text().startswith("Gelezen: 1 pagina")
    fields = page.locator("li.suggestion").evaluate_all("els => els.map(e => e.dataset.field)")
    assert {"driving_licence", "languages", "education_level", "hours_per_week"} <= set(fields)
    licence = page.locator("li.suggestion[data-field='driving_licence']")
    assert licence.locator("mark").inner_text() == "Rijbewijs B/C/CE"
    stored = httpx.get(url, headers=admin).json()
    assert "Heftruckchauffeur bij een groothandel" in stored["cv_text"]
    assert "Coördinatie" in stored["cv_text"]
    assert stored["driving_licence"] is False and stored["hours_per_week_min"] is None

    # Accepting the hours writes those fields, and only those.
    hours = page.locator("li.suggestion[data-field='hours_per_week']")
    hours.get_by_role("button", name="Overnemen: 24–32 uur per week").click()
    hours.locator("button[aria-pressed='true']").wait_for()
    page.locator("body[data-saving='0']").wait_for(state="attached")
    stored = httpx.get(url, headers=admin).json()
    assert (stored["hours_per_week_min"], stored["hours_per_week_max"]) == (24, 32)
    assert stored["driving_licence"] is False and stored["education_level"] is None
    # a language is added to those the profile has
    english = page.locator("li.suggestion[data-field='languages']").filter(has_text="Engels")
    english.get_by_role("button").click()
    english.locator("button[aria-pressed='true']").wait_for()
    page.locator("body[data-saving='0']").wait_for(state="attached")
    assert httpx.get(url, headers=admin).json()["languages"] == ["nl", "en"]


def test_unmatched_list_and_its_reasons_after_a_rematch_run(  # type: ignore[no-untyped-def]
    server: str, keys, rematched: int, page
) -> None:
    director = bearer(keys["director"])
    whole = httpx.get(
        f"{server}/v1/reports/unmatched", params={"limit": 200}, timeout=60, headers=director
    ).json()
    assert whole["run"]["run_id"] == rematched and whole["count"] > 0, whole
    caseworker = next(i["caseworker_id"] for i in whole["data"] if i["caseworker_id"])
    api = httpx.get(
        f"{server}/v1/reports/unmatched",
        params={"caseworker_id": caseworker, "limit": 25},
        timeout=60,
        headers=director,
    ).json()
    assert api["data"], api

    _login(page, server, keys["director"])
    page.get_by_role("link", name="Niet gevonden").click()
    page.get_by_role("heading", name="Niet gevonden").wait_for()
    page.get_by_label("Id van de werkregisseur (klantmanager)").fill(caseworker)
    page.keyboard.press("Enter")
    _wait_for_hash(page, f"caseworker={caseworker}")
    page.locator("#niet-gevonden").wait_for()
    shown = page.locator("li.unmatched").evaluate_all("els => els.map(e => e.dataset.candidate)")
    assert shown == [i["candidate_id"] for i in api["data"]]
    first = page.locator("li.unmatched").first
    reasons = first.locator(".why li").evaluate_all("els => els.map(e => e.dataset.reason)")
    assert reasons == [r["code"] for r in api["data"][0]["reasons"]]
    # The chart: one bar per reason, as long as its count says, drawn on the server.
    chart = page.get_by_role("img", name="Redenen")
    assert chart.is_visible()
    bars = page.locator("#redenen g.reason").evaluate_all(
        "els => els.map(e => [e.dataset.reason, Number(e.dataset.count),"
        " Number(e.querySelector('rect').getAttribute('width'))])"
    )
    assert {code: n for code, n, _ in bars} == api["reason_counts"]
    longest = max(api["reason_counts"].values())
    for code, n, width in bars:
        assert (width > 0) == (n > 0), code
        if n == longest:
            assert width == max(w for _, _, w in bars)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "niet-gevonden.png"), full_page=True)
    # From the list to the candidate.
    first.get_by_role("link").first.click()
    page.get_by_role("heading", name=f"Kandidaat {api['data'][0]['candidate_id']}").wait_for()
