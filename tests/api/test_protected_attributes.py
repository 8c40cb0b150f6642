"""No protected attributes: every entry point refuses age, gender, nationality, ethnicity,
religion and name fields with a 422 (or an import rejection) that says so and names the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import get_settings
from service.jobposting import JOBPOSTING_EXAMPLE
from tests.factories import candidate, vacancy

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
