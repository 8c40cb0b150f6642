"""The synthetic data generator: made-up candidates and vacancies (no real people) for every
benchmark and the large tests, each drawn from fixed seeds so the same call gives the same data.

* Vectors: :class:`SyntheticSpace` draws unit vectors around random topic directions, chunk by
  chunk (national-scale collections); :func:`near_occupations` draws them around one centre per
  entry of :data:`OCCUPATIONS` (rows whose occupation and vector agree).
* Filter fields: :func:`candidate_fields` (columns shaped like a municipal caseload, at real
  PC4 centroids) and :func:`random_places` (query locations).
* Rows for the database (written through :mod:`service.store.bulk_rows`):
  :func:`insert_synthetic` (occupation templates, both sides), :func:`demo_candidate_rows`
  (the demo CVs repeated with synthetic vectors and fields), :func:`touch_candidate_texts`.
  Each stored vector carries the content hash of the row's real embedding text, so a rematch or
  a start treats it as up to date without running the model.
* In memory: :func:`synthetic_sides` (the rematch core's two sides, shaped like
  :func:`insert_synthetic`'s rows), :func:`demo_store` (a candidate fact store of the demo CVs
  repeated), :func:`demo_vacancy` (a demo vacancy as a query), :func:`synthetic_topk` (match
  lists for the store benchmark).

The database layer, the fact stores and the demo data are imported by the functions that use
them: the in-process scale benchmark imports this module and measures its own resident memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from matching.categories import CLIENT_GROUPS, LADDER_STEP_MAX, LADDER_STEP_MIN
from matching.embedder import content_hash
from matching.geo import default_locator
from matching.profiles import candidate_embed_text, vacancy_embed_text

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from matching.facts import FactStore, Kind
    from matching.focus import FocusMatcher
    from matching.profiles import CandidateFacts, VacancyFacts
    from matching.rematch import SideColumns
    from service.store.rematch_store import TopK

# ---------------------------------------------------------------- vocabulary

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
"""Occupations and their skills, the templates of :func:`insert_synthetic`'s rows."""
FILLER = (
    "Ik werk nauwkeurig en graag in een team. Ik ben flexibel inzetbaar en leer snel. "
    "Eerder werkte ik bij verschillende werkgevers in de regio."
)
INSERT_BATCH = 5000
SYNTHETIC_MODEL = "synthetic-vectors"
"""The model id of the synthetic sides: no fitted calibration, so the top-level weights."""
FOCUS_THRESHOLD = 0.85
"""The served app's focus-occupation threshold, with which the demo rows are matched."""

# ---------------------------------------------------------------- vectors

CHUNK = 100_000
TRAVEL_KM = np.array([5.0, 10.0, 15.0, 25.0, 40.0, np.nan])
LADDER = (LADDER_STEP_MIN, LADDER_STEP_MAX + 1)  # numpy draws below the upper bound
GROUP_WEIGHTS = np.array([0.35, 0.35, 0.2, 0.1])  # matchen, groeien, faciliteren, zorgen


@dataclass(frozen=True)
class SyntheticSpace:
    """Clustered unit vectors, float32 of shape ``(n, dim)``.

    Real sentence embeddings are not spread evenly over the sphere: they bunch around topics.
    These are drawn around ``centres`` random topic directions with Gaussian noise, which gives
    approximate indexes the same kind of structure to work with; uniformly random vectors have
    none, and no inverted-file index does well on them (``uniform=True`` shows that). They are
    generated in chunks from per-chunk seeds, so a million vectors can be produced twice (for
    the index and for the exact ground truth) without being held in memory at once.
    """

    dim: int = 384
    centres: int = 1000
    noise: float = 0.6
    seed: int = 20261126
    uniform: bool = False

    def _centres(self) -> np.ndarray:
        c = np.random.default_rng(self.seed).standard_normal((self.centres, self.dim))
        unit: np.ndarray = (c / np.linalg.norm(c, axis=1, keepdims=True)).astype(np.float32)
        return unit

    def sample(self, n: int, stream: int) -> np.ndarray:
        """``n`` unit vectors from random stream ``stream`` (same stream, same vectors)."""
        rng = np.random.default_rng([self.seed, stream])
        noise = rng.standard_normal((n, self.dim), dtype=np.float32)
        if self.uniform:
            x = noise
        else:
            x = self._centres()[rng.integers(0, self.centres, n)]
            x += self.noise / np.sqrt(self.dim) * noise
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def chunks(self, n: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids int64, vectors) for ids 1..n, ``CHUNK`` rows at a time."""
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            yield (
                np.arange(start + 1, start + count + 1, dtype=np.int64),
                self.sample(count, stream=start // CHUNK),
            )


def occupation_centres(rng: np.random.Generator, dim: int, *, unit: bool) -> np.ndarray:
    """One float32 direction of length ``dim`` per entry of :data:`OCCUPATIONS` (of length one
    when ``unit``)."""
    centres = rng.standard_normal((len(OCCUPATIONS), dim)).astype(np.float32)
    if unit:
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return centres


def near_occupations(rng: np.random.Generator, centres: np.ndarray, occ: np.ndarray) -> np.ndarray:
    """Little-endian float32 unit vectors, one per entry of ``occ`` (indexes into ``centres``),
    each near its occupation's centre."""
    vecs = centres[occ] + 0.9 * rng.standard_normal((len(occ), centres.shape[1])).astype(
        np.float32
    ) / np.sqrt(centres.shape[1])
    unit: np.ndarray = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype("<f4")
    return unit


