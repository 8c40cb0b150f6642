"""Explanations list skills and terms the two sides share, never places or generic words."""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

import pytest

from matching import text as text_module
from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.profiles import make_side
from matching.ranking import UNCALIBRATED
from matching.text import NOT_EVIDENCE, STOPWORDS, content_terms, fold
from tests.oracle.ranking_oracle import score_pair

CV = (
    "Magazijnmedewerker uit Deventer met heftruckcertificaat. Vijf jaar orderpicken in een "
    "distributiecentrum in de regio Zwolle; diploma mbo, direct beschikbaar, vast contract gezocht."
)
VACANCY = (
    "Orderpicker distributiecentrum Deventer. In de regio Zwolle zoeken wij een collega met "
    "heftruckcertificaat en diploma; salaris volgens cao, vast contract, start direct."
)


@pytest.mark.parametrize("asker", ["vacancy", "candidate"])
def test_shared_places_and_generic_words_are_not_shown_as_skills(asker: str) -> None:
    cand = make_side(occupations=[], skills=[], text=CV, location=None, focus=None)
    vac = make_side(occupations=["Orderpicker"], skills=[], text=VACANCY, location=None, focus=None)
    scored = score_pair(
        vacancy_side=vac,
        cand_side=cand,
        cosine=0.5,
        query_is_vacancy=asker == "vacancy",
        calibration=UNCALIBRATED,
    )
    [line] = [ln for ln in scored.explanation if ln.startswith("Gedeelde vaardigheden")]
    shown = line.split(": ", 1)[1].split(", ")
    assert {"heftruckcertificaat", "distributiecentrum"} <= set(shown)
    assert set(shown) == set(scored.shared_terms)
    for never in ("deventer", "zwolle", "regio", "diploma", "contract", "salaris", "direct"):
        assert never not in scored.shared_terms, never


def _gazetteer_names() -> list[str]:
    """Every place, other place, municipality and province name of the bundled PC4 data."""
    names: set[str] = set()
    path = Path(text_module.__file__).parent / "data" / "nl_pc4_geonames.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            names.update([row["place"], row["municipality"], row["province"]])
            names.update(p for p in row["other_places"].split("|") if p)
    return sorted(names)


def _words_that_are_words() -> frozenset[str]:
    """Place words that are also words (ESCO NL's text, the build script's ALSO_WORDS): the
    one documented exception ("Boer", "Winkel", "Leiden" stay terms)."""
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_place_words.py"
    spec = importlib.util.spec_from_file_location("build_place_words", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    vocabulary: set[str] = set()
    for record in read_esco(BUNDLED_ESCO_NL):
        for part in (record.preferred_label, *record.alt_labels, record.description):
            vocabulary.update(re.findall(r"[^\W_]+", fold(part)))
    return frozenset((vocabulary | module.ALSO_WORDS) - module.ALWAYS_PLACES)


def test_no_place_name_of_the_gazetteer_is_a_shared_skill() -> None:
    """The class, not one city: each of the ~2,500 names (places, municipalities, provinces,
    multi-word and hyphenated ones) on both sides of a pair shares no term but real words."""
    names = _gazetteer_names()
    assert len(names) > 2000
    exempt = _words_that_are_words()
    leaks: dict[str, list[str]] = {}
    shown_words = 0
    for name in names:
        shared = _shared_with_an_orderpicker(
            f"Orderpicker uit {name}.", f"Orderpicker in {name} en omgeving."
        )
        place_terms = set(content_terms(name))
        shown = set(shared) & place_terms
        shown_words += len(shown)
        if shown - exempt:
            leaks[name] = sorted(shown - exempt)
        assert "orderpicker" in shared  # the pair does share terms
    assert leaks == {}
    # the exception is small: place words that are also Dutch words
    assert shown_words < len(names) // 10


def test_no_generic_word_is_a_shared_skill() -> None:
    for word in sorted(NOT_EVIDENCE | STOPWORDS):
        shared = _shared_with_an_orderpicker(f"Orderpicker, {word}.", f"{word} orderpicker")
        assert word not in shared, word


def _shared_with_an_orderpicker(cv: str, vacancy_text: str) -> list[str]:
    """The terms the explanation shows as shared between a CV and an orderpicker vacancy."""
    cand = make_side(occupations=[], skills=[], text=cv, location=None, focus=None)
    vac = make_side(
        occupations=["Orderpicker"], skills=[], text=vacancy_text, location=None, focus=None
    )
    scored = score_pair(
        vacancy_side=vac,
        cand_side=cand,
        cosine=0.5,
        query_is_vacancy=True,
        calibration=UNCALIBRATED,
    )
    return list(scored.shared_terms)
