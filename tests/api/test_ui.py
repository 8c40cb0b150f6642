"""The web page's shell and fragments over HTTP, on both backends (the browser test is in
tests/browser)."""

from __future__ import annotations

import re
from typing import get_args

from fastapi.testclient import TestClient
from markupsafe import escape

from matching.categories import CLIENT_GROUPS
from matching.ranking import SIGNALS
from service.api.completeness import FIELDS, Missing
from service.api.ui.routes import CLIENT_GROUP_LABELS, PART_LABELS, STATIC_DIR, STATUS_LABELS
from service.api.unmatched import MISSING_LABELS
from service.store.rematch_models import MATCH_STATUSES
from tests.api.test_rematch import run
from tests.factories import CARE_CV, HEFTRUCK_FOCUS, candidate, vacancy


def _seed(client: TestClient) -> None:
    client.put("/v1/focus-occupations/heftruckchauffeur", json=HEFTRUCK_FOCUS)
    client.put("/v1/employers/emp-a/vacancies/v-open", json=vacancy())
    client.put(
        "/v1/employers/emp-a/vacancies/v-closed",
        json=vacancy(title="Heftruckchauffeur nacht", status="closed"),
    )
    client.put(
        "/v1/employers/emp-b/vacancies/v-zorg",
        json=vacancy(
            title="Verzorgende IG 100%_<script>x</script>",
            description="Thuiszorg in Rotterdam.",
            occupation="verzorgende IG",
            skills=[],
        ),
    )
    client.put("/v1/candidates/k-trede5", json=candidate())
    client.put("/v1/candidates/k-trede3", json=candidate(participation_ladder_step=3))
    client.put(
        "/v1/candidates/k-zorg",
        json=candidate(CARE_CV, desired_occupations=["verzorgende IG"], skills=[]),
    )