# ---------------------------------------------------------------- filter fields


def candidate_fields(n: int, seed: int, focus_slugs: int = 23) -> dict[str, np.ndarray]:
    """Filter columns for candidates 1..n, shaped like a municipal caseload: ``active`` and
    ``licence`` bool, ``ladder`` and ``group`` (an index into ``CLIENT_GROUPS``) int8,
    ``max_travel_km``, ``lat`` and ``lon`` float64 (NaN when unknown), ``focus`` uint64 (one bit
    per focus occupation).

    Locations are real PC4 centroids (GeoNames, CC BY 4.0), so distance filters select the
    share of people a real radius around a real place would.
    """
    rng = np.random.default_rng([seed, 7])
    places = default_locator().places()
    coords = np.array([(p.lat, p.lon) for p in places])
    where = coords[rng.integers(0, len(coords), n)]
    located = rng.random(n) < 0.95
    lat = np.where(located, where[:, 0], np.nan)
    lon = np.where(located, where[:, 1], np.nan)
    bits = np.zeros(n, dtype=np.uint64)
    for _ in range(2):  # up to two focus occupations each, none for about a third
        has = rng.random(n) < 0.45
        bit = rng.integers(0, focus_slugs, n).astype(np.uint64)
        bits |= np.where(has, np.uint64(1) << bit, np.uint64(0))
    return {
        "active": rng.random(n) < 0.9,
        "ladder": rng.integers(*LADDER, n).astype(np.int8),
        "group": rng.choice(len(CLIENT_GROUPS), n, p=GROUP_WEIGHTS).astype(np.int8),
        "licence": rng.random(n) < 0.5,
        "max_travel_km": TRAVEL_KM[rng.integers(0, len(TRAVEL_KM), n)],
        "lat": lat,
        "lon": lon,
        "focus": bits,
    }


