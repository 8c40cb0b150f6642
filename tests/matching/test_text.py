"""Unit tests for matching.text: folding, title normalisation, compounds, content terms."""

from __future__ import annotations

import pytest

from matching.text import (
    COMPOUND_HEADS,
    GENERIC_TERMS,
    NOT_EVIDENCE,
    PLACE_WORDS,
    STOPWORDS,
    content_terms,
    fold,
    neutral_form,
    normalize_title,
    split_compounds,
    term_spans,
)

# --- fold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Café", "cafe"),
        ("Coördinator", "coordinator"),
        ("Kassière", "kassiere"),
        ("  Magazijn \t\n Medewerker  ", "magazijn medewerker"),
        ("ĲSSELMONDE", "ijsselmonde"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_fold_is_idempotent() -> None:
    once = fold("  Één Café-Medewerkster ")
    assert fold(once) == once == "een cafe-medewerkster"


# --- normalize_title -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Heftruckchauffeur (m/v) 32 uur", "heftruckchauffeur"),
        ("Ervaren Schoonmaakster 20-24 uur per week", "schoonmaker"),
        ("Magazijnmedewerker 38 uur (m/v/x)", "magazijnmedewerker"),
        ("Medewerker magazijn - fulltime", "medewerker magazijn"),
        ("Zorgassistent", "zorgassistent"),
        ("Allround schoonmaker per direct", "allround schoonmaker"),
        ("Kok in opleiding", "kok in opleiding"),
        ("Leerling monteur 0-uren", "leerling monteur"),
        ("Verkoopster parttime (V/M)", "verkoper"),
        ("Junior Kassa-medewerkster, 12u/w", "kassa-medewerker"),
        ("Verpleegster (M/V/D) tijdelijk", "verpleegkundige"),
        ("Kapster 32u", "kapper"),
        ("Serveerster oproepkracht", "serveerder"),
        ("Chauffeuse m/v/x vast contract", "chauffeur"),
        ("Productiemedewerkster 24 - 36 uur", "productiemedewerker"),
        ("Senior monteur/elektricien (h/v)", "monteur/elektricien"),
        ("Medewerker klantenservice full-time, 0,8 fte", "medewerker klantenservice"),
        ("Bezorger max. 20 uur p/w bijbaan", "bezorger"),
        ("Kok (m/w) part-time met uitzicht op vast contract", "kok"),
        ("Startende vrachtwagenchauffeur CE - vakantiewerk", "vrachtwagenchauffeur ce"),
        ("Medior Teamleider E-commerce", "teamleider e-commerce"),
    ],
)
def test_normalize_title_examples(title: str, expected: str) -> None:
    assert normalize_title(title) == expected


@pytest.mark.parametrize("noise", ["", "   ", "(m/v)", "32 uur", "Fulltime (m/v/x) per direct"])
def test_normalize_title_only_noise_gives_empty(noise: str) -> None:
    assert normalize_title(noise) == ""


def test_normalize_title_keeps_leerling_and_meaningful_words() -> None:
    assert normalize_title("Leerling timmerman") == "leerling timmerman"
    # "vast" is noise only as a whole word, "vaste planten" is a trade.
    assert normalize_title("Medewerker vastgoed") == "medewerker vastgoed"
    assert normalize_title("Kweker vaste planten (m/v)") == "kweker vaste planten"


@pytest.mark.parametrize(
    "title",
    ["Junior Kassa-medewerkster, 12u/w", "Medewerker magazijn - fulltime", "Monteur/elektricien"],
)
def test_normalize_title_is_idempotent(title: str) -> None:
    once = normalize_title(title)
    assert normalize_title(once) == once


def test_normalize_title_does_not_mangle_ster_words() -> None:
    assert normalize_title("Meester schilder") == "meester schilder"
    assert normalize_title("Zuster") == "zuster"
    assert normalize_title("Monster") == "monster"


def test_normalize_title_folds_accents() -> None:
    assert normalize_title("Café-medewerkster (m/v)") == "cafe-medewerker"


# --- neutral_form ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("medewerkster", "medewerker"),
        ("schoonmaakster", "schoonmaker"),
        ("kapster", "kapper"),
        ("verkoopster", "verkoper"),
        ("serveerster", "serveerder"),
        ("chauffeuse", "chauffeur"),
        ("verpleegster", "verpleegkundige"),
        ("kassamedewerkster", "kassamedewerker"),
        ("wijkverpleegster", "wijkverpleegkundige"),
        ("monster", "monster"),
        ("meester", "meester"),
        ("zuster", "zuster"),
        ("chauffeur", "chauffeur"),
    ],
)
def test_neutral_form(word: str, expected: str) -> None:
    assert neutral_form(word) == expected


