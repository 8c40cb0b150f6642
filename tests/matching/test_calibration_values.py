"""A calibration is a value held by whoever scores: two models' scores side by side in one
process do not leak into each other, and vectors of two models are never scored together."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from matching.facts import build_store
from matching.matcher import Matcher
from matching.profiles import CandidateFacts, VacancyFacts, make_side
from matching.ranking import UNCALIBRATED, Calibration, MatchFilters, calibration_for
from matching.rematch import SideColumns, rematch_full
from tests.oracle.ranking_oracle import rank, score_pair
from tests.oracle.rematch_oracle import SideArrays, match_batch

DIM = 16
E5 = "multilingual-e5-small-q4+query@0"  # has a fitted calibration in the weights file
PLAIN = "plain-model@0"  # has none: the top-level weights, no floor
JOBS = [
    ("Heftruckchauffeur", "heftruck magazijn orderpicken reachtruck"),
    ("Kok", "koken HACCP keuken restaurant"),
    ("Schoonmaker", "schoonmaken kantoor hygiëne"),
    ("Magazijnmedewerker", "magazijn orderpicken scanner heftruck"),
]


def _world(seed: int = 5) -> tuple[list[CandidateFacts], list[VacancyFacts], np.ndarray]:
    rng = np.random.default_rng(seed)
    cands, vacs = [], []
    for i in range(1, 41):
        name, words = JOBS[i % len(JOBS)]
        cands.append(
            CandidateFacts(
                id=i, external_id=f"c{i}",
                side=make_side(occupations=[name] if i % 3 else [], skills=[],
                               text=f"{words} ervaring {i}", location=None, focus=None),
                skills=(), languages=("nl",), ladder_step=3, client_group="matchen",
                active=True, hours_min=None, hours_max=None, max_travel_km=None,
                driving_licence=True,
            )
        )  # fmt: skip
    for i in range(1, 9):
        name, words = JOBS[i % len(JOBS)]
        vacs.append(
            VacancyFacts(
                id=i, employer_id="e", external_id=f"v{i}", title=name,
                side=make_side(occupations=[name], skills=[], text=f"{name} {words}",
                               location=None, focus=None),
                skills=(), languages=("nl",), hours=32, requires_driving_licence=False,
                kind="regular", status="open",
            )
        )  # fmt: skip
    # cosines spread around e5's floor (0.65), so its rescaling changes the order
    base = rng.standard_normal(DIM)
    vecs = base + 0.9 * rng.standard_normal((len(cands) + len(vacs), DIM))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return cands, vacs, vecs.astype(np.float32)


def _matcher(calibration: Calibration) -> tuple[Matcher, list[VacancyFacts], np.ndarray]:
    cands, vacs, vecs = _world()
    m = Matcher(DIM, calibration=calibration)
    m.candidates.upsert([(c, vecs[k]) for k, c in enumerate(cands)])
    m.vacancies.upsert([(v, vecs[len(cands) + k]) for k, v in enumerate(vacs)])
    return m, vacs, vecs[len(cands) :]


def _answers(m: Matcher, vacs: list[VacancyFacts], qvecs: np.ndarray) -> list[tuple]:
    out = []
    for v, q in zip(vacs, qvecs, strict=True):
        for hit in m.candidates_for(q, v.side, MatchFilters(), limit=10, vacancy=v):
            out.append((v.id, hit.facts.id, hit.scored.score, tuple(hit.scored.parts.items())))
    return out


def _reference(m: Matcher, vacs: list[VacancyFacts], qvecs: np.ndarray) -> list[tuple]:
    """The per-pair oracle under the matcher's calibration, on the same retrieval pool."""
    out = []
    for v, q in zip(vacs, qvecs, strict=True):
        hits = m.candidates.index.search(q, 100, None)
        scored = [
            (i, score_pair(vacancy_side=v.side, cand_side=m.candidates.facts[i].side, cosine=c,
                           query_is_vacancy=True, calibration=m.calibration))
            for i, c in hits
        ]  # fmt: skip
        for i, s in rank(scored, 10, None):
            out.append((v.id, i, s.score, tuple(s.parts.items())))
    return out


