"""Occupations read from CV text (``infer_occupations``) over the bundled ESCO NL taxonomy."""

from __future__ import annotations

import numpy as np
import pytest

from matching.cv_suggestions import InferredOccupation, infer_occupations
from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.occupations import OccupationConcept, OccupationNormalizer

FORKLIFT = (
    "Magazijnmedewerker met heftruckcertificaat en reachtruckervaring. Vijf jaar orderpicken "
    "in een distributiecentrum in Tilburg."
)


@pytest.fixture(scope="module")
def normalizer() -> OccupationNormalizer:
    return OccupationNormalizer(
        [
            OccupationConcept(
                uri=r.uri,
                preferred_label=r.preferred_label,
                labels=(r.preferred_label, *r.alt_labels, *r.hidden_labels),
                isco_code=r.isco_code,
            )
            for r in read_esco(BUNDLED_ESCO_NL)
        ]
    )


def _labels(found: list[InferredOccupation]) -> list[str]:
    return [o.preferred_label for o in found]


def _spans_hold(text: str, found: list[InferredOccupation]) -> None:
    for o in found:
        assert text[o.evidence.start : o.evidence.end] == o.evidence.snippet
        assert 0.0 < o.score <= 1.0


def test_the_forklift_cv_reads_as_warehouse_worker_and_forklift_driver(
    normalizer: OccupationNormalizer,
) -> None:
    found = infer_occupations(FORKLIFT, normalizer)
    _spans_hold(FORKLIFT, found)
    by_label = {o.preferred_label: o for o in found}
    assert "magazijnmedewerker" in by_label and "heftruckchauffeur" in by_label
    assert by_label["magazijnmedewerker"].evidence.snippet == "Magazijnmedewerker"
    assert by_label["magazijnmedewerker"].via == "title"
    forklift = by_label["heftruckchauffeur"]
    assert forklift.via == "cue" and forklift.evidence.snippet == "heftruckcertificaat"
    assert forklift.score >= 0.75
    assert found == sorted(found, key=lambda o: (-o.score, o.evidence.start))
    # what the profile states already is left out
    stated = infer_occupations(FORKLIFT, normalizer, exclude={forklift.uri})
    assert "heftruckchauffeur" not in _labels(stated)


@pytest.mark.parametrize(
    "text",
    [
        "Werkervaring als heftruckchauffeur bij een groothandel in Venlo.",
        "Ik werkte als Heftruckchauffeur, daarna als magazijnmedewerker.",
        "Werkzaam als chauffeur heftruck sinds 2019",
        "Functie: vorkheftruckchauffeur",
        "2019 - 2023 | Heftruckchauffeur | Transportbedrijf De Linde",
        "2019-2023 Heftruckchauffeur bij Logistiek Zuid",
        "In het bezit van een geldig heftruck-certificaat.",
        "Certificaat heftruck (2021), VCA basis",
        "HEFTRUCKCHAUFFEUR (M/V)",
    ],
)
def test_dutch_phrasings_of_a_forklift_driver(normalizer: OccupationNormalizer, text: str) -> None:
    found = infer_occupations(text, normalizer)
    _spans_hold(text, found)
    assert "heftruckchauffeur" in _labels(found), found


def test_diacritics_either_way(normalizer: OccupationNormalizer) -> None:
    plain = infer_occupations("Werkzaam als concierge op een basisschool.", normalizer)
    assert "conciërge" in _labels(plain)
    accented = "Werkervaring als coördinator machineassemblage"
    found = infer_occupations(accented, normalizer)
    _spans_hold(accented, found)
    assert "coördinator machineassemblage" in _labels(found)


@pytest.mark.parametrize(
    ("text", "label", "snippet"),
    [
        (
            "Werkzaam als schoonmaakster bij een kantoor in Zwolle",
            "schoonmaker gebouwen",
            "schoonmaakster",
        ),
        ("Ik was drie jaar werkzaam als kapster", "kapper", "kapster"),
        ("Werkervaring: 2015 - 2020 Kok, restaurant De Zon, Utrecht", "kok", "Kok"),
        ("Toen was ik heftruckchauffeur in Venlo.", "heftruckchauffeur", "heftruckchauffeur"),
        ("Vakkenvuller in een supermarkt", "winkelmedewerker", "Vakkenvuller"),
    ],
)
def test_feminine_forms_and_lead_in_words(
    normalizer: OccupationNormalizer, text: str, label: str, snippet: str
) -> None:
    found = {o.preferred_label: o for o in infer_occupations(text, normalizer)}
    assert found[label].evidence.snippet == snippet


def test_a_denied_certificate_is_no_evidence(normalizer: OccupationNormalizer) -> None:
    found = infer_occupations("Geen heftruckcertificaat, wel rijbewijs B.", normalizer)
    assert "heftruckchauffeur" not in _labels(found)


@pytest.mark.parametrize(
    "text",
    [
        "Woonplaats: Deventer",
        "Ik woon in Zwolle en kom uit Almere-Buiten.",
        "Adres: Kerkstraat 12, 7411 AB Deventer",
        "Betrouwbaar, flexibel en leergierig. Werk graag in een team.",
        "Medewerker",
        "Werkervaring\nOpleiding\nVaardigheden\nHobby's: voetbal, lezen, koken",
        "Beschikbaar voor 24 uur per week, per direct.",
        "Ik ben betrouwbaar, flexibel en leergierig.",
        "Ik ben 45 jaar en woon in Den Haag.",
        "Geboren in Groningen. Woonachtig te Amersfoort.",
        "Ik werk graag met mensen.",
        "Overleg met familie, wijkverpleegkundige en huisarts.",
        "Medewerker in de zorg",
    ],
)
def test_no_occupation_from_place_names_or_generic_words(
    normalizer: OccupationNormalizer, text: str
) -> None:
    assert infer_occupations(text, normalizer) == []


def test_limit_and_empty_text(normalizer: OccupationNormalizer) -> None:
    assert infer_occupations("", normalizer) == []
    assert len(infer_occupations(FORKLIFT, normalizer, limit=1)) == 1
    assert infer_occupations(FORKLIFT, normalizer, limit=0) == []


@pytest.mark.parametrize("min_score", [0.3, 0.75, 0.85])
def test_sparse_best_concepts_equal_the_dense_ranking(
    normalizer: OccupationNormalizer, min_score: float
) -> None:
    titles = [
        "Magazijnmedewerker",
        "medewerker magazijn",
        "chauffeur heftruck",
        "Medewerker",
        "een supermarkt",
        "zelfstandig werkend kok",
        "Deventer",
        "",
        "verzorgende IG",
        "medewerker bediening",
    ]
    dense = normalizer.concept_scores(titles)
    best = dense.argmax(axis=1)
    top = np.clip(dense[np.arange(len(titles)), best], 0.0, 1.0)
    index, score = normalizer.best_concepts(titles, min_score)
    reached = top >= min_score
    assert reached.any() and not reached.all()
    assert (index[reached] == best[reached]).all()
    assert np.allclose(score[reached], top[reached])
    assert (index[~reached] == -1).all() and (score[~reached] == 0.0).all()