def random_places(n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` real PC4 centroids, for query locations."""
    places = default_locator().places()
    rng = np.random.default_rng([seed, 11])
    return [(places[i].lat, places[i].lon) for i in rng.integers(0, len(places), n)]


# ---------------------------------------------------------------- rows for the database


def embedding_row(
    owner: str, row_id: int, model_id: str, text: str, vector: np.ndarray, now: datetime
) -> dict[str, Any]:
    """The column values of one stored vector (``owner`` is ``candidate_id`` or
    ``vacancy_id``), with the content hash of its row's embedding ``text``."""
    return {
        owner: row_id,
        "model_id": model_id,
        "content_hash": content_hash(text, model_id),
        "dim": len(vector),
        "chunks": 1,
        "vector": np.asarray(vector, dtype="<f4").tobytes(),
        "created_at": now,
    }


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
    """Insert ``vacancies`` open-ish vacancies and ``candidates`` active-ish candidates: rows
    with realistic filter fields (coordinates in the Netherlands, travel limits, driving
    licences, occupations and skills of :data:`OCCUPATIONS`) and a stored unit vector near
    their occupation's centre. One transaction per :data:`INSERT_BATCH` rows."""
    from sqlmodel import Session

    from service.store.bulk_rows import ids_by_external_id, insert_rows, numbers_past_every_row
    from service.store.models import (
        Candidate,
        CandidateEmbedding,
        Vacancy,
        VacancyEmbedding,
        utcnow,
    )

    rng = np.random.default_rng(seed)
    centres = occupation_centres(rng, dim, unit=True)
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
                    "participation_ladder_step": int(
                        rng.integers(LADDER_STEP_MIN, LADDER_STEP_MAX + 1)
                    ),
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
        vecs = near_occupations(rng, centres, occ)
        with Session(engine) as session:
            insert_rows(session, Candidate, rows)
            ids = ids_by_external_id(session, Candidate, [r["external_id"] for r in rows])
            insert_rows(
                session,
                CandidateEmbedding,
                [
                    embedding_row(
                        "candidate_id",
                        ids[r["external_id"]],
                        model_id,
                        candidate_embed_text(r["cv_text"], r["desired_occupations"], r["skills"]),
                        vecs[i],
                        now,
                    )
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
        vecs = near_occupations(rng, centres, occ)
        with Session(engine) as session:
            insert_rows(session, Vacancy, vrows)
            vids = ids_by_external_id(session, Vacancy, [r["external_id"] for r in vrows])
            insert_rows(
                session,
                VacancyEmbedding,
                [
                    embedding_row(
                        "vacancy_id",
                        vids[r["external_id"]],
                        model_id,
                        vacancy_embed_text(
                            r["title"], r["occupation"], r["description"], r["skills"]
                        ),
                        vecs[i],
                        now,
                    )
                    for i, r in enumerate(vrows)
                ],
            )
            session.commit()
        if progress is not None:
            progress(n)


def demo_candidate_rows(
    space: SyntheticSpace, size: int, model_id: str, now: datetime
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """The column values of candidates 1..``size`` and of their stored vectors, one
    :data:`CHUNK` at a time: the demo CVs repeated, with ``space``'s vectors and
    :func:`candidate_fields`' filter fields (seeded by ``space.seed``)."""
    from service.tools.demo_data import demo_candidates

    templates = demo_candidates()
    fields = candidate_fields(size, space.seed)
    for ids, vecs in space.chunks(size):
        rows, embs = [], []
        for i, vec in zip(ids.tolist(), vecs, strict=True):
            t = templates[i % len(templates)]
            j = i - 1
            lat, lon = fields["lat"][j], fields["lon"][j]
            travel = fields["max_travel_km"][j]
            rows.append(
                {
                    "id": i,
                    "external_id": f"bench-{i}",
                    "cv_text": t["cv_text"],
                    "desired_occupations": t.get("desired_occupations", []),
                    "skills": t.get("skills", []),
                    "languages": t.get("languages", []),
                    "participation_ladder_step": int(fields["ladder"][j]),
                    "client_group": CLIENT_GROUPS[int(fields["group"][j])],
                    "lat": None if np.isnan(lat) else float(lat),
                    "lon": None if np.isnan(lon) else float(lon),
                    "max_travel_km": None if np.isnan(travel) else float(travel),
                    "driving_licence": bool(fields["licence"][j]),
                    "active": bool(fields["active"][j]),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            text = candidate_embed_text(
                t["cv_text"], t.get("desired_occupations", []), t.get("skills", [])
            )
            embs.append(embedding_row("candidate_id", i, model_id, text, vec, now))
        yield rows, embs


def touch_candidate_texts(engine: Engine, fraction: float, seed: int = 11) -> int:
    """Append a sentence to the CV of ``fraction`` of the candidates behind the model's back,
    so the next rematch must re-embed exactly those; returns how many."""
    from sqlmodel import Session

    from service.store.bulk_rows import all_ids, append_to_cv_texts
    from service.store.models import Candidate

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


# ---------------------------------------------------------------- in memory


RARE_WORDS = [f"vakterm{i}" for i in range(20000)]
"""A long tail of rare words for :func:`worded_candidates`' CV texts."""


def worded_candidates(n: int, seed: int) -> Iterator[CandidateFacts]:
    """Candidates 1..n as facts (no vectors): an occupation of :data:`OCCUPATIONS` with its
    skills, a CV text of 60 common words (occupations, skills, :data:`FILLER`) and 40 drawn
    from :data:`RARE_WORDS` by a Zipf law, a location in the Netherlands, and for about half
    an ESCO link."""
    from matching.focus import FocusMatcher
    from matching.profiles import CandidateFacts, EscoLink, make_side

    common = [w for name, skills in OCCUPATIONS for w in [name, *skills]] + FILLER.split()
    no_focus = FocusMatcher([])
    rng = np.random.default_rng(seed)

    def text() -> str:
        words = [common[i] for i in rng.integers(0, len(common), 60)]
        words += [RARE_WORDS[int(i) % len(RARE_WORDS)] for i in rng.zipf(1.3, 40)]
        return " ".join(words)

    for i in range(1, n + 1):
        name, skills = OCCUPATIONS[int(rng.integers(len(OCCUPATIONS)))]
        side = make_side(
            occupations=[name],
            skills=skills,
            text=text(),
            location=(float(rng.uniform(51.4, 53.2)), float(rng.uniform(4.0, 6.9))),
            focus=no_focus,
            esco=[EscoLink(f"esco:{name}", name, "9333", 0.9)] if rng.random() < 0.5 else [],
        )
        yield CandidateFacts(
            id=i, external_id=f"k{i}", side=side, skills=tuple(skills), languages=("nl",),
            ladder_step=int(rng.integers(*LADDER)), client_group="matchen", active=True,
            hours_min=16, hours_max=40, max_travel_km=25.0, driving_licence=bool(i % 2),
        )  # fmt: skip


def synthetic_sides(
    vacancies: int, candidates: int, dim: int = 384, seed: int = 7
) -> tuple[SideColumns, SideColumns]:
    """In-memory sides (vacancies, candidates; ids 1..n) shaped like :func:`insert_synthetic`'s
    rows: vectors near their occupation's centre, real filter facts (locations, travel limits,
    licences, status), one ranking side per occupation with the row's own location."""
    from matching.facts import build_store
    from matching.profiles import CandidateFacts, VacancyFacts, make_side
    from matching.rematch import SideColumns

    rng = np.random.default_rng(seed)
    centres = occupation_centres(rng, dim, unit=False)
    base = [
        make_side(occupations=[name], skills=skills, text=f"Ervaring als {name}",
                  location=None, focus=None)
        for name, skills in OCCUPATIONS
    ]  # fmt: skip

    def place(n: int) -> np.ndarray:
        return np.stack([rng.uniform(51.4, 53.2, n), rng.uniform(4.0, 6.9, n)], axis=1)

    def side(kind: Kind, facts: list[Any], occ: np.ndarray) -> SideColumns:
        ids = np.arange(1, len(facts) + 1, dtype=np.int64)
        vectors = near_occupations(rng, centres, occ)
        return SideColumns(ids, vectors, build_store(kind, facts), SYNTHETIC_MODEL)

    occ = rng.integers(0, len(OCCUPATIONS), vacancies)
    where = place(vacancies).tolist()
    needs, open_ = rng.random(vacancies) < 0.25, rng.random(vacancies) < 0.95
    vfacts = [
        VacancyFacts(
            id=i + 1, employer_id="e", external_id=f"v{i + 1}", title=OCCUPATIONS[o][0],
            side=dataclasses.replace(base[o], location=(where[i][0], where[i][1])),
            skills=tuple(OCCUPATIONS[o][1]), languages=("nl",), hours=32,
            requires_driving_licence=bool(needs[i]), kind="regular",
            status="open" if open_[i] else "closed",
        )
        for i, o in enumerate(occ.tolist())
    ]  # fmt: skip
    vacs = side("vacancy", vfacts, occ)
    occ = rng.integers(0, len(OCCUPATIONS), candidates)
    where = place(candidates).tolist()
    travel = rng.choice([np.nan, 10.0, 25.0, 50.0], candidates).tolist()
    active, licence = rng.random(candidates) < 0.95, rng.random(candidates) < 0.7
    cfacts = [
        CandidateFacts(
            id=i + 1, external_id=f"c{i + 1}",
            side=dataclasses.replace(base[o], location=(where[i][0], where[i][1])),
            skills=tuple(OCCUPATIONS[o][1][:2]), languages=("nl",), ladder_step=3,
            client_group="matchen", active=bool(active[i]), hours_min=None, hours_max=None,
            max_travel_km=None if np.isnan(travel[i]) else travel[i],
            driving_licence=bool(licence[i]),
        )
        for i, o in enumerate(occ.tolist())
    ]  # fmt: skip
    cands = side("candidate", cfacts, occ)
    return vacs, cands


def demo_focus() -> FocusMatcher:
    """The demo data's focus occupations, matched at the served app's threshold."""
    from matching.focus import FocusMatcher, FocusOccupation
    from service.tools.demo_data import focus_occupations

    return FocusMatcher(
        [FocusOccupation(f["slug"], f["name"], tuple(f["synonyms"])) for f in focus_occupations()],
        FOCUS_THRESHOLD,
    )


def demo_vacancy(
    template: dict[str, Any], i: int, location: tuple[float, float], focus: FocusMatcher
) -> VacancyFacts:
    """The facts of the demo vacancy ``template`` at ``location`` as query ``i`` (id ``i``,
    external id ``q{i}``, open)."""
    from matching.profiles import VacancyFacts, make_side

    t = template
    return VacancyFacts(
        id=i,
        employer_id=t["employer_id"],
        external_id=f"q{i}",
        title=t["title"],
        side=make_side(
            occupations=[t["title"], *([t["occupation"]] if t["occupation"] else [])],
            skills=t["skills"],
            text=t["description"],
            location=location,
            focus=focus,
        ),
        skills=tuple(t["skills"]),
        languages=tuple(t["languages"]),
        hours=t["hours_per_week"],
        requires_driving_licence=t["requires_driving_licence"],
        kind=t["kind"],
        status="open",
    )


def demo_store(size: int) -> FactStore[CandidateFacts]:
    """A candidate fact store of ``size`` rows (ids 1..size) made of the 300 demo candidates
    repeated, as the serving process would hold it: the demo rows' facts are built once and
    their array rows tiled (so it takes seconds, not the hour a rebuild of that many texts
    would). Only for measuring memory and snapshot load; its use counts are not exact."""
    from matching.facts import FactStore, Ragged, build_store
    from matching.profiles import CandidateFacts, make_side
    from service.tools.demo_data import demo_candidates

    focus = demo_focus()
    templates = demo_candidates()
    base = build_store(
        "candidate",
        [
            CandidateFacts(
                id=j,
                external_id=f"bench-{j}",
                side=make_side(
                    occupations=t["desired_occupations"],
                    skills=t["skills"],
                    text=t["cv_text"],
                    location=(52.0, 5.0),
                    focus=focus,
                ),
                skills=tuple(t["skills"]),
                languages=tuple(t["languages"]),
                ladder_step=3,
                client_group="matchen",
                active=True,
                hours_min=None,
                hours_max=None,
                max_travel_km=25.0,
                driving_licence=True,
            )
            for j, t in enumerate(templates)
        ],
    )
    a = base.to_arrays()
    n0 = len(templates)
    src = np.concatenate([[n0], np.arange(size) % n0])  # row 0: a row the base does not have
    ragged = {k[: -len(".length")] for k in a if k.endswith(".length")}
    out: dict[str, np.ndarray] = {}
    for k, v in a.items():
        if k.endswith(".values") and k[: -len(".values")] in ragged:
            continue
        per_row = k in ("present", "lat", "lon") or k.startswith("col.") or k.endswith(".length")
        per_row |= k.startswith("filters.") and k != "filters.slugs.text"
        out[k] = v[np.minimum(src, len(v) - 1)] if per_row else v
        if k.endswith(".refs"):
            out[k] = v * (size // n0 + 1)
    for k in ("present", *(k for k in out if k.startswith("filters.present"))):
        out[k][0] = False
    for name in ragged:
        if name == "list.external_id":
            ext = [f"bench-{i}".encode() for i in range(1, size + 1)]
            out[f"{name}.length"] = np.array([0, *map(len, ext)], dtype=np.int32)
            out[f"{name}.values"] = np.frombuffer(b"".join(ext), dtype=np.uint8).copy()
            continue
        r = Ragged.from_arrays(a, name)
        lengths = out[f"{name}.length"]
        lengths[0] = 0
        vals = np.zeros(int(lengths.astype(np.int64).sum()), dtype=np.int32)
        at = 0
        for lo in range(1, size + 1, 1 << 16):
            rows = src[lo : lo + (1 << 16)]
            _, v = r.gather(rows)
            vals[at : at + len(v)] = v
            at += len(v)
        out[f"{name}.values"] = vals
    return FactStore.from_arrays("candidate", out)


# ---------------------------------------------------------------- match lists


def synthetic_topk(
    rng: np.random.Generator, direction: int, queries: np.ndarray, targets: np.ndarray, k: int
) -> TopK:
    """Full lists of ``k`` distinct targets (a random window of ``targets``), scores falling."""
    n, m = len(queries), len(targets)
    k = min(k, m)
    from service.store.rematch_store import empty_topk

    out = empty_topk(direction, queries, k)
    start = rng.integers(0, m, n)
    out.target_ids[:] = targets[(start[:, None] + np.arange(k)) % m]
    out.scores[:] = -np.sort(-rng.random((n, k), dtype=np.float32), axis=1)
    out.parts[:] = np.round(rng.random((n, k, 3)), 4).astype(np.float32)
    return out
