"""Organisations within a region, the write path: who sets a candidate's organisation, and
that a key bound to one never overwrites, moves or erases another organisation's candidate
(answered 404 as a missing one), also when two organisations race for one new id.

What each key *sees* on every route is in the routes × key-scopes table
(tests/api/test_candidate_scope.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.store.db import make_engine
from service.store.models import Candidate
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, FORKLIFT_CV, candidate
from tests.live_server import Call, LiveServer, race, watch_problems


@dataclass
class Org:
    client: TestClient
    h: dict[str, dict[str, str]]  # key name -> headers
    url: str


@pytest.fixture
def org(settings: Settings, encoder: Encoder) -> Iterator[Org]:
    url = settings.resolved_database_url()
    h = {
        "admin": bearer(make_token(url, "admin")),
        "intake": bearer(make_token(url, "intake")),
        "intake-a": bearer(make_token(url, "intake", organisation_id="org-a")),
        "intake-b": bearer(make_token(url, "intake", organisation_id="org-b")),
        "director-b": bearer(make_token(url, "director", organisation_id="org-b")),
    }
    with TestClient(create_app(settings, encoder)) as client:
        yield Org(client, h, url)


def _stored(url: str, candidate_id: str) -> dict[str, Any] | None:
    """The stored row as it is in the database (not as an answer says)."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            row = s.exec(select(Candidate).where(Candidate.external_id == candidate_id)).first()
            return None if row is None else row.model_dump()
    finally:
        engine.dispose()


def _fields(resp: httpx.Response) -> set[str]:
    assert resp.status_code == 422, resp.text
    return {e["field"] for e in resp.json()["detail"]}


def test_a_bound_key_writes_into_its_own_organisation(org: Org) -> None:
    put = org.client.put
    made = put("/v1/candidates/c-1", json=candidate(), headers=org.h["intake-a"])
    assert made.status_code == 201 and made.json()["organisation_id"] == "org-a"
    # naming its own organisation is the same write
    same = put(
        "/v1/candidates/c-1",
        json=candidate(organisation_id="org-a"),
        headers=org.h["intake-a"],
    )
    assert same.status_code == 200 and same.json()["organisation_id"] == "org-a"
    assert _stored(org.url, "c-1")["organisation_id"] == "org-a"  # type: ignore[index]
    read = org.client.get("/v1/candidates/c-1", headers=org.h["intake-a"])
    assert read.status_code == 200 and read.json()["organisation_id"] == "org-a"


@pytest.mark.parametrize("other", ["org-b", None])
def test_a_bound_key_cannot_name_another_organisation(org: Org, other: str | None) -> None:
    """422 naming organisation_id, before anything is read: for a new id and for its own
    candidate alike (so the answer says nothing about the candidate), nothing written."""
    put = org.client.put
    body = candidate(organisation_id=other)
    assert _fields(put("/v1/candidates/c-new", json=body, headers=org.h["intake-a"])) == {
        "organisation_id"
    }
    assert _stored(org.url, "c-new") is None
    assert put("/v1/candidates/c-1", json=candidate(), headers=org.h["intake-a"]).status_code == 201
    before = _stored(org.url, "c-1")
    moved = put("/v1/candidates/c-1", json=body, headers=org.h["intake-a"])
    assert _fields(moved) == {"organisation_id"}
    assert _stored(org.url, "c-1") == before


def test_an_admin_sets_the_organisation_in_the_body(org: Org) -> None:
    put, admin = org.client.put, org.h["admin"]
    made = put("/v1/candidates/c-1", json=candidate(organisation_id="org-b"), headers=admin)
    assert made.status_code == 201 and made.json()["organisation_id"] == "org-b"
    assert org.client.get("/v1/candidates/c-1", headers=org.h["intake-b"]).status_code == 200
    # a body without the field (a client system that knows no organisations) keeps it
    kept = put("/v1/candidates/c-1", json=candidate(skills=["reachtruck"]), headers=admin)
    assert kept.status_code == 200 and kept.json()["organisation_id"] == "org-b"
    unbound = put("/v1/candidates/c-1", json=candidate(), headers=org.h["intake"])
    assert unbound.status_code == 200 and unbound.json()["organisation_id"] == "org-b"
    # moved by the admin: the old organisation's keys lose it, the new one's gain it
    moved = put("/v1/candidates/c-1", json=candidate(organisation_id="org-a"), headers=admin)
    assert moved.status_code == 200 and moved.json()["organisation_id"] == "org-a"
    assert org.client.get("/v1/candidates/c-1", headers=org.h["intake-b"]).status_code == 404
    assert org.client.get("/v1/candidates/c-1", headers=org.h["intake-a"]).status_code == 200
    # null takes it out of every organisation
    out = put("/v1/candidates/c-1", json=candidate(organisation_id=None), headers=admin)
    assert out.status_code == 200 and out.json()["organisation_id"] is None
    assert _stored(org.url, "c-1")["organisation_id"] is None  # type: ignore[index]
    assert org.client.get("/v1/candidates/c-1", headers=org.h["intake-a"]).status_code == 404


@pytest.mark.parametrize(
    "bad", ["", "bad id!", "x" * 65, ".dot-first", 7, ["org-a"], {"id": "org-a"}, True]
)
def test_a_bad_organisation_id_is_422_naming_it(org: Org, bad: Any) -> None:
    for key in ("admin", "intake-a"):
        resp = org.client.put(
            "/v1/candidates/c-1", json=candidate(organisation_id=bad), headers=org.h[key]
        )
        assert _fields(resp) == {"organisation_id"}, (key, resp.text)
    assert _stored(org.url, "c-1") is None


