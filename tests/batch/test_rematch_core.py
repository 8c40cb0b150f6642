"""matching.rematch: the vectorised filters agree with the interactive filter functions, batches
give the interactive matcher's results, and resumed batch plans skip committed ranges."""

from __future__ import annotations

import numpy as np
import pytest

from matching.embedder import load_encoder
from matching.facts import build_store
from matching.matcher import Matcher
from matching.profiles import CandidateFacts, VacancyFacts, make_side
from matching.ranking import MatchFilters
from matching.rematch import FOR_CANDIDATE, FOR_VACANCY, SideColumns, rematch_full
from service.batch.rematch_runs import pending_chunks
from tests.oracle.ranking_oracle import candidate_passes, vacancy_passes
from tests.oracle.rematch_oracle import SideArrays, allowed_mask

JOBS = [("heftruckchauffeur", ["heftruck"]), ("kok", ["HACCP"]), ("schoonmaker", ["schoonmaken"])]


MODEL = "test-model@0"  # no fitted calibration: the top-level weights


def _world(seed: int = 3) -> tuple[SideArrays, SideArrays]:
    rng = np.random.default_rng(seed)
    cands, vacs = [], []
    for i in range(60):
        name, skills = JOBS[i % 3]
        loc = None if i % 7 == 0 else (51.5 + rng.random(), 4.0 + 2 * rng.random())
        side = make_side(occupations=[name], skills=skills, text=f"ervaring als {name}",
                         location=loc, focus=None)  # fmt: skip
        cands.append(
            CandidateFacts(
                id=i + 1,
                external_id=f"c{i}",
                side=side,
                skills=tuple(skills),
                languages=("nl",),
                ladder_step=3,
                client_group="matchen",
                active=True,
                hours_min=None,
                hours_max=None,
                max_travel_km=[None, 20.0, 60.0][i % 3],
                driving_licence=bool(i % 2),
            )
        )
    for i in range(25):
        name, skills = JOBS[i % 3]
        loc = None if i % 5 == 0 else (51.5 + rng.random(), 4.0 + 2 * rng.random())
        side = make_side(occupations=[name], skills=skills, text=f"wij zoeken een {name}",
                         location=loc, focus=None)  # fmt: skip
        vacs.append(
            VacancyFacts(
                id=100 + i,
                employer_id="e",
                external_id=f"v{i}",
                title=name,
                side=side,
                skills=tuple(skills),
                languages=("nl",),
                hours=32,
                requires_driving_licence=i % 3 == 0,
                kind="regular",
                status="open",
            )
        )

    def arrays(facts: list) -> SideArrays:
        v = rng.standard_normal((len(facts), 16)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return SideArrays(np.array([f.id for f in facts], dtype=np.int64), v, facts, MODEL)

    return arrays(cands), arrays(vacs)


def test_mask_equals_the_interactive_filters_both_ways() -> None:
    cands, vacs = _world()
    f = MatchFilters()
    mask = allowed_mask(FOR_VACANCY, vacs, cands)
    want = np.array([[candidate_passes(v.side, v, c, f) for c in cands.facts] for v in vacs.facts])
    assert (mask == want).all() and 0 < want.sum() < want.size
    mask = allowed_mask(FOR_CANDIDATE, cands, vacs)
    want = np.array([[vacancy_passes(c.side, c, v, f) for v in vacs.facts] for c in cands.facts])
    assert (mask == want).all() and 0 < want.sum() < want.size


def test_batch_gives_the_interactive_matchers_ranking() -> None:
    cands, vacs = _world()
    m = Matcher(16)
    m.candidates.upsert(list(zip(cands.facts, cands.vectors, strict=True)))
    m.vacancies.upsert(list(zip(vacs.facts, vacs.vectors, strict=True)))

    def cols(a: SideArrays, kind: str) -> SideColumns:
        return SideColumns(a.ids, a.vectors, build_store(kind, a.facts), a.model_id)  # type: ignore[arg-type]

    v_cols, c_cols = cols(vacs, "vacancy"), cols(cands, "candidate")
    rows = rematch_full(v_cols, c_cols, top_k=4).for_vacancy.rows(FOR_VACANCY, v_cols.ids)
    for qi, v in enumerate(vacs.facts):
        live = m.candidates_for(vacs.vectors[qi], v.side, MatchFilters(), 4, vacancy=v)
        got = sorted((r.rank, r.candidate_id, r.score) for r in rows if r.vacancy_id == v.id)
        assert [c for _, c, _ in got] == [x.facts.id for x in live]
        assert [s for _, _, s in got] == pytest.approx([x.scored.score for x in live], abs=2e-4)
    rows = rematch_full(v_cols, c_cols, top_k=3).for_candidate.rows(FOR_CANDIDATE, c_cols.ids)
    for qi, c in enumerate(cands.facts):
        vlive = m.vacancies_for(cands.vectors[qi], c.side, MatchFilters(), 3, candidate=c)
        got = sorted((r.rank, r.vacancy_id) for r in rows if r.candidate_id == c.id)
        assert [v for _, v in got] == [x.facts.id for x in vlive]


def test_resume_skips_committed_ranges_and_bounds_batch_size() -> None:
    ids = np.arange(10, 30, dtype=np.int64)
    assert pending_chunks(ids, [], 5) == [(0, 5), (5, 10), (10, 15), (15, 20)]
    resumed = pending_chunks(ids, [(10, 14), (20, 24)], 100)
    assert resumed == [(5, 10), (15, 20)]
    assert pending_chunks(ids, [(0, 99)], 5) == []
    # a committed range whose queries are gone since splits the rest: storing a range deletes
    # its whole id span first, and must not delete that committed batch
    gaps = np.array([1, 2, 8, 9], dtype=np.int64)
    assert pending_chunks(gaps, [(4, 6)], 100) == [(0, 2), (2, 4)]
    assert pending_chunks(np.zeros(0, dtype=np.int64), [(1, 2)], 3) == []


def test_dask_workers_load_the_drivers_encoder_configuration(model, tmp_path) -> None:
    """Workers get the driver's whole encoder configuration (backend included), so the
    vectors they return carry the model id the driver stores them under."""
    from matching.rematch import _embed_on_worker
    from service.config import Settings

    args = Settings(data_dir=tmp_path).encoder_args()
    texts = ["Heftruckchauffeur met ervaring in laden en lossen.", "Verzorgende IG in de wijk."]
    got = _embed_on_worker(args, texts)
    assert load_encoder(*args).model_id == model.model_id
    assert np.allclose(got.vectors, model.embed(texts).vectors, atol=1e-6)
