"""Ranking ignores the surroundings of a CV: benefit type, participation-ladder step, client
group and caseworker are filters only, and a postcode counts only through the distance.

Swapping those values between candidates (postcodes among places at the same distance from
the vacancy) leaves every score, part and explanation unchanged, in the scoring function, the
interactive matcher (filter columns, FAISS, re-ranking) and the batch rematch. The same
comparison catches a scorer that leaks the ladder step, so the test can fail.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import matching.matcher as matcher_module
from matching.facts import build_store
from matching.geo import EARTH_RADIUS_KM, haversine_km
from matching.matcher import Matcher
from matching.profiles import CandidateFacts, VacancyFacts, make_side
from matching.ranking import UNCALIBRATED, Calibration, MatchFilters, Scored
from matching.rematch import SideColumns, rematch_full
from matching.rerank import PoolScores, score_pool
from tests.oracle.ranking_oracle import score_pair

MODEL = "test-model@0"  # no fitted calibration: the top-level weights
TOL = 1e-6
VACANCY_AT = (51.8738, 4.6033)  # Ridderkerk
DIM = 16
CVS = [
    ("heftruckchauffeur", ["heftruck rijden", "orderpicken"], "Zes jaar heftruck in een magazijn."),
    ("magazijnmedewerker", ["orderpicken"], "Orderpicken en laden en lossen met de scanner."),
    ("verzorgende IG", ["persoonlijke verzorging"], "Tien jaar in de thuiszorg gewerkt."),
    ("kok", ["HACCP"], "Hulpkok in een restaurant, HACCP-certificaat."),
    ("chauffeur", ["rijbewijs C"], "Bezorger en chauffeur in de regio Rotterdam."),
]
# The values that must not count, one tuple per candidate: ladder step, client group, caseworker
# and a bearing (degrees) around the vacancy. Benefit type is not even among the facts.
SURROUNDINGS = [
    (1, "zorgen", "cw-01", 0.0),
    (6, "matchen", "cw-02", 72.0),
    (None, None, None, 144.0),
    (3, "groeien", "cw-03", 216.0),
    (4, "faciliteren", "cw-04", 288.0),
]


def at_distance(origin: tuple[float, float], km: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``km`` away from ``origin`` in direction ``bearing_deg`` (great circle)."""
    lat1, lon1 = math.radians(origin[0]), math.radians(origin[1])
    delta, theta = km / EARTH_RADIUS_KM, math.radians(bearing_deg)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta)
    )
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1),
        math.cos(delta) - math.sin(lat1) * math.sin(lat2),
    )
    return math.degrees(lat2), math.degrees(lon2)


def _vacancy() -> VacancyFacts:
    side = make_side(
        occupations=["Heftruckchauffeur", "heftruckchauffeur"],
        skills=["heftruck rijden", "laden en lossen"],
        text="Distributiecentrum zoekt een heftruckchauffeur voor laden en lossen.",
        location=VACANCY_AT,
        focus=None,
    )
    return VacancyFacts(
        id=1, employer_id="e", external_id="v", title="Heftruckchauffeur", side=side,
        skills=("heftruck rijden",), languages=("nl",), hours=32,
        requires_driving_licence=False, kind="regular", status="open",
    )  # fmt: skip


def _candidates(surroundings: list[tuple[Any, ...]]) -> list[CandidateFacts]:
    out = []
    for i, ((occ, skills, text), (ladder, group, caseworker, bearing)) in enumerate(
        zip(CVS, surroundings, strict=True)
    ):
        side = make_side(
            occupations=[occ],
            skills=skills,
            text=text,
            location=at_distance(VACANCY_AT, 12.0, bearing),
            focus=None,
        )
        out.append(
            CandidateFacts(
                id=i + 1, external_id=f"k{i}", side=side, skills=tuple(skills),
                languages=("nl",), ladder_step=ladder, client_group=group, active=True,
                hours_min=24, hours_max=36, max_travel_km=None, driving_licence=True,
                caseworker_id=caseworker,
            )
        )  # fmt: skip
    return out


def _vectors() -> np.ndarray:
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(len(CVS) + 1, DIM)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


ROTATED = SURROUNDINGS[1:] + SURROUNDINGS[:1]


def _table(scored: dict[Any, Scored]) -> dict[Any, tuple[float, dict, dict, list[str]]]:
    return {k: (s.score, s.parts, s.signals, s.explanation) for k, s in scored.items()}


def differences(a: dict[Any, tuple], b: dict[Any, tuple]) -> list[str]:
    """Where two score tables differ (keys, scores and parts beyond TOL, explanations)."""
    if set(a) != set(b):
        return [f"different results: {sorted(set(a) ^ set(b), key=str)}"]
    out = []
    for key in a:
        (sa, pa, ga, ea), (sb, pb, gb, eb) = a[key], b[key]
        if abs(sa - sb) > TOL or any(abs(pa[k] - pb[k]) > TOL for k in pa):
            out.append(f"{key}: score {sa} vs {sb}")
        if any(abs(ga[k] - gb[k]) > TOL for k in ga) or ea != eb:
            out.append(f"{key}: signals or explanation differ")
    return out