def test_another_organisations_candidate_is_never_written_and_looks_missing(org: Org) -> None:
    c, h = org.client, org.h
    assert c.put("/v1/candidates/c-1", json=candidate(), headers=h["intake-a"]).status_code == 201
    before = _stored(org.url, "c-1")

    def same_as_missing(resp: httpx.Response, missing: httpx.Response) -> None:
        assert resp.status_code == missing.status_code == 404, resp.text
        assert resp.json() == {
            **missing.json(),
            "detail": missing.json()["detail"].replace("c-missing", "c-1"),
        }

    missing_read = c.get("/v1/candidates/c-missing", headers=h["intake-b"])
    # overwrite (also with its own organisation named) and move
    for body in (candidate(CARE_CV), candidate(CARE_CV, organisation_id="org-b")):
        same_as_missing(c.put("/v1/candidates/c-1", json=body, headers=h["intake-b"]), missing_read)
    same_as_missing(c.get("/v1/candidates/c-1", headers=h["intake-b"]), missing_read)
    erase = c.delete("/v1/candidates/c-1", headers=h["intake-b"])
    same_as_missing(erase, c.delete("/v1/candidates/c-missing", headers=h["intake-b"]))
    upload = c.put(
        "/v1/candidates/c-1/cv-document",
        content=CARE_CV.encode(),
        headers={**h["intake-b"], "Content-Type": "text/plain; charset=utf-8"},
    )
    missing_upload = c.put(
        "/v1/candidates/c-missing/cv-document",
        content=CARE_CV.encode(),
        headers={**h["intake-b"], "Content-Type": "text/plain; charset=utf-8"},
    )
    same_as_missing(upload, missing_upload)
    assert _stored(org.url, "c-1") == before  # nothing written, nothing erased
    # its own organisation still has it, and may erase it
    assert c.get("/v1/candidates/c-1", headers=h["intake-a"]).status_code == 200
    assert c.delete("/v1/candidates/c-1", headers=h["intake-a"]).status_code == 204
    assert _stored(org.url, "c-1") is None


def test_a_bound_key_may_not_take_over_a_candidate_without_organisation(org: Org) -> None:
    """Candidates written before organisations existed are not claimed by the first
    organisation to PUT their id: only an admin assigns them."""
    c, h = org.client, org.h
    assert c.put("/v1/candidates/c-old", json=candidate(), headers=h["admin"]).status_code == 201
    before = _stored(org.url, "c-old")
    claim = c.put("/v1/candidates/c-old", json=candidate(CARE_CV), headers=h["intake-a"])
    assert claim.status_code == 404
    assert _stored(org.url, "c-old") == before


def test_match_status_of_another_organisations_candidate_is_404(org: Org) -> None:
    c, h = org.client, org.h
    assert c.put("/v1/candidates/c-1", json=candidate(), headers=h["intake-a"]).status_code == 201
    vac = {"title": "Heftruckchauffeur", "description": "Heftruck rijden in het magazijn."}
    assert c.put("/v1/employers/e-1/vacancies/v-1", json=vac, headers=h["admin"]).status_code == 201
    path = "/v1/matches/e-1/v-1/{}/status"
    other = c.put(path.format("c-1"), json={"status": "seen"}, headers=h["director-b"])
    missing = c.put(path.format("c-missing"), json={"status": "seen"}, headers=h["director-b"])
    assert other.status_code == missing.status_code == 404
    assert other.text.replace("c-1", "c-missing") == missing.text
    mine = c.put(path.format("c-1"), json={"status": "seen"}, headers=h["admin"])
    assert mine.status_code == 200


def test_two_organisations_race_for_one_new_id(settings: Settings, encoder: Encoder) -> None:
    """Keys of two organisations PUT the same new id at once, in rounds: one creates it (201),
    the other gets the 404 of a missing candidate; the row is wholly the winner's."""
    url = settings.resolved_database_url()
    keys = {
        "org-a": make_token(url, "intake", organisation_id="org-a"),
        "org-b": make_token(url, "intake", organisation_id="org-b"),
    }
    texts = {"org-a": FORKLIFT_CV, "org-b": CARE_CV}
    with watch_problems() as problems, LiveServer(settings, encoder) as server:
        for r in range(3):
            ident = f"race-{r}"
            calls = [
                Call("PUT", f"/v1/candidates/{ident}", candidate(texts[o]), key=keys[o])
                for o in ("org-a", "org-b", "org-a", "org-b")
            ]
            answers = race(server.base, keys["org-a"], calls)
            codes = [a.status_code for a in answers]
            assert all(code in (200, 201, 404) for code in codes), [a.text for a in answers]
            assert codes.count(201) == 1, codes
            winner = ("org-a", "org-b", "org-a", "org-b")[codes.index(201)]
            loser = "org-b" if winner == "org-a" else "org-a"
            for i, o in enumerate(("org-a", "org-b", "org-a", "org-b")):
                assert codes[i] in ((200, 201) if o == winner else (404,)), (o, codes)
            row = _stored(url, ident)
            assert row is not None
            assert row["organisation_id"] == winner and row["cv_text"] == texts[winner]
            with httpx.Client(base_url=server.base) as http:
                theirs = http.get(
                    f"/v1/candidates/{ident}", headers=bearer(keys[loser])
                ).status_code
            assert theirs == 404
        report = server.state.index.compare()
        assert report["ok"], report
    assert problems.describe() == []
