"""The protected-attribute vocabulary and its two scopes (request fields, JSON-LD)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from service.api.schemas import AdHocMatchIn
from service.protected import find_in_jsonld, normalise_key, protected_category
from service.store.models import CandidateIn, FocusOccupationIn, VacancyIn, VacancyPublic


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("date_of_birth", "age"),
        ("Date-Of-Birth", "age"),
        ("birthDate", "age"),
        ("geboortedatum", "age"),
        ("leeftijd", "age"),
        ("requiredMinAge", "age"),
        ("sex", "gender"),
        ("Geslacht", "gender"),
        ("https://schema.org/gender", "gender"),
        ("schema:nationality", "nationality"),
        ("nationaliteit", "nationality"),
        ("etniciteit", "ethnicity"),
        ("religie", "religion"),
        ("first_name", "name"),
        ("ACHTERNAAM", "name"),
        ("full name", "name"),
        ("burgerlijke_staat", "civil status"),
    ],
)
def test_spellings_are_recognised(key: str, category: str) -> None:
    assert protected_category(key) == category


@pytest.mark.parametrize(
    "key", ["cv_text", "skills", "languages", "postcode", "employer_name", "title", "agent"]
)
def test_ordinary_fields_are_not_protected(key: str) -> None:
    assert protected_category(key) is None


def test_normalise_key() -> None:
    assert normalise_key("Date_Of-Birth ") == "dateofbirth"
    assert normalise_key("http://schema.org/birthDate") == "birthdate"


def test_jsonld_name_counts_only_inside_a_person() -> None:
    doc: dict[str, Any] = {
        "@type": "JobPosting",
        "name": "Heftruckchauffeur",
        "hiringOrganization": {"@type": "Organization", "name": "Voorbeeld B.V."},
        "skills": [{"@type": "DefinedTerm", "name": "heftruck rijden"}],
        "applicationContact": {"@type": ["Thing", "schema:Person"], "naam": "Proef"},
        "audience": {"@type": "PeopleAudience", "requiredGender": "female"},
        "x": [{"givenName": "Proef"}],
    }
    assert list(find_in_jsonld(doc)) == [
        (("applicationContact", "naam"), "naam", "name"),
        (("audience", "requiredGender"), "requiredGender", "gender"),
        (("x", 0, "givenName"), "givenName", "name"),
    ]


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    doc: Any = {"gender": "f"}
    for _ in range(20_000):
        doc = [doc]
    [(loc, key, _)] = list(find_in_jsonld(doc))
    assert len(loc) == 20_001 and key == "gender"


def test_models_refuse_undeclared_protected_fields_and_keep_declared_ones() -> None:
    with pytest.raises(ValidationError) as info:
        CandidateIn.model_validate({"cv_text": "x", "geslacht": "v", "naam": "P"})
    errors = info.value.errors()
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("protected_attribute", ("geslacht",)),
        ("protected_attribute", ("naam",)),
    ]
    assert errors[0]["input"] == "geslacht"  # the name, never the value
    with pytest.raises(ValidationError, match="protected attribute"):
        AdHocMatchIn.model_validate({"target": "vacancies", "text": "x", "age": 40})
    with pytest.raises(ValidationError, match="protected attribute") as info:
        VacancyIn.model_validate(
            {"title": "t", "description": "d", "extra_properties": {"a": {"birthDate": "x"}}}
        )
    assert info.value.errors()[0]["loc"] == ("extra_properties", "a", "birthDate")
    # a focus occupation's declared ``name`` is the occupation's name
    assert FocusOccupationIn.model_validate({"name": "Kok"}).name == "Kok"
    # other unknown fields keep pydantic's own error
    with pytest.raises(ValidationError) as info:
        CandidateIn.model_validate({"cv_text": "x", "favourite_colour": "blue"})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_stored_rows_always_render() -> None:
    """Answer models reuse the input classes; a row stored before the check still renders."""
    row = {
        "title": "t",
        "description": "d",
        "extra_properties": {"audience": {"requiredGender": "male"}},
        "employer_id": "e",
        "vacancy_id": "v",
        "created_at": "2026-11-26T00:00:00Z",
        "updated_at": "2026-11-26T00:00:00Z",
    }
    assert VacancyPublic.model_validate(row).vacancy_id == "v"
