"""Made-up test profiles (no real people): small builders for request bodies."""

from __future__ import annotations

from typing import Any

# Planted in profiles by the privacy tests; the whole suite fails if it reaches a log.
PII_MARKER = "QQ-PRIVACY-MARKER-7f3a9c"

FORKLIFT_CV = (
    "Ik heb zes jaar als heftruckchauffeur gewerkt in een distributiecentrum in Barendrecht. "
    "Laden en lossen van vrachtwagens, orderpicken met de scanner, reachtruck rijden in het "
    "hoogbouwmagazijn. Heftruckcertificaat en VCA behaald. Magazijnwerk doe ik graag."
)
CARE_CV = (
    "Tien jaar ervaring als verzorgende IG in de thuiszorg en in een verpleeghuis. "
    "Persoonlijke verzorging van ouderen, medicatie aanreiken, rapporteren in het zorgdossier. "
    "Diploma Verzorgende IG niveau 3, BHV."
)
CATERING_CV = (
    "Werkervaring in de horeca: zes jaar in de keuken van een restaurant als hulpkok en "
    "afwasser, ook in de bediening op een terras. HACCP-certificaat, SVH Sociale Hygiëne."
)
FORKLIFT_VACANCY = {
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": (
        "Voor ons distributiecentrum in Ridderkerk zoeken wij een heftruckchauffeur. Je laadt en "
        "lost vrachtwagens, verplaatst pallets met de heftruck en reachtruck en werkt met een "
        "handscanner. Een geldig heftruckcertificaat is vereist."
    ),
    "occupation": "heftruckchauffeur",
    "skills": ["heftruck rijden", "laden en lossen"],
    "hours_per_week": 32,
    "postcode": "2983 AB",
    "languages": ["nl"],
}


def candidate(cv_text: str = FORKLIFT_CV, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cv_text": cv_text,
        "desired_occupations": ["heftruckchauffeur"],
        "skills": ["heftruck rijden", "orderpicken"],
        "languages": ["nl"],
        "participation_ladder_step": 5,
        "client_group": "matchen",
        "benefit_type": "participatiewet",
        "work_chance_score": 0.62,
        "hours_per_week_min": 24,
        "hours_per_week_max": 36,
        "postcode": "3011AB",
        "max_travel_km": 30,
        "driving_licence": True,
        "education_level": "mbo2",
        "available_from": "2026-12-01",
        "caseworker_id": "cw-01",
        "active": True,
    }
    body.update(overrides)
    return body


def vacancy(**overrides: Any) -> dict[str, Any]:
    body = dict(FORKLIFT_VACANCY)
    body.update(overrides)
    return body


HEFTRUCK_FOCUS = {
    "name": "Heftruckchauffeur",
    "synonyms": ["vorkheftruckchauffeur", "vorkheftruckbestuurder", "heftruckbestuurder"],
}
