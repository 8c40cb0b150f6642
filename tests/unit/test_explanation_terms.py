"""Explanations list skills and terms the two sides share, never places or generic words."""

from __future__ import annotations

import pytest

from matching.profiles import make_side
from matching.ranking import UNCALIBRATED
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
