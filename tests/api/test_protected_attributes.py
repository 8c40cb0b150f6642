"""No protected attributes: every entry point refuses age, gender, nationality, ethnicity,
religion and name fields with a 422 (or an import rejection) that says so and names the field;
and ranking ignores a CV's surroundings (benefit type, ladder step, client group, caseworker,
postcode beyond distance), through the API with the real model and index."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import matching.matcher as matcher_module
from matching.ranking import Scored, explained
from service.cli import app as cli
from service.config import get_settings
from service.formats.jobposting import JOBPOSTING_EXAMPLE
from tests.api.test_rematch import CARE_VACANCY, KITCHEN_VACANCY
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, candidate, vacancy

PROTECTED = "is a protected attribute"
FIELDS: dict[str, Any] = {
    "age": 41,
    "gender": "female",
    "nationality": "NL",
    "ethnicity": "x",
    "religion": "x",
    "name": "Proef Persoon",
    "birth_date": "1984-03-01",
    "date_of_birth": "1984-03-01",
    "birthDate": "1984-03-01",
    "geboortedatum": "1984-03-01",
    "sex": "F",
    "first_name": "Proef",
    "last_name": "Persoon",
    "full_name": "Proef Persoon",
    "leeftijd": 41,
    "geslacht": "v",
    "nationaliteit": "Nederlandse",
    "naam": "Proef Persoon",
    "Voornaam": "Proef",
    "etniciteit": "x",
    "religie": "x",
}
VACANCY_URL = "/v1/employers/e-1/vacancies/v-1"


def _refused(resp: Any, field: str) -> None:
    """A 422 whose detail names ``field`` and says it is a protected attribute."""
    assert resp.status_code == 422, (field, resp.text)
    body = resp.json()
    assert body["error"] == "validation_error"
    named = [d for d in body["detail"] if d["field"] == field and d["location"] == "body"]
    assert named, (field, body)
    message = named[0]["message"]
    assert PROTECTED in message and "does not accept" in message and field.split(".")[-1] in message


def test_candidate_put_refuses_protected_attributes(client: TestClient) -> None:
    for field, value in FIELDS.items():
        _refused(client.put("/v1/candidates/k-1", json=candidate(**{field: value})), field)
    assert client.get("/v1/candidates/k-1").status_code == 404  # nothing half-written
    assert client.put("/v1/candidates/k-1", json=candidate()).status_code == 201


def test_vacancy_put_refuses_protected_attributes(client: TestClient) -> None:
    for field, value in FIELDS.items():
        _refused(client.put(VACANCY_URL, json=vacancy(**{field: value})), field)
    nested = {
        "extra_properties.audience.requiredGender": {
            "audience": {"@type": "PeopleAudience", "requiredGender": "male"}
        },
        "extra_properties.audience.suggestedMaxAge": {"audience": {"suggestedMaxAge": 35}},
        "extra_properties.applicationContact.name": {
            "applicationContact": {"@type": "Person", "name": "Proef Persoon"}
        },
        "extra_properties.contacts.0.givenName": {"contacts": [{"givenName": "Proef"}]},
    }
    for field, extra in nested.items():
        _refused(client.put(VACANCY_URL, json=vacancy(extra_properties=extra)), field)
    assert client.get(VACANCY_URL).status_code == 404
    # a focus occupation's name, an employer's name and the name of a Thing are not personal
    thing = {"baseSalary": {"@type": "MonetaryAmount", "name": "Cao Logistiek"}}
    ok = client.put(
        VACANCY_URL, json=vacancy(employer_name="Voorbeeld B.V.", extra_properties=thing)
    )
    assert ok.status_code == 201, ok.text
    focus = client.put("/v1/focus-occupations/kok", json={"name": "Kok", "synonyms": ["chef"]})
    assert focus.status_code == 201


def _jobposting(**changes: Any) -> dict[str, Any]:
    return {**JOBPOSTING_EXAMPLE, **changes}


def test_jobposting_intake_refuses_protected_attributes(client: TestClient) -> None:
    person = {"@type": "Person", "name": "Proef Persoon"}
    cases = {
        "gender": _jobposting(gender="female"),
        "leeftijd": _jobposting(leeftijd="18-25"),
        "audience.requiredMinAge": _jobposting(
            audience={"@type": "PeopleAudience", "requiredMinAge": 18, "requiredMaxAge": 30}
        ),
        "audience.requiredGender": _jobposting(
            audience={"@type": "PeopleAudience", "requiredGender": "female"}
        ),
        "hiringOrganization.name": _jobposting(hiringOrganization=person),
        "applicationContact.familyName": _jobposting(
            applicationContact={"@type": "ContactPoint", "familyName": "Persoon"}
        ),
        "hiringOrganization.founder.birthDate": _jobposting(
            hiringOrganization={
                "@type": "Organization",
                "name": "Voorbeeld Logistiek B.V.",
                "founder": {"@type": "Person", "birthDate": "1960-01-01"},
            }
        ),
        "employmentUnit.member.0.nationality": _jobposting(
            employmentUnit={"@type": "Organization", "member": [{"nationality": "NL"}]}
        ),
    }
    headers = {"Content-Type": "application/ld+json"}
    for field, doc in cases.items():
        _refused(client.put(VACANCY_URL, content=json.dumps(doc), headers=headers), field)
        # a JobPosting sent as plain JSON is recognised by its @type and refused the same way
        _refused(client.put(VACANCY_URL, json=doc), field)
    assert client.get(VACANCY_URL).status_code == 404
    # the names of Things (organisation, skills as DefinedTerms, category) are accepted
    fine = _jobposting(
        skills=[{"@type": "DefinedTerm", "name": "heftruck rijden"}],
        occupationalCategory={"@type": "CategoryCode", "codeValue": "8344", "name": "Chauffeur"},
    )
    resp = client.put(VACANCY_URL, content=json.dumps(fine), headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["employer_name"] == "Voorbeeld Logistiek B.V."


def test_ad_hoc_match_refuses_protected_attributes(client: TestClient) -> None:
    for field, value in FIELDS.items():
        body = {"target": "candidates", "text": "heftruckchauffeur", field: value}
        _refused(client.post("/v1/match", json=body), field)


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _import(kind: str, path: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["import", kind, str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_import_rejects_lines_with_protected_attributes(cli_env: None, tmp_path: Path) -> None:
    candidates = tmp_path / "c.jsonl"
    lines = [
        {"external_id": "k-1", **candidate()},
        {"external_id": "k-2", **candidate(geslacht="m")},
        {"external_id": "k-3", **candidate(date_of_birth="1984-03-01", nationaliteit="NL")},
    ]
    candidates.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    summary = _import("candidates", candidates)
    assert (summary["created"], summary["rejected"]) == (1, 2)
    reasons = {r["line"]: r["reason"] for r in summary["rejections"]}
    assert reasons[2].startswith("geslacht: 'geslacht' " + PROTECTED)
    assert reasons[3].startswith("date_of_birth: ") and PROTECTED in reasons[3]
    assert "+1 more" in reasons[3]  # nationaliteit as well

    vacancies = tmp_path / "v.jsonl"
    lines = [
        {"external_id": "v-1", **vacancy()},
        {"external_id": "v-2", **vacancy(leeftijd="18-25")},
        _jobposting(identifier="v-3"),
        _jobposting(identifier="v-4", audience={"requiredGender": "male"}),
    ]
    vacancies.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    summary = _import("vacancies", vacancies, "--employer-id", "e-1")
    assert (summary["created"], summary["rejected"]) == (2, 2)
    reasons = {r["line"]: r["reason"] for r in summary["rejections"]}
    assert reasons[2].startswith("leeftijd: ") and PROTECTED in reasons[2]
    assert reasons[4].startswith("audience.requiredGender: ") and PROTECTED in reasons[4]


# ---------------------------------------------------------------- ranking invariance

TOL = 1e-6
CVS = {
    "k-1": candidate(),
    "k-2": candidate(CARE_CV, desired_occupations=["verzorgende IG"], skills=["zorg"]),
    "k-3": candidate(CATERING_CV, desired_occupations=["kok"], skills=["HACCP"]),
    "k-4": candidate(FORKLIFT_CV + " Ook ervaring als bezorger.", skills=["orderpicken"]),
    "k-5": candidate(CARE_CV + " Ook nachtdiensten.", desired_occupations=["verzorgende"]),
}
# Surroundings that must not count: benefit type, ladder step, client group, caseworker,
# work-chance score and postcode (places around Rotterdam; no travel limit, so no filter).
SURROUNDINGS = [
    ("ww", 1, "zorgen", "cw-01", 0.1, "3011AB"),
    ("participatiewet", 6, "matchen", "cw-02", 0.9, "2983LB"),
    ("wajong", 3, "groeien", "cw-03", 0.5, "3311AA"),
    ("none", None, None, None, None, "2611AA"),
    ("wia", 4, "faciliteren", "cw-04", 0.3, "3111AA"),
]
VACANCIES = {"v-1": vacancy(), "v-2": CARE_VACANCY, "v-3": KITCHEN_VACANCY}
EMPLOYER = "/v1/employers/e-1/vacancies"


def _put_candidates(client: TestClient, surroundings: list[tuple[Any, ...]]) -> None:
    for (cid, body), values in zip(CVS.items(), surroundings, strict=True):
        benefit, ladder, group, caseworker, chance, postcode = values
        body = dict(
            body,
            benefit_type=benefit,
            participation_ladder_step=ladder,
            client_group=group,
            caseworker_id=caseworker,
            work_chance_score=chance,
            postcode=postcode,
            max_travel_km=None,
        )
        assert client.put(f"/v1/candidates/{cid}", json=body).status_code in (200, 201)


def _entry(item: dict[str, Any]) -> tuple[float, dict, dict, list[str]]:
    # the distance line is the one place a postcode may show; it is not part of the score
    reasons = [line for line in item["explanation"] if not line.startswith("Afstand")]
    return item["score"], item["parts"], item["signals"], reasons


def _scores(client: TestClient) -> tuple[dict[Any, tuple], dict[str, float]]:
    """Every score the API gives for these candidates, and their distances to v-1."""
    table: dict[Any, tuple] = {}
    distances: dict[str, float] = {}
    for vid in VACANCIES:
        resp = client.get(f"{EMPLOYER}/{vid}/matches", params={"limit": 50})
        for item in resp.json()["data"]:
            table[("vacancy", vid, item["candidate_id"])] = _entry(item)
            if vid == "v-1":
                distances[item["candidate_id"]] = item["distance_km"]
    for cid in CVS:
        for item in client.get(f"/v1/candidates/{cid}/matches").json()["data"]:
            table[("candidate", cid, item["vacancy_id"])] = _entry(item)
    query = {"target": "candidates", "text": VACANCIES["v-1"]["description"], "postcode": "2983AB"}
    for item in client.post("/v1/match", json={**query, "limit": 50}).json()["data"]:
        table[("ad hoc", item["candidate_id"])] = _entry(item)
    return table, distances


def _differences(a: dict[Any, tuple], b: dict[Any, tuple]) -> list[str]:
    if set(a) != set(b):
        return [f"different results: {sorted(set(a) ^ set(b), key=str)}"]
    out = []
    for key, (sa, pa, ga, ea) in a.items():
        sb, pb, gb, eb = b[key]
        if abs(sa - sb) > TOL or any(abs(pa[k] - pb[k]) > TOL for k in pa):
            out.append(f"{key}: {sa} vs {sb}")
        elif any(abs(ga[k] - gb[k]) > TOL for k in ga) or ea != eb:
            out.append(f"{key}: signals or reasons differ")
    return out


def _swap_and_compare(client: TestClient) -> list[str]:
    for vid, body in VACANCIES.items():
        assert client.put(f"{EMPLOYER}/{vid}", json=body).status_code == 201
    _put_candidates(client, SURROUNDINGS)
    before, near = _scores(client)
    assert len(before) == 3 * 5 + 5 * 3 + 5  # every pair in every direction, nothing filtered
    _put_candidates(client, SURROUNDINGS[1:] + SURROUNDINGS[:1])  # each gets another's values
    assert client.get("/v1/candidates/k-1").json()["participation_ladder_step"] == 6
    after, far = _scores(client)
    assert near != far  # the postcodes really moved the candidates
    return _differences(before, after)


def test_swapping_a_cvs_surroundings_leaves_every_score_unchanged(client: TestClient) -> None:
    assert _swap_and_compare(client) == []


def _ladder_bonus(signals: dict[str, float], **kw: Any) -> Scored:
    scored = explained(signals, **kw)
    step = kw["cand"].ladder_step if kw.get("cand") is not None else None
    return dataclasses.replace(scored, score=scored.score + 0.01 * (step or 0))


def test_the_invariance_check_catches_a_ladder_step_bonus(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: with a ladder-step bonus in the matcher's scores it does
    (planted where the matcher turns a pooled row's score into its answer, both directions)."""
    monkeypatch.setattr(matcher_module, "explained", _ladder_bonus)
    found = _swap_and_compare(client)
    assert any(key.startswith("('vacancy'") for key in found), found
    assert any(key.startswith("('candidate'") for key in found), found
