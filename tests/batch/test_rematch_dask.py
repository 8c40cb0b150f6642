"""A rematch spread over a real Dask cluster (two worker processes) stores exactly the matches
of the in-process run, and its workers embed changed texts exactly like the local model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import LocalCluster
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from matching.embedder import Encoder
from matching.profiles import candidate_embed_text
from service.cli import app
from service.config import get_settings
from service.store.db import make_engine
from service.store.models import Candidate, CandidateEmbedding
from service.tools.synthetic import insert_synthetic, touch_candidate_texts
from tests.rematch_rows import stored_matches

runner = CliRunner()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def _rows(db_url: str, run_id: int) -> list[tuple[object, ...]]:
    engine = make_engine(db_url)
    try:
        return stored_matches(engine, run_id)
    finally:
        engine.dispose()


def test_dask_run_equals_in_process_run(
    cluster: LocalCluster,
    db_url: str,
    tmp_path: Path,
    encoder: Encoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WERKMATCH_REMATCH_BATCH_MAX_QUERIES", "32")
    get_settings.cache_clear()
    engine = make_engine(db_url)
    insert_synthetic(engine, model_id=encoder.model_id, dim=encoder.dim, vacancies=120,
                     candidates=600)  # fmt: skip
    changed = touch_candidate_texts(engine, 0.02)
    try:
        remote = runner.invoke(
            app, ["rematch", "--top-k", "10", "--scheduler", cluster.scheduler_address, "--json"]
        )
        assert remote.exit_code == 0, remote.output
        dist = json.loads(remote.stdout.strip().splitlines()[-1])
        assert dist["counts"]["texts_embedded"] == changed == 12
        local = runner.invoke(app, ["rematch", "--top-k", "10", "--json"])
        assert local.exit_code == 0, local.output
        here = json.loads(local.stdout.strip().splitlines()[-1])
    finally:
        get_settings.cache_clear()
    assert here["counts"]["texts_embedded"] == 0  # the cluster already stored the new vectors
    a, b = _rows(db_url, dist["run_id"]), _rows(db_url, here["run_id"])
    assert len(a) > 1000
    assert a == b
    assert (here["counts"]["new"], here["counts"]["disappeared"]) == (0, 0)

    # the workers' vectors for the changed texts are the local model's
    with Session(engine) as s:
        rows = s.execute(
            select(Candidate, CandidateEmbedding.vector)
            .join(CandidateEmbedding, CandidateEmbedding.candidate_id == Candidate.id)
            .where(Candidate.cv_text.contains("cursus klantvriendelijkheid"))  # type: ignore[attr-defined]
        ).all()
    engine.dispose()
    assert len(rows) == changed
    texts = [candidate_embed_text(c.cv_text, c.desired_occupations, c.skills) for c, _ in rows]
    stored = np.stack([np.frombuffer(v, dtype="<f4") for _, v in rows])
    np.testing.assert_allclose(stored, encoder.embed(texts).vectors, atol=1e-5)


def test_dask_tiles_and_rerank_parts_equal_in_process(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block core on two worker processes (tiles and re-rank parts as tasks, both sides
    scattered once) gives the in-process arrays, full and incremental."""
    from distributed import Client

    import matching.rematch as rematch
    from service.tools.bench import _change_candidates
    from service.tools.synthetic import synthetic_sides

    monkeypatch.setattr(rematch, "TILE_ROWS", 128)
    monkeypatch.setattr(rematch, "TILE_COLS", 1024)
    monkeypatch.setattr(rematch, "RANK_PART", 256)
    vacs, cands = synthetic_sides(300, 2500, dim=32)
    local = rematch.rematch_full(vacs, cands, 10)
    with Client(cluster) as client:
        dask = rematch.DaskExecutor(client)
        remote = rematch.rematch_full(vacs, cands, 10, dask)
        assert dask.scattered == 2  # each side once, for the tiles and the re-rank parts
        ids = _change_candidates(cands, 0.02)
        inc_remote = rematch.rematch_incremental(vacs, cands, 10, remote.state, [], ids,
                                                 executor=dask)  # fmt: skip
    inc_local = rematch.rematch_incremental(vacs, cands, 10, local.state, [], ids)
    assert len(local.rows()) > 2000
    for a, b in ((local, remote), (inc_local, inc_remote)):
        for x, y in ((a.for_vacancy, b.for_vacancy), (a.for_candidate, b.for_candidate)):
            np.testing.assert_array_equal(x.ids, y.ids)
            np.testing.assert_array_equal(x.scores, y.scores)
            np.testing.assert_array_equal(x.parts, y.parts)
