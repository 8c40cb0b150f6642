"""Unit tests for matching.focus: title similarity and focus-occupation matching."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from matching.focus import (
    GENERIC_ONLY_CAP,
    FocusHit,
    FocusMatcher,
    FocusOccupation,
    title_similarity,
)

HEFTRUCK = FocusOccupation(
    slug="heftruckchauffeur",
    name="Heftruckchauffeur",
    synonyms=(
        "vorkheftruckchauffeur",
        "vorkheftruckbestuurder",
        "heftruckbestuurder",
        "reachtruckchauffeur",
    ),
)
VERZORGENDE = FocusOccupation(
    slug="verzorgende-ig",
    name="Verzorgende IG",
    synonyms=("Verzorgende individuele gezondheidszorg",),
)
SCHOONMAKER = FocusOccupation(
    slug="schoonmaker", name="Schoonmaker", synonyms=("Schoonmaakmedewerker", "Interieurverzorger")
)

# --- title_similarity ------------------------------------------------------------------------


def test_equal_normalised_titles_score_one() -> None:
    assert title_similarity("Heftruckchauffeur (m/v) 32 uur", "heftruckchauffeur") == 1.0
    assert title_similarity("Schoonmaakster", "Schoonmaker fulltime") == 1.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("heftruckchauffeur", "chauffeur heftruck"),
        ("magazijnmedewerker", "medewerker magazijn"),
        ("productiemedewerker", "Medewerker productie (m/v)"),
        ("orderpicker", "order picker"),
    ],
)
def test_word_order_and_compound_splitting_do_not_matter(a: str, b: str) -> None:
    assert title_similarity(a, b) >= 0.95


def test_extra_words_in_a_longer_title() -> None:
    assert (
        title_similarity("Heftruckchauffeur voor ons distributiecentrum", "heftruckchauffeur")
        >= 0.85
    )
    assert title_similarity("Kok in opleiding", "kok") >= 0.85
    assert title_similarity("Allround schoonmaker per direct", "Schoonmaker") >= 0.85


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("medewerker", "magazijnmedewerker"),
        ("schoonmaakmedewerker", "magazijnmedewerker"),
        ("Allround medewerker", "Medewerker klantenservice"),
        ("assistent", "zorgassistent"),
    ],
)
def test_shared_generic_terms_alone_do_not_match(a: str, b: str) -> None:
    assert title_similarity(a, b) < 0.85


def test_generic_only_title_is_capped() -> None:
    assert title_similarity("Medewerker", "Medewerker magazijn") <= GENERIC_ONLY_CAP


def test_bare_head_is_not_contained_in_a_specific_compound() -> None:
    assert title_similarity("Chauffeur", "Heftruckchauffeur") < 0.85
    assert title_similarity("Chauffeur", "Chauffeur heftruck") < 0.85


def test_slash_alternatives_each_match() -> None:
    assert title_similarity("Monteur/elektricien", "Elektricien") >= 0.85
    assert title_similarity("Chauffeur/bijrijder", "Bijrijder") >= 0.85
    assert title_similarity("Chauffeur/bijrijder", "Chauffeur") >= 0.85


def test_small_typos_still_match() -> None:
    assert title_similarity("heftruckchaufeur", "heftruckchauffeur") >= 0.85
    assert title_similarity("Magazijnmedewerkr", "magazijnmedewerker") >= 0.85


def test_unrelated_titles_score_low() -> None:
    assert title_similarity("verzorgende ig", "heftruckchauffeur") < 0.5
    assert title_similarity("Kapper", "Vrachtwagenchauffeur") < 0.5


@pytest.mark.parametrize(("a", "b"), [("", ""), ("", "kok"), ("(m/v) 32 uur", "kok")])
def test_empty_after_normalisation_scores_zero(a: str, b: str) -> None:
    assert title_similarity(a, b) == 0.0
    assert title_similarity(b, a) == 0.0


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Heftruckchauffeur voor ons distributiecentrum", "heftruckchauffeur"),
        ("kok", "hulpkok"),
        ("verzorgende ig", "verzorgende"),
        ("postmedewerker", "hostmedewerker"),
    ],
)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    s = title_similarity(a, b)
    assert s == title_similarity(b, a)
    assert 0.0 <= s <= 1.0


# --- FocusMatcher ----------------------------------------------------------------------------


def test_domain_example_exact_title_with_noise() -> None:
    hits = FocusMatcher([HEFTRUCK]).match(["Heftruckchauffeur (m/v) 32 uur"])
    assert hits == [
        FocusHit(
            slug="heftruckchauffeur",
            name="Heftruckchauffeur",
            label="Heftruckchauffeur",
            matched="Heftruckchauffeur (m/v) 32 uur",
            score=1.0,
        )
    ]


def test_domain_example_synonym_and_inverted_title() -> None:
    matcher = FocusMatcher([HEFTRUCK])
    [syn] = matcher.match(["Vorkheftruckbestuurder"])
    assert (syn.slug, syn.label, syn.score) == ("heftruckchauffeur", "vorkheftruckbestuurder", 1.0)
    [inverted] = matcher.match(["Chauffeur heftruck"])
    assert inverted.slug == "heftruckchauffeur"
    assert inverted.label == "Heftruckchauffeur"
    assert inverted.score >= 0.95


@pytest.mark.parametrize(
    "title", ["Verzorgende IG", "Magazijnmedewerker", "Chauffeur", "Medewerker"]
)
def test_domain_example_non_matches(title: str) -> None:
    assert FocusMatcher([HEFTRUCK]).match([title]) == []


def test_a_synonym_makes_it_match() -> None:
    occ = FocusOccupation(
        slug="heftruckchauffeur", name="Heftruckchauffeur", synonyms=("Magazijnmedewerker",)
    )
    [hit] = FocusMatcher([occ]).match(["Magazijnmedewerker 38 uur (m/v/x)"])
    assert hit.label == "Magazijnmedewerker"
    assert hit.score == 1.0


def test_threshold_is_inclusive_and_filters() -> None:
    title, label = "Heftruckchauffeur voor ons distributiecentrum", "Heftruckchauffeur"
    score = title_similarity(title, label)
    assert 0.85 <= score < 1.0
    occ = FocusOccupation(slug="h", name=label)
    assert [h.score for h in FocusMatcher([occ], threshold=score).match([title])] == [score]
    assert FocusMatcher([occ], threshold=min(1.0, score + 1e-6)).match([title]) == []


def test_low_threshold_admits_weaker_matches() -> None:
    occ = FocusOccupation(slug="h", name="Heftruckchauffeur")
    assert FocusMatcher([occ]).match(["Reachtruckchauffeur"]) == []
    [hit] = FocusMatcher([occ], threshold=0.7).match(["Reachtruckchauffeur"])
    assert 0.7 <= hit.score < 0.85


@pytest.mark.parametrize("threshold", [-0.1, 1.01])
def test_threshold_out_of_range_is_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        FocusMatcher([HEFTRUCK], threshold=threshold)


def test_duplicate_slugs_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        FocusMatcher([HEFTRUCK, FocusOccupation(slug=HEFTRUCK.slug, name="Reachtruckchauffeur")])


def test_multiple_hits_sorted_by_score_then_slug() -> None:
    a = FocusOccupation(slug="b-heftruck", name="Heftruckchauffeur")
    b = FocusOccupation(slug="a-heftruck", name="Heftruck chauffeur")
    c = FocusOccupation(slug="0-kok", name="Kok")
    hits = FocusMatcher([a, b, c]).match(["Kok in opleiding", "Heftruckchauffeur", "Kapper"])
    assert [h.slug for h in hits] == ["a-heftruck", "b-heftruck", "0-kok"]
    assert hits[0].score == hits[1].score == 1.0
    assert hits[2].score < 1.0
    assert hits[2].matched == "Kok in opleiding"


def test_best_title_and_label_per_slug() -> None:
    hits = FocusMatcher([SCHOONMAKER, VERZORGENDE]).match(
        ["Allround schoonmaker", "Schoonmaakmedewerker (m/v)", "Verzorgende IG 24 uur"]
    )
    by_slug = {h.slug: h for h in hits}
    assert set(by_slug) == {"schoonmaker", "verzorgende-ig"}
    assert by_slug["schoonmaker"].matched == "Schoonmaakmedewerker (m/v)"
    assert by_slug["schoonmaker"].label == "Schoonmaakmedewerker"
    assert by_slug["schoonmaker"].score == 1.0
    assert by_slug["verzorgende-ig"].label == "Verzorgende IG"


def test_ties_go_to_the_name_and_the_first_title() -> None:
    occ = FocusOccupation(slug="kok", name="Kok", synonyms=("kok",))
    [hit] = FocusMatcher([occ]).match(["Kok (m/v)", "kok fulltime"])
    assert (hit.label, hit.matched) == ("Kok", "Kok (m/v)")


def test_scores_equal_title_similarity() -> None:
    titles = [
        "Heftruckchauffeur voor ons distributiecentrum",
        "Chauffeur heftruck",
        "Heftruckchaufeur",
    ]
    for hit in FocusMatcher([HEFTRUCK], threshold=0.0).match(titles):
        assert hit.score == pytest.approx(title_similarity(hit.matched, hit.label))


def test_empty_inputs() -> None:
    assert FocusMatcher([HEFTRUCK]).match([]) == []
    assert FocusMatcher([HEFTRUCK]).match(["", "(m/v)", "32 uur"]) == []
    assert FocusMatcher([]).match(["Heftruckchauffeur"]) == []
    assert FocusMatcher([FocusOccupation(slug="x", name="(m/v)")]).match(["Kok"]) == []


def test_occupations_property_keeps_order() -> None:
    occs = [SCHOONMAKER, HEFTRUCK, VERZORGENDE]
    assert FocusMatcher(occs).occupations == tuple(occs)


# ---------------------------------------------------------------- focus by ESCO occupation

_HEFTRUCK_URI = "http://data.europa.eu/esco/occupation/eeac6251-1974-42f5-91ed-513c6c883755"


@dataclass(frozen=True)
class _Link:
    uri: str
    label: str
    score: float


def test_esco_link_in_esco_uris_is_a_focus_hit_without_title_match() -> None:
    occ = FocusOccupation("logistiek", "Logistiek vakkracht", (), (_HEFTRUCK_URI,))
    matcher = FocusMatcher([occ])
    link = _Link(_HEFTRUCK_URI, "heftruckchauffeur", 0.93)
    assert matcher.match(["Chauffeur vorkheftruck"]) == []
    [hit] = matcher.match(["Chauffeur vorkheftruck"], [link])
    assert (hit.slug, hit.via, hit.label, hit.matched, hit.score) == (
        "logistiek",
        "esco",
        "heftruckchauffeur",
        _HEFTRUCK_URI,
        0.93,
    )
    # Links count even without titles; a link to another occupation does not.
    assert matcher.match([], [link]) == [hit]
    assert matcher.match(["Kok"], [_Link(_HEFTRUCK_URI + "x", "iets", 1.0)]) == []


def test_stronger_signal_wins_between_title_and_esco_link() -> None:
    occ = FocusOccupation("heftruck", "Heftruckchauffeur", (), (_HEFTRUCK_URI,))
    matcher = FocusMatcher([occ])
    [hit] = matcher.match(["Heftruckchauffeur"], [_Link(_HEFTRUCK_URI, "heftruckchauffeur", 1.0)])
    assert (hit.via, hit.score) == ("title", 1.0)  # tie: the title match is kept
    [hit] = matcher.match(["heftruckchauffer"], [_Link(_HEFTRUCK_URI, "heftruckchauffeur", 1.0)])
    assert (hit.via, hit.score) == ("esco", 1.0)
    [hit] = matcher.match(["heftruckchauffer"], [_Link(_HEFTRUCK_URI, "heftruckchauffeur", 0.7)])
    assert hit.via == "title" and 0.85 <= hit.score < 1.0