# --- split_compounds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("heftruckchauffeur", "heftruck chauffeur"),
        ("magazijnmedewerker", "magazijn medewerker"),
        ("productiemedewerker", "productie medewerker"),
        ("schoonmaakmedewerker", "schoonmaak medewerker"),
        ("vorkheftruckbestuurder", "vorkheftruck bestuurder"),
        ("beveiligingsmedewerker", "beveiliging medewerker"),  # linking s dropped
        ("onderhoudsmonteur", "onderhoud monteur"),
        ("ziekenhuismedewerker", "ziekenhuis medewerker"),  # its own s stays
        ("klantenservice-medewerker", "klantenservice medewerker"),
        ("wijkverpleegkundige", "wijk verpleegkundige"),
        ("heftruckchauffeurs", "heftruck chauffeurs"),
        ("Medewerker Magazijn", "medewerker magazijn"),
    ],
)
def test_split_compounds(text: str, expected: str) -> None:
    assert split_compounds(text) == expected


@pytest.mark.parametrize(
    "word",
    [
        "medewerker",  # a head on its own
        "verpleegkundige",  # longest head wins over "kundige"
        "verwerker",  # "ver" is a particle, not a prefix
        "voorman",
        "opleider",  # prefix shorter than three letters
        "e-commerce",
        "monster",
        "",
    ],
)
def test_split_compounds_leaves_non_compounds(word: str) -> None:
    assert split_compounds(word) == word


def test_compound_heads_are_folded_and_unique() -> None:
    assert len(set(COMPOUND_HEADS)) == len(COMPOUND_HEADS)
    assert all(fold(h) == h and " " not in h for h in COMPOUND_HEADS)


# --- content_terms ---------------------------------------------------------------------------


def test_content_terms_adds_compound_and_parts_in_order() -> None:
    assert content_terms("Heftruckchauffeur") == ["heftruckchauffeur", "heftruck", "chauffeur"]


def test_content_terms_cv_sentence() -> None:
    text = (
        "Ik heb 5 jaar ervaring als heftruckchauffeur en magazijnmedewerkster bij een "
        "distributiecentrum in Ridderkerk. VCA-diploma, rijbewijs B."
    )
    assert content_terms(text) == [
        "heftruckchauffeur",
        "heftruck",
        "chauffeur",
        "magazijnmedewerker",
        "magazijn",
        "medewerker",
        "distributiecentrum",
        "vca",
        "rijbewijs",
    ]  # not the place "ridderkerk", not the generic "diploma" (NOT_EVIDENCE)


def test_content_terms_drops_stopwords_numbers_and_short_tokens() -> None:
    terms = content_terms("Wij zoeken een collega voor 32 uur per week, 2024, in de regio AB")
    assert terms == []  # "regio" is generic (NOT_EVIDENCE)


def test_content_terms_deduplicates_and_maps_gender_and_plural() -> None:
    terms = content_terms(
        "Schoonmaakster gezocht. Schoonmaker? Ook chauffeurs en heftruckchauffeurs"
    )
    assert terms == [
        "schoonmaker",
        "chauffeur",
        "heftruckchauffeurs",
        "heftruck",
    ]


def test_content_terms_keeps_generic_terms_and_accents_fold() -> None:
    terms = content_terms("Allround medewerker café")
    assert terms == ["allround", "medewerker", "cafe"]
    assert {"allround", "medewerker"} <= GENERIC_TERMS


def test_content_terms_empty() -> None:
    assert content_terms("") == []
    assert content_terms(" ... 123 !!") == []


@pytest.mark.parametrize(
    "place",
    ["Deventer", "Ridderkerk", "'s-Hertogenbosch", "Den Haag", "Alphen aan den Rijn", "Ede", "Oss"],
)
def test_place_names_are_never_terms(place: str) -> None:
    text = f"Orderpicker in {place} en omgeving"
    assert content_terms(text) == ["orderpicker", "order", "picker"]
    assert term_spans(text, ["orderpicker", *content_terms(place)]) == [("orderpicker", 0, 11)]


def test_place_names_that_are_words_stay_terms() -> None:
    """Boer, Winkel, Best and Enter are places too, but a CV that says them means the word."""
    assert content_terms("Boer, winkel, best, enter") == ["boer", "winkel", "best", "enter"]
    assert {"boer", "winkel", "best", "enter", "mill", "hall"}.isdisjoint(PLACE_WORDS)
    assert {"deventer", "ridderkerk", "utrecht", "hertogenbosch", "haag", "zwolle"} <= PLACE_WORDS


def test_generic_words_are_never_terms() -> None:
    text = "Vaste baan in de regio, direct beschikbaar, diploma en certificaat, salaris volgens cao"
    assert content_terms(text) == []
    assert {"regio", "diploma", "salaris", "cao", "beschikbaar"} <= NOT_EVIDENCE
    # a specific certificate is evidence, the generic word is not
    assert content_terms("heftruckcertificaat") == ["heftruckcertificaat"]


def test_generic_and_stopwords_are_folded_and_disjoint() -> None:
    assert all(fold(t) == t for t in GENERIC_TERMS | STOPWORDS | NOT_EVIDENCE | PLACE_WORDS)
    assert not GENERIC_TERMS & STOPWORDS
    assert "leerling" not in STOPWORDS