def test_shell_and_static_files(client: TestClient) -> None:
    page = client.get("/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in page.text and 'for="sleutel"' in page.text
    assert client.get("/ui/static/werkmatch.js").status_code == 200
    assert client.get("/ui/static/werkmatch.css").status_code == 200
    assert client.get("/ui/static/nothing.js").status_code == 404
    assert "/ui" not in client.get("/openapi.json").json()["paths"]


def test_vacancy_search_lists_open_vacancies_only(client: TestClient) -> None:
    _seed(client)
    everything = client.get("/ui/f/vacancies").text
    assert "v-open" in everything and "v-zorg" in everything and "v-closed" not in everything
    assert "2 open vacatures" in everything
    hits = client.get("/ui/f/vacancies", params={"q": "heftruck"}).text
    assert "v-open" in hits and "v-zorg" not in hits and "1 open vacature " in hits
    # LIKE wildcards in the search are literal text; markup in titles is escaped.
    assert "v-zorg" in client.get("/ui/f/vacancies", params={"q": "100%_"}).text
    assert "v-open" not in client.get("/ui/f/vacancies", params={"q": "%"}).text
    assert "<script>x" not in everything and "&lt;script&gt;x" in everything
    assert client.get("/ui/f/vacancies", params={"q": "x" * 101}).status_code == 422
    assert client.get("/ui/f/vacancies", params={"offset": -1}).status_code == 422


def test_vacancy_and_candidate_fragments(client: TestClient) -> None:
    _seed(client)
    url = "/ui/f/vacancies/emp-a/v-open"
    text = client.get(url).text
    order = [text.index(f'data-candidate="{c}"') for c in ("k-trede5", "k-trede3", "k-zorg")]
    assert order[0] < order[2] and order[1] < order[2]  # forklift profiles above care
    assert text.count('class="bar"') == 3 * 3 and "Beroep:" in text
    filtered = client.get(url, params={"ladder_step_min": 4, "focus_only": True}).text
    assert 'data-candidate="k-trede5"' in filtered
    assert "k-trede3" not in filtered and "k-zorg" not in filtered
    assert 'value="4" selected' in filtered and "checked" in filtered
    groups = client.get(url, params={"client_group": "zorgen"}).text
    assert "Geen kandidaten gevonden" in groups
    bad = client.get(url, params={"max_distance_km": 0})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "max_distance_km"
    assert client.get(url, params={"client_group": "iedereen"}).status_code == 422
    assert client.get("/ui/f/vacancies/emp-a/v-nope").status_code == 404
    assert client.get("/ui/f/vacancies/emp a/v-open").status_code == 422

    # The candidate page: the open vacancies that fit, forklift first.
    text = client.get("/ui/f/candidates/k-trede5").text
    assert "Kandidaat k-trede5" in text and "Heftruckchauffeur (m/v) 32 uur" in text
    assert text.index("v-open") < text.index("v-zorg")
    assert "v-closed" not in text
    assert client.get("/ui/f/candidates/k-nobody").status_code == 404
    assert client.get("/ui/f/candidates/k-trede5", params={"limit": 0}).status_code == 422


def _row(text: str, candidate_id: str) -> str:
    """The HTML of one match row of the vacancy fragment."""
    start = text.index(f'data-candidate="{candidate_id}"')
    return text[start : text.index("</li>\n", start)]


def test_vacancy_fragment_shows_the_stored_match_status(client: TestClient) -> None:
    _seed(client)
    url = "/ui/f/vacancies/emp-a/v-open"
    before = client.get(url).text
    row = _row(before, "k-trede5")
    assert "Nog niet beoordeeld" in row and 'data-status=""' in row
    assert 'data-set-status="proposed"' in row and ">Voorstellen</button>" in row
    assert ">Afwijzen</button>" in row
    assert 'data-status-url="/v1/matches/emp-a/v-open/k-trede5/status"' in row

    status = "/v1/matches/emp-a/v-open/{}/status"
    assert client.put(status.format("k-trede5"), json={"status": "proposed"}).status_code == 200
    assert client.put(status.format("k-trede3"), json={"status": "rejected"}).status_code == 200
    # A bad status is refused and changes nothing on the page.
    bad = client.put(status.format("k-zorg"), json={"status": "maybe"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "status"

    after = client.get(url).text
    proposed, rejected, untouched = (_row(after, c) for c in ("k-trede5", "k-trede3", "k-zorg"))
    assert ">Voorgesteld</strong>" in proposed and 'data-status="proposed"' in proposed
    assert 'aria-pressed="true">Voorstellen' in proposed
    assert ">Afgewezen</strong>" in rejected and 'data-status="rejected"' in rejected
    assert "Nog niet beoordeeld" in untouched
    # The status belongs to this vacancy only: another vacancy's rows are unaffected.
    other = client.get("/ui/f/vacancies/emp-b/v-zorg").text
    assert "Voorgesteld" not in other and "Afgewezen" not in other


def test_new_since_last_night_per_caseworker(client: TestClient) -> None:
    url = "/ui/f/new-matches"
    form = client.get(url)
    assert form.status_code == 200 and 'for="werkregisseur"' in form.text
    assert "nieuwe-matches" not in form.text
    _seed(client)
    # Before any rematch run the page says so instead of failing.
    assert "nog geen nachtelijke run" in client.get(url, params={"caseworker": "cw-01"}).text
    run_id = run(client)["run_id"]
    # The API's view, which the page must agree with.
    api = client.get("/v1/caseworkers/cw-01/new-matches").json()
    assert api["run_id"] == run_id and api["data"]
    first = api["data"][0]
    status = f"/v1/matches/{first['employer_id']}/{first['vacancy_id']}/{first['candidate_id']}"
    assert client.put(f"{status}/status", json={"status": "proposed"}).status_code == 200

    text = client.get(url, params={"caseworker": "cw-01"}).text
    assert f"{api['count']} nieuwe match" in text and f"run {run_id}" in text
    assert text.count('<li class="match"') == api["count"]
    assert text.count('class="bar"') == 3 * api["count"]
    for m in api["data"]:
        assert f'data-candidate="{m["candidate_id"]}" data-vacancy="{m["vacancy_id"]}"' in text
        assert f"Score <strong>{m['score']:.2f}".replace(".", ",") in text
        assert escape(m["explanation"][0]) in text
    assert ">Voorgesteld</strong>" in text
    # Another caseworker has none; a bad id is refused with the field named.
    assert "Geen nieuwe matches voor cw-99" in client.get(url, params={"caseworker": "cw-99"}).text
    bad = client.get(url, params={"caseworker": "cw 01!"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "caseworker"


def test_every_enumeration_value_has_one_label_in_its_order() -> None:
    """The page's labels map the one definition of each enumeration: a label per value, none
    for a value that does not exist, in the definition's order (the filter's checkboxes and
    the charts follow it); the script's copy of the status labels says the same."""
    assert tuple(CLIENT_GROUP_LABELS) == CLIENT_GROUPS
    assert tuple(STATUS_LABELS) == MATCH_STATUSES
    assert tuple(PART_LABELS) == SIGNALS
    assert tuple(MISSING_LABELS) == FIELDS == get_args(Missing)
    script = (STATIC_DIR / "werkmatch.js").read_text()
    block = re.search(r"const STATUS_LABELS = \{(.*?)\};", script, re.S)
    assert block is not None
    assert dict(re.findall(r'(\w+): "([^"]*)"', block.group(1))) == STATUS_LABELS
