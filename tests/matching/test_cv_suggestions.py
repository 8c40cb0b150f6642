"""Suggestions from CV text: what is read, what is not, and the evidence spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.cv_suggestions import ProfileFacts, Suggestion, suggest
from matching.esco import read_esco
from matching.occupations import OccupationConcept, OccupationNormalizer

ESCO_SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"

CV = (
    "Werkervaring\n"
    "Heftruckchauffeur bij een groothandel\n"
    "Rijbewijs B/C/CE\n"
    "Talen: Nederlands (moedertaal), Engels (redelijk)\n"
    "Opleiding: mbo niveau 2 Logistiek; havo 4 (niet afgerond)\n"
    "Beschikbaar voor 24 - 32 uur per week."
)


def _by_field(suggestions: list[Suggestion]) -> dict[str, list[Suggestion]]:
    out: dict[str, list[Suggestion]] = {}
    for s in suggestions:
        out.setdefault(s.field, []).append(s)
    return out


def _spans_hold(text: str, suggestions: list[Suggestion]) -> None:
    for s in suggestions:
        assert text[s.evidence.start : s.evidence.end] == s.evidence.snippet
        assert s.evidence.snippet in s.evidence.context


def test_every_field_is_suggested_with_its_evidence() -> None:
    found = suggest(CV, ProfileFacts())
    _spans_hold(CV, found)
    by = _by_field(found)
    [licence] = by["driving_licence"]
    assert (licence.value, licence.label, licence.evidence.snippet) == (
        True,
        "rijbewijs B, C, CE",
        "Rijbewijs B/C/CE",
    )
    assert [(s.value, s.evidence.snippet) for s in by["languages"]] == [
        ("nl", "Nederlands"),
        ("en", "Engels"),
    ]
    [education] = by["education_level"]  # havo 4 was not finished: mbo 2 stands
    assert (education.value, education.label, education.evidence.snippet) == (
        "mbo2",
        "mbo niveau 2",
        "mbo niveau 2",
    )
    [hours] = by["hours_per_week"]
    assert hours.update == {"hours_per_week_min": 24, "hours_per_week_max": 32}
    assert hours.evidence.snippet == "24 - 32 uur per week"
    assert "desired_occupations" not in by  # no normaliser given


def test_what_the_profile_holds_is_not_suggested_again() -> None:
    facts = ProfileFacts(
        driving_licence=True,
        languages=("nl",),
        education_level="vmbo",
        hours_per_week_min=None,
        hours_per_week_max=36,
    )
    by = _by_field(suggest(CV, facts))
    assert set(by) == {"languages"}
    [english] = by["languages"]
    assert english.value == "en" and english.update == {"languages": ["nl", "en"]}


@pytest.mark.parametrize(
    "text",
    [
        "Geen rijbewijs; reist met de fiets en het openbaar vervoer naar het werk.",
        "Zonder rijbewijs B, wel een fiets.",
        "Nationaliteit: Turks. Woont sinds 2010 in Rotterdam en werkt graag buiten.",
        "Diensten van 8 uur in de nachtploeg, drie jaar lang in de bakkerij gewerkt.",
        "Hbo Sociaal Werk (niet afgerond), daarna aan de slag in de schoonmaak.",
        "De Engelse tuin en de Nederlandse kust: hoveniersbedrijf Groen, 2019-2021.",
    ],
)
def test_no_suggestion_where_the_text_denies_it_or_says_something_else(text: str) -> None:
    assert suggest(text, ProfileFacts()) == []


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Diploma MBO-3 Verzorgende IG behaald.", "mbo3"),
        ("BBL niveau 4 Logistiek teamleider, behaald in 2020.", "mbo4"),
        ("Opleiding: MBO Logistiek niveau 1 (entree) afgerond.", "mbo1"),
        ("Vmbo-kader en daarna mbo 2 Schilderen.", "mbo2"),
        ("Havo, daarna Hogeschool Rotterdam: bachelor Bedrijfskunde.", "hbo"),
        ("Basisschool en daarna direct gaan werken in de kassenbouw.", "basisonderwijs"),
    ],
)
def test_education_levels(text: str, level: str) -> None:
    [education] = suggest(text, ProfileFacts())
    assert education.field == "education_level" and education.value == level
    _spans_hold(text, [education])


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("Beschikbaar: 32 uur per week, ook in het weekend.", (32, 32)),
        ("Wil werken 20 tot 28 uur, bij voorkeur overdag.", (20, 28)),
        ("Beschikbaarheid: fulltime, per direct.", (36, 40)),
        ("Zoekt een baan van 16 uur p.w. in de buurt.", (16, 16)),
    ],
)
def test_hours(text: str, hours: tuple[int, int]) -> None:
    [found] = suggest(text, ProfileFacts())
    assert (found.update["hours_per_week_min"], found.update["hours_per_week_max"]) == hours


def test_licence_categories_in_other_spellings() -> None:
    for text, label in [
        ("In het bezit van een C-rijbewijs en code 95.", "rijbewijs C"),
        ("Rijbewijs: B en BE, heftruckcertificaat.", "rijbewijs B, BE"),
        ("Driving licence category B.", "rijbewijs B"),
    ]:
        [licence] = suggest(text, ProfileFacts())
        assert licence.label == label, text


def test_languages_under_a_heading() -> None:
    text = "Talen\nNederlands\nArabisch\nPools\n\nHobby's\nvoetbal"
    found = suggest(text, ProfileFacts())
    assert [s.value for s in found] == ["nl", "ar", "pl"]
    _spans_hold(text, found)


def test_occupations_come_from_the_normaliser_above_its_bound() -> None:
    records = read_esco(ESCO_SUBSET)
    normalizer = OccupationNormalizer(
        [
            OccupationConcept(
                uri=r.uri,
                preferred_label=r.preferred_label,
                labels=(r.preferred_label, *r.alt_labels, *r.hidden_labels),
                isco_code=r.isco_code,
            )
            for r in records
        ]
    )
    found = [s for s in suggest(CV, ProfileFacts(), normalizer) if s.field == "desired_occupations"]
    assert found, "the forklift driver's line is an occupation"
    assert found[0].evidence.snippet == "Heftruckchauffeur"
    assert found[0].score is not None and found[0].score >= 0.75
    assert found[0].update == {"desired_occupations": [found[0].value]}
    _spans_hold(CV, found)
    # an occupation the profile already has (by its ESCO link) is not proposed again
    uri = normalizer.normalize(found[0].evidence.snippet, limit=1)[0].uri
    again = suggest(CV, ProfileFacts(desired_esco_uris=(uri,)), normalizer)
    assert found[0].value not in [s.value for s in again if s.field == "desired_occupations"]
