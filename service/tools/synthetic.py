"""Synthetic candidates and vacancies for benchmarks and large tests (made up, no real people).

Rows get realistic filter fields (coordinates in the Netherlands, travel limits, driving
licences, occupations and skills) and a stored unit vector near their occupation's centre, with
the content hash of their real embedding text, so a rematch treats them as up to date without
running the model. :func:`touch_candidate_texts` changes some CV texts behind the model's back,
so the next rematch must re-embed exactly those.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from matching.embedder import content_hash
from matching.profiles import candidate_embed_text, vacancy_embed_text
from service.store.bulk_rows import (
    all_ids,
    append_to_cv_texts,
    ids_by_external_id,
    insert_rows,
    numbers_past_every_row,
)
from service.store.models import Candidate, CandidateEmbedding, Vacancy, VacancyEmbedding, utcnow

OCCUPATIONS = [
    ("heftruckchauffeur", ["heftruck rijden", "orderpicken", "laden en lossen"]),
    ("verzorgende IG", ["persoonlijke verzorging", "medicatie", "rapporteren"]),
    ("hulpkok", ["HACCP", "koken", "afwassen"]),
    ("schoonmaker", ["schoonmaken", "interieurverzorging"]),
    ("magazijnmedewerker", ["orderpicken", "inpakken", "voorraadbeheer"]),
    ("kassamedewerker", ["kassa", "klantcontact"]),
    ("buschauffeur", ["rijbewijs D", "dienstregeling"]),
    ("metselaar", ["metselen", "bouwtekening lezen"]),
    ("klantenservicemedewerker", ["klantcontact", "telefoon", "CRM"]),
    ("productiemedewerker", ["machine bedienen", "kwaliteitscontrole"]),
    ("hovenier", ["snoeien", "bestrating"]),
    ("pedagogisch medewerker", ["kinderopvang", "VVE"]),
]
FILLER = (
    "Ik werk nauwkeurig en graag in een team. Ik ben flexibel inzetbaar en leer snel. "
    "Eerder werkte ik bij verschillende werkgevers in de regio."
)
INSERT_BATCH = 5000


def _unit(rng: np.random.Generator, centres: np.ndarray, occ: np.ndarray) -> np.ndarray:
    vecs = centres[occ] + 0.9 * rng.standard_normal((len(occ), centres.shape[1])).astype(
        np.float32
    ) / np.sqrt(centres.shape[1])
    unit: np.ndarray = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype("<f4")
    return unit


def insert_synthetic(
    engine: Engine,
    *,
    model_id: str,
    dim: int,
    vacancies: int,
    candidates: int,
    seed: int = 7,
    progress: Any = None,
) -> None:
    """Insert ``vacancies`` open-ish vacancies and ``candidates`` active-ish candidates."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(OCCUPATIONS), dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    now = utcnow()
    with Session(engine) as session:
        # numbers past every row's, also after erasures (a row's number is below its id)
        first_c, first_v = numbers_past_every_row(session)
    for start in range(0, candidates, INSERT_BATCH):
        n = min(INSERT_BATCH, candidates - start)
        occ = rng.integers(0, len(OCCUPATIONS), n)
        lat = rng.uniform(51.4, 53.2, n)
        lon = rng.uniform(4.0, 6.9, n)
        travel = rng.choice([np.nan, 10.0, 25.0, 50.0], n)
        licence = rng.random(n) < 0.7
        active = rng.random(n) < 0.95
        rows: list[dict[str, Any]] = []  # column values of one insert batch
        for i in range(n):
            name, skills = OCCUPATIONS[occ[i]]
            k = first_c + start + i
            rows.append(
                {
                    "external_id": f"syn-c{k}",
                    "cv_text": f"Ervaring als {name}: {', '.join(skills)}. {FILLER} Nummer {k}.",
                    "desired_occupations": [name],
                    "skills": list(skills[:2]),
                    "languages": ["nl"],
                    "participation_ladder_step": int(rng.integers(1, 7)),
                    "client_group": "matchen",
                    "driving_licence": bool(licence[i]),
                    "max_travel_km": None if np.isnan(travel[i]) else float(travel[i]),
                    "lat": float(lat[i]),
                    "lon": float(lon[i]),
                    "caseworker_id": f"cw-{k % 500}",
                    "active": bool(active[i]),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        vecs = _unit(rng, centres, occ)
        with Session(engine) as session:
            insert_rows(session, Candidate, rows)
            ids = ids_by_external_id(session, Candidate, [r["external_id"] for r in rows])
            insert_rows(
                session,
                CandidateEmbedding,
                [
                    {
                        "candidate_id": ids[r["external_id"]],
                        "model_id": model_id,
                        "content_hash": content_hash(
                            candidate_embed_text(
                                r["cv_text"], r["desired_occupations"], r["skills"]
                            ),
                            model_id,
                        ),
                        "dim": dim,
                        "chunks": 1,
                        "vector": vecs[i].tobytes(),
                        "created_at": now,
                    }
                    for i, r in enumerate(rows)
                ],
            )
            session.commit()
        if progress is not None:
            progress(n)
    for start in range(0, vacancies, INSERT_BATCH):
        n = min(INSERT_BATCH, vacancies - start)
        occ = rng.integers(0, len(OCCUPATIONS), n)
        lat = rng.uniform(51.4, 53.2, n)
        lon = rng.uniform(4.0, 6.9, n)
        needs = rng.random(n) < 0.25
        status = np.where(rng.random(n) < 0.95, "open", "closed")
        vrows: list[dict[str, Any]] = []
        for i in range(n):
            name, skills = OCCUPATIONS[occ[i]]
            k = first_v + start + i
            vrows.append(
                {
                    "employer_id": f"syn-e{k % 1000}",
                    "external_id": f"syn-v{k}",
                    "title": f"{name} (m/v)",
                    "description": f"Wij zoeken een {name}. Taken: {', '.join(skills)}. "
                    f"Vacature {k}.",
                    "occupation": name,
                    "skills": list(skills),
                    "hours_per_week": int(rng.choice([24, 32, 36, 40])),
                    "lat": float(lat[i]),
                    "lon": float(lon[i]),
                    "requires_driving_licence": bool(needs[i]),
                    "languages": ["nl"],
                    "kind": "regular",
                    "status": str(status[i]),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        vecs = _unit(rng, centres, occ)
        with Session(engine) as session:
            insert_rows(session, Vacancy, vrows)
            vids = ids_by_external_id(session, Vacancy, [r["external_id"] for r in vrows])
            insert_rows(
                session,
                VacancyEmbedding,
                [
                    {
                        "vacancy_id": vids[r["external_id"]],
                        "model_id": model_id,
                        "content_hash": content_hash(
                            vacancy_embed_text(
                                r["title"], r["occupation"], r["description"], r["skills"]
                            ),
                            model_id,
                        ),
                        "dim": dim,
                        "chunks": 1,
                        "vector": vecs[i].tobytes(),
                        "created_at": now,
                    }
                    for i, r in enumerate(vrows)
                ],
            )
            session.commit()
        if progress is not None:
            progress(n)


def touch_candidate_texts(engine: Engine, fraction: float, seed: int = 11) -> int:
    """Append a sentence to the CV of ``fraction`` of the candidates; returns how many."""
    with Session(engine) as session:
        ids = np.array(all_ids(session, Candidate), dtype=np.int64)
        n = round(len(ids) * fraction)
        chosen: np.ndarray | list[int] = (
            np.random.default_rng(seed).choice(ids, n, replace=False) if n else []
        )
        for start in range(0, n, 1000):
            part = [int(i) for i in chosen[start : start + 1000]]
            append_to_cv_texts(session, part, " Recent een cursus klantvriendelijkheid.")
        session.commit()
    return int(n)
