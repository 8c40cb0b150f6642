"""Rematch runs over HTTP: lifecycle, same results as the interactive search, the diff, new
matches per caseworker and vacancy, follow-up statuses, the 409, erasure, and bad input."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from service.batch.rematch_runs import claim_run
from service.config import Settings
from service.store.db import make_engine
from service.store.models import Candidate, Vacancy
from service.store.rematch_models import MatchStatus, RematchMatch
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, HEFTRUCK_FOCUS, candidate, vacancy

EMP = "/v1/employers/e-1/vacancies"
CARE_VACANCY = vacancy(
    title="Verzorgende IG thuiszorg",
    description=(
        "Voor onze thuiszorgteams in Rotterdam zoeken wij een verzorgende IG. Je verleent "
        "persoonlijke verzorging aan ouderen, reikt medicatie aan en rapporteert in het dossier."
    ),
    occupation="verzorgende IG",
    skills=["persoonlijke verzorging", "medicatie"],
    postcode="3012 AB",
    requires_driving_licence=False,
)
KITCHEN_VACANCY = vacancy(
    title="Hulpkok restaurant",
    description=(
        "Restaurant in Schiedam zoekt een hulpkok voor de keuken: snijden, bereiden, afwassen en "
        "werken volgens HACCP. Ervaring in de horeca is een pré."
    ),
    occupation="kok",
    skills=["HACCP", "koken"],
    postcode="3111 AA",
    requires_driving_licence=False,
)


def seed(client: TestClient) -> None:
    assert client.put("/v1/focus-occupations/heftruckchauffeur", json=HEFTRUCK_FOCUS).status_code
    bodies = {
        "k-1": candidate(),
        "k-2": candidate(FORKLIFT_CV + " Ook ervaring met bezorgen.", driving_licence=False),
        "k-3": candidate(
            CARE_CV, desired_occupations=["verzorgende IG"], skills=["zorg"], caseworker_id="cw-02"
        ),
        "k-4": candidate(CATERING_CV, desired_occupations=["kok"], skills=["HACCP"]),
        "k-5": candidate(
            CARE_CV + " Ook nachtdiensten.",
            desired_occupations=["verzorgende"],
            postcode="9711AA",
            max_travel_km=10,
            caseworker_id="cw-02",
        ),
    }
    for cid, body in bodies.items():
        assert client.put(f"/v1/candidates/{cid}", json=body).status_code == 201
    forklift = vacancy(requires_driving_licence=True)
    for vid, body in (("v-1", forklift), ("v-2", CARE_VACANCY), ("v-3", KITCHEN_VACANCY)):
        assert client.put(f"{EMP}/{vid}", json=body).status_code == 201


def run(client: TestClient, top_k: int = 2) -> dict[str, Any]:
    resp = client.post("/v1/rematch-runs", json={"top_k": top_k})
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["run_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/v1/rematch-runs/{run_id}").json()
        if body["state"] != "running":
            assert body["state"] == "succeeded", body
            return body  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("rematch run did not finish")


def stored(settings: Settings, run_id: int) -> dict[tuple[int, str, str], tuple[int, float]]:
    """{(direction, vacancy ext id, candidate ext id): (rank, score)} of a run."""
    engine = make_engine(settings.resolved_database_url())
    with Session(engine) as s:
        rows = s.execute(
            select(RematchMatch, Vacancy.external_id, Candidate.external_id)
            .join(Vacancy, Vacancy.id == RematchMatch.vacancy_id)
            .join(Candidate, Candidate.id == RematchMatch.candidate_id)
            .where(RematchMatch.run_id == run_id)
        ).all()
    engine.dispose()
    return {(m.direction, v, c): (m.rank, m.score) for m, v, c in rows}


def pairs(rows: dict[tuple[int, str, str], Any]) -> set[tuple[str, str]]:
    return {(v, c) for _, v, c in rows}


def test_run_ranks_like_the_interactive_search_and_diffs(
    client: TestClient, settings: Settings
) -> None:
    seed(client)
    first = run(client)
    assert first["counts"]["candidates"] == 5 and first["counts"]["vacancies"] == 3
    assert first["progress"] == 1.0 and first["batches_done"] == first["batches_total"] > 0
    assert {"embedding", "search", "ranking", "storing", "batches_wall"} <= set(first["timings"])
    rows1 = stored(settings, first["run_id"])
    # the same top-k and scores as the interactive endpoints with their default filters
    for vid in ("v-1", "v-2", "v-3"):
        live = client.get(f"{EMP}/{vid}/matches", params={"limit": 2}).json()["data"]
        got = sorted((r, c, s) for (d, v, c), (r, s) in rows1.items() if d == 0 and v == vid)
        assert [c for _, c, _ in got] == [m["candidate_id"] for m in live]
        # FAISS scores in float32, the batch in float64: equal up to the 4th decimal
        assert [s for _, _, s in got] == pytest.approx([m["score"] for m in live], abs=2e-4)
    for cid in ("k-1", "k-2", "k-3", "k-4", "k-5"):
        live = client.get(f"/v1/candidates/{cid}/matches", params={"limit": 2}).json()["data"]
        got = sorted((r, v, s) for (d, v, c), (r, s) in rows1.items() if d == 1 and c == cid)
        assert [v for _, v, _ in got] == [m["vacancy_id"] for m in live]
        assert [s for _, _, s in got] == pytest.approx([m["score"] for m in live], abs=2e-4)
    # filters hold: k-2 has no licence, the forklift vacancy asks for one
    assert ("v-1", "k-2") not in pairs(rows1)
    assert first["counts"]["new"] == first["counts"]["pairs"] == len(pairs(rows1))
    assert first["counts"]["unchanged"] == first["counts"]["disappeared"] == 0

    # a new forklift candidate, one candidate leaves the pool, one vacancy closes
    assert client.put("/v1/candidates/k-6", json=candidate(caseworker_id="cw-03")).status_code
    assert client.put("/v1/candidates/k-4", json=candidate(CATERING_CV, active=False)).status_code
    closed = dict(KITCHEN_VACANCY, status="closed")
    assert client.put(f"{EMP}/v-3", json=closed).status_code == 200
    second = run(client)
    rows2 = stored(settings, second["run_id"])
    p1, p2 = pairs(rows1), pairs(rows2)
    assert p2 - p1 and p1 - p2 and p1 & p2
    counts = second["counts"]
    assert counts["previous_run_id"] == first["run_id"]
    assert (counts["new"], counts["unchanged"], counts["disappeared"]) == (
        len(p2 - p1),
        len(p1 & p2),
        len(p1 - p2),
    )
    assert not any(c == "k-4" or v == "v-3" for v, c in p2)
    assert any(c == "k-6" for v, c in p2 - p1)

    # new matches of a caseworker: exactly the new pairs of their candidates, with reasons
    resp = client.get("/v1/caseworkers/cw-03/new-matches")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["run_id"], body["since_run"]) == (second["run_id"], first["run_id"])
    assert {(m["vacancy_id"], m["candidate_id"]) for m in body["data"]} == {
        (v, c) for v, c in p2 - p1 if c == "k-6"
    }
    item = body["data"][0]
    assert item["explanation"] and set(item["parts"]) == {"semantic", "lexical", "occupation"}
    assert abs(sum(item["parts"].values()) - item["score"]) < 1e-3
    # the reasons come from the ranker the interactive search uses: the same lines for the pair
    # (but the similarity line: the run stores the cosine rounded inside its weighted part)
    for new_match in body["data"]:
        if new_match["direction"] == "candidate_for_vacancy":
            url = f"/v1/employers/{new_match['employer_id']}/vacancies/{new_match['vacancy_id']}"
            live = client.get(f"{url}/matches", params={"limit": 50}).json()["data"]
            same = [m for m in live if m["candidate_id"] == new_match["candidate_id"]]
        else:
            url = f"/v1/candidates/{new_match['candidate_id']}"
            live = client.get(f"{url}/matches", params={"limit": 50}).json()["data"]
            same = [m for m in live if m["vacancy_id"] == new_match["vacancy_id"]]

        def reasons(lines: list[str]) -> list[str]:
            return [x for x in lines if not x.startswith("Inhoudelijke gelijkenis")]

        assert same and reasons(same[0]["explanation"]) == reasons(new_match["explanation"])
    # since the run itself: nothing is new
    again = client.get("/v1/caseworkers/cw-03/new-matches", params={"since_run": second["run_id"]})
    assert again.json()["count"] == 0
    # a vacancy's new candidates
    resp = client.get(f"{EMP}/v-1/new-matches")
    assert {m["candidate_id"] for m in resp.json()["data"]} == {c for v, c in p2 - p1 if v == "v-1"}


def test_status_survives_rematch_rejected_never_new_placed_leaves_pool(
    client: TestClient, settings: Settings
) -> None:
    seed(client)
    first = run(client)
    for stamp in (first["started_at"], first["finished_at"]):
        assert stamp.endswith(("Z", "+00:00")), stamp  # UTC, also on SQLite
    new = client.get("/v1/caseworkers/cw-01/new-matches").json()["data"]
    assert new, "every match of the first run is new"
    rejected = new[0]
    url = f"/v1/matches/e-1/{rejected['vacancy_id']}/{rejected['candidate_id']}/status"
    resp = client.put(url, json={"status": "rejected", "note": "te ver weg"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "rejected" and resp.json()["note"] == "te ver weg"
    assert resp.json()["updated_at"].endswith(("Z", "+00:00"))
    seen = new[1]
    seen_url = f"/v1/matches/e-1/{seen['vacancy_id']}/{seen['candidate_id']}/status"
    assert client.put(seen_url, json={"status": "seen"}).status_code == 200
    after = client.get("/v1/caseworkers/cw-01/new-matches").json()["data"]
    keys = {(m["vacancy_id"], m["candidate_id"]) for m in after}
    assert (rejected["vacancy_id"], rejected["candidate_id"]) not in keys
    assert {m["status"] for m in after if m["candidate_id"] == seen["candidate_id"]} >= {"seen"}

    # statuses survive rematches; placed candidates leave the pool
    placed = client.put("/v1/matches/e-1/v-2/k-3/status", json={"status": "placed"})
    assert placed.status_code == 200
    second = run(client)
    rows = stored(settings, second["run_id"])
    assert not any(c == "k-3" for _, _, c in rows)
    assert second["counts"]["candidates"] == 4
    first_rows = stored(settings, first["run_id"])
    assert any(c == "k-3" for _, _, c in first_rows)
    engine = make_engine(settings.resolved_database_url())
    with Session(engine) as s:
        statuses = {m.status for m in s.execute(select(MatchStatus)).scalars()}
    engine.dispose()
    assert statuses == {"rejected", "seen", "placed"}
    # rejected stays out even against an older base run
    since_first = client.get(
        "/v1/caseworkers/cw-01/new-matches", params={"since_run": first["run_id"]}
    ).json()["data"]
    assert (rejected["vacancy_id"], rejected["candidate_id"]) not in {
        (m["vacancy_id"], m["candidate_id"]) for m in since_first
    }


def test_second_run_while_one_is_running_is_409_and_a_dead_owner_is_taken_over(
    client: TestClient, settings: Settings
) -> None:
    seed(client)
    engine = make_engine(settings.resolved_database_url())
    run_id, resumed = claim_run(engine, 2, 900)  # this (live) process holds the slot
    assert not resumed
    resp = client.post("/v1/rematch-runs", json={"top_k": 2})
    assert resp.status_code == 409
    assert resp.json()["error"] == "rematch_running" and str(run_id) in resp.json()["detail"]
    # the holder dies: its run can be taken over and finished
    from sqlalchemy import update

    from service.store.rematch_models import RematchRun

    with Session(engine) as s:
        s.execute(update(RematchRun).values(owner=f"{__import__('socket').gethostname()}:999999"))
        s.commit()
    engine.dispose()
    done = run(client)
    assert done["run_id"] == run_id and done["resumed"] == 1


def test_erasing_a_candidate_removes_its_matches_and_statuses(
    client: TestClient, settings: Settings
) -> None:
    seed(client)
    first = run(client)
    assert client.put("/v1/matches/e-1/v-1/k-1/status", json={"status": "proposed"}).status_code
    assert any(c == "k-1" for _, _, c in stored(settings, first["run_id"]))
    assert client.delete("/v1/candidates/k-1").status_code == 204
    engine = make_engine(settings.resolved_database_url())
    with Session(engine) as s:
        assert s.execute(select(MatchStatus)).first() is None
        left = s.execute(select(RematchMatch.candidate_id)).scalars().all()
    engine.dispose()
    assert left and not any(c == "k-1" for _, _, c in stored(settings, first["run_id"]))


def _field(resp: Any, status: int, field: str) -> None:
    assert resp.status_code == status, resp.text
    if status == 422:
        assert field in {d["field"] for d in resp.json()["detail"]}, resp.json()


def test_bad_input_on_every_rematch_endpoint(client: TestClient) -> None:
    _field(client.post("/v1/rematch-runs", json={"top_k": 0}), 422, "top_k")
    _field(client.post("/v1/rematch-runs", json={"top_k": 201}), 422, "top_k")
    _field(client.post("/v1/rematch-runs", json={"topk": 5}), 422, "topk")
    _field(client.get("/v1/rematch-runs/0"), 422, "run_id")
    _field(client.get("/v1/rematch-runs/abc"), 422, "run_id")
    assert client.get("/v1/rematch-runs/999").status_code == 404
    # nothing has run yet
    assert client.get("/v1/caseworkers/cw-01/new-matches").json()["error"] == "not_found"
    _field(client.get("/v1/caseworkers/bad%20id/new-matches"), 422, "caseworker_id")
    seed(client)
    run(client)
    _field(client.get("/v1/caseworkers/cw-01/new-matches?since_run=x"), 422, "since_run")
    _field(client.get("/v1/caseworkers/cw-01/new-matches?since_run=999"), 422, "since_run")
    assert client.get(f"{EMP}/nope/new-matches").status_code == 404
    _field(client.get(f"{EMP}/v-1/new-matches?since_run=0"), 422, "since_run")
    url = "/v1/matches/e-1/v-1/k-1/status"
    _field(client.put(url, json={"status": "hired"}), 422, "status")
    _field(client.put(url, json={}), 422, "status")
    _field(client.put(url, json={"status": "seen", "note": "x" * 2001}), 422, "note")
    _field(client.put(url, json={"status": "seen", "by": "me"}), 422, "by")
    assert client.put("/v1/matches/e-1/v-9/k-1/status", json={"status": "seen"}).status_code == 404
    assert client.put("/v1/matches/e-1/v-1/k-9/status", json={"status": "seen"}).status_code == 404
    _field(
        client.put("/v1/matches/e-1/v-1/bad id/status", json={"status": "seen"}),
        422,
        "candidate_id",
    )
