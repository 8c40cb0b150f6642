"""The columnar ranker equals the per-pair reference scorer, and the fact store gives rows back.

The reference is the oracle's ``score_pair`` with ``rank`` and the per-row filters
``candidate_passes`` / ``vacancy_passes`` (tests/oracle/ranking_oracle.py). Rows are
random (seeded) but shaped like real ones: Dutch job titles with gender markers, feminine forms,
typos and compounds, skills, CV and vacancy words including generic ones, ESCO links that share
URIs or only ISCO groups, and focus occupations found by title and by ESCO link.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import pytest

import matching.rerank as rerank
from matching.categories import CLIENT_GROUPS, VACANCY_KINDS
from matching.facts import FactStore, build_store
from matching.focus import FocusMatcher, FocusOccupation, similarity_matrix, title_similarity
from matching.focus import prepared_title as prep
from matching.matcher import Matcher, pool_size
from matching.profiles import CandidateFacts, EscoLink, Side, VacancyFacts, make_side
from matching.ranking import UNCALIBRATED, MatchFilters
from matching.rerank import round4, score_pool, score_pools, top
from tests.oracle.ranking_oracle import (
    candidate_passes,
    rank,
    score_only,
    score_pair,
    vacancy_passes,
)

TOL = 1e-6
DIM = 12
TITLES = [
    "Heftruckchauffeur (m/v)", "heftruck chauffeur", "chauffeur heftruck", "Chauffeur C",
    "vrachtwagenchauffeur", "Magazijnmedewerker 32 uur", "magazijnmedewerkster", "orderpicker",
    "medewerker magazijn", "Schoonmaakster", "schoonmaker", "schoonmaakmedewerker",
    "Kok", "hulpkok", "zelfstandig werkend kok", "kok in opleiding", "Verzorgende IG",
    "verzorgende", "verpleegster", "Verpleegkundige", "medewerker", "allround medewerker",
    "Kassamedewerkster", "verkoopster", "Verkoper", "Monteur", "elektromonteur",
    "installatiemonteur", "beveiliger", "beveiligingsmedewerker", "fulltime", "Lasser",
    "magazijnmedewerkr", "heftruckchauffeur voor ons distributiecentrum",
]  # fmt: skip
SKILLS = [
    "heftruck rijden", "orderpicken", "HACCP", "persoonlijke verzorging", "rijbewijs C",
    "schoonmaken", "kassa", "lassen", "scanner", "klantvriendelijk", "VCA", "koken",
]  # fmt: skip
WORDS = [
    "magazijn", "heftruck", "orderpicken", "laden", "lossen", "scanner", "restaurant", "keuken",
    "koken", "haccp", "thuiszorg", "zorg", "verzorging", "cliënten", "schoonmaak", "kantoren",
    "hotel", "kassa", "winkel", "klanten", "rijbewijs", "vca", "lassen", "installatie", "elektra",
    "storingen", "beveiliging", "evenementen", "medewerker", "hulp", "assistent", "allround",
    "ervaring", "werken", "team", "chauffeurs", "heftruckchauffeurs", "vrachtwagen", "distributie",
    "ploegendienst", "weekend", "avond", "nacht", "zelfstandig", "collega's", "nauwkeurig",
]  # fmt: skip
ESCO = [  # (uri, label, isco)
    ("esco:forklift", "heftruckchauffeur", "8344"),
    ("esco:truck", "vrachtwagenchauffeur", "8332"),
    ("esco:warehouse", "magazijnmedewerker", "9333"),
    ("esco:picker", "orderpicker", "9333"),
    ("esco:cook", "kok", "5120"),
    ("esco:cleaner", "schoonmaker", "9112"),
    ("esco:carer", "verzorgende", None),
    ("esco:nurse", "verpleegkundige", "2221"),
]
FOCUS = [
    FocusOccupation("heftruckchauffeur", "Heftruckchauffeur", ("reachtruckchauffeur",)),
    FocusOccupation("magazijn", "Magazijnmedewerker", ("orderpicker",), ("esco:warehouse",)),
    FocusOccupation("kok", "Kok", ("zelfstandig werkend kok",), ("esco:cook",)),
    FocusOccupation("zorg", "Verzorgende IG", ("verzorgende",), ("esco:carer", "esco:nurse")),
]
FOCUS_MATCHER = FocusMatcher(FOCUS, threshold=0.85)


def _links(r: random.Random) -> list[EscoLink]:
    return [
        EscoLink(uri=u, label=label, isco_code=isco, score=r.choice((1.0, 0.9, 0.75, r.random())))
        for u, label, isco in r.sample(ESCO, r.choice((0, 0, 1, 1, 2)))
    ]


def _side(r: random.Random, titles: list[str], skills: list[str]) -> Side:
    located = r.random() < 0.85
    return make_side(
        occupations=titles,
        skills=skills,
        text=" ".join(r.choices(WORDS, k=r.randint(0, 25))),
        location=(r.uniform(51.0, 53.4), r.uniform(3.6, 7.1)) if located else None,
        focus=FOCUS_MATCHER,
        esco=_links(r),
    )


def _candidate(r: random.Random, id_: int) -> CandidateFacts:
    skills = r.sample(SKILLS, r.randint(0, 3))
    lo = r.choice((None, 8, 16, 24))
    return CandidateFacts(
        id=id_,
        external_id=f"k{id_}",
        side=_side(r, r.sample(TITLES, r.randint(0, 3)), skills),
        skills=tuple(skills),
        languages=tuple(r.sample(("nl", "en", "de", "ar"), r.randint(0, 2))),
        ladder_step=r.choice((None, 1, 2, 3, 4, 5, 6)),
        client_group=r.choice((None, *CLIENT_GROUPS)),
        active=r.random() < 0.9,
        hours_min=lo,
        hours_max=r.choice((None, 32, 40)) if lo is not None else None,
        max_travel_km=r.choice((None, 5.0, 15.0, 40.0, r.uniform(1, 120))),
        driving_licence=r.random() < 0.5,
        caseworker_id=r.choice((None, "cw-1", "cw-2")),
    )


def _vacancy(r: random.Random, id_: int) -> VacancyFacts:
    title = r.choice(TITLES)
    occupation = r.choice((None, r.choice(TITLES)))
    skills = r.sample(SKILLS, r.randint(0, 3))
    return VacancyFacts(
        id=id_,
        employer_id=r.choice(("werkgever-a", "werkgever-b")),
        external_id=f"v{id_}",
        title=title,
        side=_side(r, [t for t in (title, occupation) if t], skills),
        skills=tuple(skills),
        languages=tuple(r.sample(("nl", "en"), r.randint(0, 2))),
        hours=r.choice((None, 16, 32, 40)),
        requires_driving_licence=r.random() < 0.3,
        kind=r.choice(VACANCY_KINDS),
        status=r.choice(("open", "open", "open", "closed")),
        occupation=occupation,
        closes_on=r.choice((None, __import__("datetime").date(2027, 1, 15))),
    )


def _free_text(r: random.Random) -> Side:
    return _side(r, r.sample(TITLES, r.randint(0, 2)), r.sample(SKILLS, r.randint(0, 2)))


def _filters(r: random.Random, only: list[int]) -> MatchFilters:
    return MatchFilters(
        focus_only=r.random() < 0.2,
        ladder_step_min=r.choice((None, None, 2, 4)),
        client_groups=tuple(r.sample(CLIENT_GROUPS, r.choice((0, 0, 1, 2)))),
        max_distance_km=r.choice((None, None, 25.0, 80.0)),
        min_score=r.choice((None, None, 0.2, 0.35)),
        kinds=tuple(r.sample(VACANCY_KINDS, r.choice((0, 0, 1, 2)))),
        include_closed=r.random() < 0.3,
        only_candidates=frozenset(r.sample(only, len(only) // 3)) if r.random() < 0.2 else None,
    )


def _same(got: Any, want: Any) -> None:
    assert abs(got.score - want.score) <= TOL
    for k, v in want.signals.items():
        assert abs(got.signals[k] - v) <= TOL, k
    for k, v in want.parts.items():
        assert abs(got.parts[k] - v) <= TOL, k


@pytest.fixture(scope="module")
def world() -> tuple[list[CandidateFacts], list[VacancyFacts]]:
    r = random.Random(20261203)
    return (
        [_candidate(r, i) for i in range(1, 1501)],
        [_vacancy(r, i) for i in range(3, 1503)],
    )


def test_batch_title_similarity_equals_the_pairwise_one() -> None:
    titles = [*TITLES, "", "   ", "m/v", "kok/kok", "e-commerce medewerker"]
    got = similarity_matrix([prep(t) for t in titles], [prep(t) for t in titles])
    want = np.array([[title_similarity(a, b) for b in titles] for a in titles])
    assert np.array_equal(got, want)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pool_scores_equal_the_reference_in_both_directions(
    world: tuple[list[CandidateFacts], list[VacancyFacts]], seed: int
) -> None:
    cands, vacs = world
    r = random.Random(seed)
    stores: dict[str, FactStore[Any]] = {
        "candidate": build_store("candidate", cands),
        "vacancy": build_store("vacancy", vacs),
    }
    compared = 0
    for q in range(40):
        to_candidates = q % 2 == 0
        results: list[Any] = cands if to_candidates else vacs
        query_facts: Any = r.choice(vacs if to_candidates else cands) if q % 5 else None
        query = query_facts.side if query_facts is not None else _free_text(r)
        chosen = r.sample(results, 150)
        rows = np.array([f.id for f in chosen], dtype=np.int64)
        cos = np.array([r.uniform(-0.3, 1.1) for _ in chosen])
        pool = score_pool(
            stores["candidate" if to_candidates else "vacancy"], query, rows, cos, UNCALIBRATED
        )
        reference = []
        for i, f in enumerate(chosen):
            if to_candidates:
                want = score_only(vacancy_side=query, cand_side=f.side, cosine=float(cos[i]),
                                  query_is_vacancy=True, calibration=UNCALIBRATED)  # fmt: skip
            else:
                want = score_only(vacancy_side=f.side, cand_side=query, cosine=float(cos[i]),
                                  query_is_vacancy=False, calibration=UNCALIBRATED)  # fmt: skip
            assert abs(pool.score[i] - want.score) <= TOL
            for k, name in enumerate(("semantic", "lexical", "occupation")):
                assert abs(pool.signals[i, k] - want.signals[name]) <= TOL, name
            reference.append((f.id, want))
            compared += 1
        for limit, min_score in ((20, None), (10, 0.3), (150, None)):
            got = [int(rows[i]) for i in top(pool, limit, min_score)]
            assert got == [i for i, _ in rank(reference, limit, min_score)]
    assert compared == 40 * 150


def test_kept_title_similarities_give_the_same_pool_scores(
    world: tuple[list[CandidateFacts], list[VacancyFacts]],
) -> None:
    """Pools scored with title similarities kept between them (filled, read back, and
    started again past their bound) give exactly the scores of pools scored afresh; only a
    candidate store keeps them (a query against vacancies is a candidate's)."""
    cands, vacs = world
    r = random.Random(21)
    store = build_store("candidate", cands)
    for limit in (10**6, 40):  # the second starts again empty many times
        rerank.kept_titles(store).limit = limit
        for q in range(60):
            query = r.choice(vacs[:8]).side if q % 3 else _free_text(r)  # repeats: read back
            rows = np.array([f.id for f in r.sample(cands, 120)], dtype=np.int64)
            cos = np.array([r.uniform(-0.3, 1.1) for _ in rows])
            kept = score_pool(store, query, rows, cos, UNCALIBRATED)
            owner = np.zeros(len(rows), dtype=np.int64)
            signals, score = score_pools(store, [query], owner, rows, cos, UNCALIBRATED)
            assert np.array_equal(kept.signals, signals)
            assert np.array_equal(kept.score, score)
        assert 0 < len(rerank.kept_titles(store)) <= limit
    vacancy_store = build_store("vacancy", vacs)
    rows = np.array([f.id for f in vacs[:50]], dtype=np.int64)
    score_pool(vacancy_store, cands[0].side, rows, np.zeros(len(rows)), UNCALIBRATED)
    assert len(rerank.kept_titles(vacancy_store)) == 0


@pytest.mark.parametrize(("seed", "cells"), [(6, 1 << 16), (7, 1 << 16), (8, 1)])
def test_many_pools_at_once_score_every_pair_as_its_pool_alone(
    world: tuple[list[CandidateFacts], list[VacancyFacts]],
    seed: int,
    cells: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """score_pools (the rematch's re-rank) gives bit for bit score_pool's signals and scores,
    whatever the other pools in the call (and however its title matrices are chunked): stored
    matches equal what the endpoints rank."""
    monkeypatch.setattr(rerank, "TITLE_CELLS_MIN", cells)
    cands, vacs = world
    r = random.Random(seed)
    for to_candidates in (True, False):
        results: list[Any] = cands if to_candidates else vacs
        store = build_store("candidate" if to_candidates else "vacancy", results)
        queries = [
            (r.choice(vacs if to_candidates else cands).side if q % 4 else _free_text(r))
            for q in range(60)
        ]
        pools = [
            np.array([f.id for f in r.sample(results, r.choice((0, 1, 40, 150)))], dtype=np.int64)
            for _ in queries
        ]
        cos = [np.array([r.uniform(-0.3, 1.1) for _ in p]) for p in pools]
        owner = np.repeat(np.arange(len(queries)), [len(p) for p in pools])
        signals, score = score_pools(
            store, queries, owner, np.concatenate(pools), np.concatenate(cos), UNCALIBRATED
        )
        at = 0
        for query, rows, c in zip(queries, pools, cos, strict=True):
            alone = score_pool(store, query, rows, c, UNCALIBRATED)
            assert np.array_equal(signals[at : at + len(rows)], alone.signals)
            assert np.array_equal(score[at : at + len(rows)], alone.score)
            at += len(rows)


def test_round4_is_python_round() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([
        rng.uniform(-2, 2, 200_000),
        (np.arange(-20_000, 20_000) + 0.5) / 1e4,  # halves, as near as floats get
        np.nextafter((np.arange(0, 20_000) + 0.5) / 1e4, 1.0),
        np.array([0.0, -0.0, 1.0, 0.00005, 0.00015, 0.12345, 2.5e-5]),
    ])  # fmt: skip
    assert round4(x).tolist() == [round(v, 4) for v in x.tolist()]


@pytest.mark.parametrize("seed", [4, 5])
def test_matcher_equals_the_reference_pipeline(
    world: tuple[list[CandidateFacts], list[VacancyFacts]], seed: int
) -> None:
    """Filters, retrieval and re-ranking: the matcher's answer is the reference's, field by field.

    The reference filters every row with the per-row functions, asks the same FAISS index for
    the nearest of those rows and ranks them with ``score_pair``.
    """
    cands, vacs = world
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    vec = {("c", f.id): v for f, v in zip(cands, _unit(rng, len(cands)), strict=True)}
    vec |= {("v", f.id): v for f, v in zip(vacs, _unit(rng, len(vacs)), strict=True)}
    m = Matcher(DIM)
    m.candidates.upsert([(f, vec[("c", f.id)]) for f in cands])
    m.vacancies.upsert([(f, vec[("v", f.id)]) for f in vacs])
    answers = 0
    for q in range(30):
        filters = _filters(r, [c.id for c in cands])
        limit = r.choice((5, 20, 40))
        if q % 2 == 0:
            vac = r.choice(vacs) if q % 3 else None
            side = vac.side if vac is not None else _free_text(r)
            qvec = vec[("v", vac.id)] if vac is not None else _unit(rng, 1)[0]
            got = m.candidates_for(qvec, side, filters, limit, vacancy=vac)
            allowed = [c.id for c in cands if candidate_passes(side, vac, c, filters)]
            hits = m.candidates.index.search(qvec, pool_size(limit), np.array(allowed, np.int64))
            by_id = {c.id: c for c in cands}
            ref = [
                (i, score_pair(vacancy_side=side, cand_side=by_id[i].side, cosine=cos,
                               query_is_vacancy=True, calibration=m.calibration, vacancy=vac,
                               cand=by_id[i]))
                for i, cos in hits
            ]  # fmt: skip
        else:
            cand = r.choice(cands) if q % 3 else None
            side = cand.side if cand is not None else _free_text(r)
            qvec = vec[("c", cand.id)] if cand is not None else _unit(rng, 1)[0]
            got = m.vacancies_for(qvec, side, filters, limit, candidate=cand)  # type: ignore[assignment]
            allowed = [v.id for v in vacs if vacancy_passes(side, cand, v, filters)]
            hits = m.vacancies.index.search(qvec, pool_size(limit), np.array(allowed, np.int64))
            by_vid = {v.id: v for v in vacs}
            ref = [
                (i, score_pair(vacancy_side=by_vid[i].side, cand_side=side, cosine=cos,
                               query_is_vacancy=False, calibration=m.calibration,
                               vacancy=by_vid[i], cand=cand))
                for i, cos in hits
            ]  # fmt: skip
        want = rank(ref, limit, filters.min_score)
        assert [g.facts.id for g in got] == [i for i, _ in want]
        for g, (_, w) in zip(got, want, strict=True):
            _same(g.scored, w)
            assert g.scored.explanation == w.explanation
            assert (g.scored.focus, g.scored.distance_km) == (w.focus, w.distance_km)
            assert g.scored.shared_terms == w.shared_terms
        answers += bool(got)
    assert answers >= 15  # the random filters leave most queries something to rank


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_store_gives_every_row_back_after_updates_and_removals(
    world: tuple[list[CandidateFacts], list[VacancyFacts]],
) -> None:
    cands, vacs = world
    r = random.Random(9)
    for kind, rows in (("candidate", cands), ("vacancy", vacs)):
        store: FactStore[Any] = FactStore(kind, capacity=4)  # type: ignore[arg-type]
        current: dict[int, Any] = {}
        for start in range(0, len(rows), 300):  # grows in steps
            store.upsert(rows[start : start + 300])
            current |= {f.id: f for f in rows[start : start + 300]}
        for _ in range(4):  # rewrites leave garbage behind until the buffers compact
            changed = [dataclasses.replace(f, side=_free_text(r)) for f in r.sample(rows, 400)]
            store.upsert(changed)
            current |= {f.id: f for f in changed}
            gone = r.sample(sorted(current), 100)
            store.remove([*gone, 10**6])
            for i in gone:
                del current[i]
        assert len(store) == len(current)
        assert list(store.facts()) == sorted(current)
        assert all(store.get(i) == f for i, f in current.items())
        some = r.sample(sorted(current), 50)
        # equal values of the same types (repr tells a numpy scalar from a Python number)
        assert repr(store.get_many(np.array(some))) == repr([store.get(i) for i in some])
        assert store.get_many([]) == []
        with pytest.raises(KeyError):
            store.get_many([some[0], gone[0]])
        assert store.get(gone[0]) is None and gone[0] not in store.facts()
        kept = next(iter(current))
        assert np.int64(kept) in store and store.get(np.int64(kept)) == current[kept]  # type: ignore[arg-type]
        assert "1" not in store and True not in store and -1 not in store
        assert store.terms.used - store.terms.live <= max(store.terms.live, 16) * 2


def test_a_collection_keeps_the_spans_of_stored_rows_only(
    world: tuple[list[CandidateFacts], list[VacancyFacts]],
) -> None:
    """Spans found for a row are kept while it is stored; a replaced or removed row's are
    dropped with it, and a row not (or no longer) stored never gets an entry."""
    cands, _ = world
    matcher = Matcher(DIM)
    coll = matcher.candidates
    rows = cands[:3]
    coll.upsert([(c, v) for c, v in zip(rows, _unit(np.random.default_rng(3), 3), strict=True)])
    text = "Heftruckchauffeur met rijbewijs, lossen en laden."
    want = [("heftruck", 0, 8), ("laden", 43, 48)]
    for c in rows:
        assert coll.term_spans(c.id, text, {"heftruck", "laden"}, 50) == want
    assert len(coll._spans) == 3
    coll.remove([rows[0].id])
    coll.upsert([(rows[1], _unit(np.random.default_rng(4), 1)[0])])
    assert len(coll._spans) == 1
    assert coll.term_spans(10**6, text, {"laden"}, 50) == [("laden", 43, 48)]
    assert coll.term_spans(rows[0].id, text, {"laden"}, 50) == [("laden", 43, 48)]
    assert len(coll._spans) == 1
    coll.clear()
    assert len(coll._spans) == 0