def test_two_matchers_with_their_own_calibrations_side_by_side() -> None:
    e5 = calibration_for(E5)
    assert e5.semantic_floor > 0 and e5 != UNCALIBRATED  # the test compares two real settings
    plain, vacs, qvecs = _matcher(UNCALIBRATED)
    calibrated, _, _ = _matcher(e5)
    plain_first = _answers(plain, vacs, qvecs)
    calibrated_answers = _answers(calibrated, vacs, qvecs)
    plain_again = _answers(plain, vacs, qvecs)  # after the other matcher scored: no leak
    assert plain_first == plain_again == _reference(plain, vacs, qvecs)
    assert calibrated_answers == _reference(calibrated, vacs, qvecs)
    assert plain_first != calibrated_answers  # the calibrations really differ
    # each answer's parts are weighted by its own matcher's weights
    for _, _, score, parts in calibrated_answers:
        assert sum(p for _, p in parts) == pytest.approx(score, abs=3e-4)
    assert calibrated.calibration == e5 and plain.calibration == UNCALIBRATED


def _sides(model_v: str, model_c: str) -> tuple[SideColumns, SideColumns]:
    cands, vacs, vecs = _world()
    c = SideColumns(
        np.array([f.id for f in cands]), vecs[: len(cands)], build_store("candidate", cands),
        model_c,
    )  # fmt: skip
    v = SideColumns(
        np.array([f.id for f in vacs]), vecs[len(cands) :], build_store("vacancy", vacs), model_v
    )
    return v, c


@pytest.mark.parametrize("model", [E5, PLAIN])
def test_rematch_uses_the_calibration_of_the_vectors_model(model: str) -> None:
    cands, vacs, _ = _world()
    v, c = _sides(model, model)
    assert v.calibration == calibration_for(model)
    got = sorted(rematch_full(v, c, top_k=5).rows())
    ov = SideArrays(v.ids, v.vectors, vacs, model)
    oc = SideArrays(c.ids, c.vectors, cands, model)
    want = sorted(match_batch(0, ov, oc, 5) + match_batch(1, oc, ov, 5))
    assert [(r.vacancy_id, r.candidate_id, r.direction, r.rank) for r in got] == [
        (r.vacancy_id, r.candidate_id, r.direction, r.rank) for r in want
    ]
    for g, w in zip(got, want, strict=True):
        assert g.score == pytest.approx(w.score, abs=1e-6)
        assert (g.semantic, g.lexical, g.occupation) == pytest.approx(
            (w.semantic, w.lexical, w.occupation), abs=1e-6
        )


def test_rematch_results_differ_between_calibrations() -> None:
    e5 = rematch_full(*_sides(E5, E5), top_k=5).rows()
    plain = rematch_full(*_sides(PLAIN, PLAIN), top_k=5).rows()
    assert [(r.score, r.semantic) for r in e5] != [(r.score, r.semantic) for r in plain]


def test_sides_of_two_models_are_refused() -> None:
    v, c = _sides(E5, PLAIN)
    with pytest.raises(ValueError, match="different models"):
        rematch_full(v, c, top_k=5)
    cands, vacs, _ = _world()
    ov = SideArrays(v.ids, v.vectors, vacs, E5)
    oc = SideArrays(c.ids, c.vectors, cands, PLAIN)
    with pytest.raises(ValueError, match="different models"):
        match_batch(0, ov, oc, 5)


def test_a_side_travels_with_its_model_and_calibration() -> None:
    v, _ = _sides(E5, E5)
    back = pickle.loads(pickle.dumps(v))
    assert back.model_id == E5 and back.calibration == calibration_for(E5)
    assert v.take(np.arange(3)).model_id == E5