def test_the_places_are_at_equal_distance() -> None:
    places = [at_distance(VACANCY_AT, 12.0, b) for *_, b in SURROUNDINGS]
    distances = [haversine_km(*VACANCY_AT, *p) for p in places]
    assert max(distances) - min(distances) < 1e-6 and len(set(places)) == len(places)


def _pairs(
    surroundings: list[tuple[Any, ...]], score: Callable[..., Scored] = score_pair
) -> dict[Any, tuple]:
    vac, vecs = _vacancy(), _vectors()
    scored = {}
    for c in _candidates(surroundings):
        cos = float(vecs[0] @ vecs[c.id])
        for query_is_vacancy in (True, False):
            scored[(c.external_id, query_is_vacancy)] = score(
                vacancy_side=vac.side, cand_side=c.side, cosine=cos,
                query_is_vacancy=query_is_vacancy, calibration=UNCALIBRATED, vacancy=vac,
                cand=c,
            )  # fmt: skip
    return _table(scored)


def _leaky(**kw: Any) -> Scored:
    """score_pair with a ladder-step bonus: what the invariance test must catch."""
    s = score_pair(**kw)
    step = kw["cand"].ladder_step if kw.get("cand") is not None else None
    return dataclasses.replace(s, score=s.score + 0.01 * (step or 0))


def test_scoring_function_ignores_the_surroundings() -> None:
    assert differences(_pairs(SURROUNDINGS), _pairs(ROTATED)) == []
    assert differences(_pairs(SURROUNDINGS, _leaky), _pairs(ROTATED, _leaky))  # can fail


def _leaky_pool(
    store: Any, query: Any, rows: np.ndarray, cosines: np.ndarray, calibration: Calibration
) -> PoolScores:
    """The columnar pool scorer with the same ladder-step bonus (candidate rows only)."""
    pool = score_pool(store, query, rows, cosines, calibration)
    if store.kind != "candidate":
        return pool
    step = store.cols["ladder_step"][rows]
    bonus = 0.01 * np.where(step > 0, step, 0)
    return dataclasses.replace(pool, score=pool.score + bonus)


def _matcher(surroundings: list[tuple[Any, ...]]) -> tuple[Matcher, VacancyFacts, np.ndarray]:
    vac, vecs = _vacancy(), _vectors()
    m = Matcher(DIM)
    m.vacancies.upsert([(vac, vecs[0])])
    m.candidates.upsert([(c, vecs[c.id]) for c in _candidates(surroundings)])
    return m, vac, vecs


def _interactive(surroundings: list[tuple[Any, ...]]) -> dict[Any, tuple]:
    m, vac, vecs = _matcher(surroundings)
    out = {}
    for hit in m.candidates_for(vecs[0], vac.side, MatchFilters(), limit=10, vacancy=vac):
        out[("for vacancy", hit.facts.external_id)] = hit.scored
    for c in m.candidates.facts.values():
        for hit in m.vacancies_for(vecs[c.id], c.side, MatchFilters(), limit=10, candidate=c):
            # the candidate's own place is the query: only its distance line may change
            plain = [line for line in hit.scored.explanation if not line.startswith("Afstand")]
            out[("for candidate", c.external_id)] = dataclasses.replace(
                hit.scored, explanation=plain
            )
    return _table(out)


def test_interactive_matcher_ignores_the_surroundings(monkeypatch: pytest.MonkeyPatch) -> None:
    m1, vac, _ = _matcher(SURROUNDINGS)
    m2, _, _ = _matcher(ROTATED)
    no_filters = MatchFilters()
    assert np.array_equal(
        m1.candidates.columns.candidate_mask(vac.side, vac, no_filters),
        m2.candidates.columns.candidate_mask(vac.side, vac, no_filters),
    )
    assert differences(_interactive(SURROUNDINGS), _interactive(ROTATED)) == []
    monkeypatch.setattr(matcher_module, "score_pool", _leaky_pool)
    assert differences(_interactive(SURROUNDINGS), _interactive(ROTATED))  # can fail


def _batch(surroundings: list[tuple[Any, ...]]) -> dict[Any, tuple]:
    vac, vecs = _vacancy(), _vectors()
    cands = _candidates(surroundings)
    c_side = SideColumns(
        np.array([c.id for c in cands]), vecs[1:], build_store("candidate", cands), MODEL
    )
    v_side = SideColumns(np.array([1]), vecs[:1], build_store("vacancy", [vac]), MODEL)
    rows = rematch_full(v_side, c_side, top_k=10).rows()
    return {
        (r.direction, r.candidate_id): (r.score, {"s": r.semantic, "l": r.lexical}, {}, [r.rank])
        for r in rows
    }


def test_batch_rematch_ignores_the_surroundings() -> None:
    first, second = _batch(SURROUNDINGS), _batch(ROTATED)
    assert len(first) == 2 * len(CVS)
    assert differences(first, second) == []
