"""Embedding through the API: stored vectors, no double embedding, re-embedding on model change."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlmodel import Session, select

from matching.embedder import Embedded, Encoder
from service.config import Settings
from service.store.db import make_engine
from service.store.models import Candidate, CandidateEmbedding
from tests.auth import api_client
from tests.factories import CARE_CV, FORKLIFT_CV, candidate


class CountingEncoder:
    """Wraps the real encoder, counting the texts it embeds; may pose as another model."""

    def __init__(self, inner: Encoder, model_id: str | None = None) -> None:
        self.inner = inner
        self.model_id = model_id or inner.model_id
        self.dim = inner.dim
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Embedded:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def _embeddings(url: str) -> list[CandidateEmbedding]:
    engine = make_engine(url)
    with Session(engine) as s:
        rows = list(s.exec(select(CandidateEmbedding)).all())
    engine.dispose()
    return rows


def test_unchanged_text_is_not_embedded_twice(settings: Settings, encoder: Encoder) -> None:
    counting = CountingEncoder(encoder)
    with api_client(settings, counting) as client:
        client.put("/v1/candidates/a", json=candidate())
        assert len(counting.texts) == 1
        client.put("/v1/candidates/a", json=candidate())  # same body
        client.put("/v1/candidates/a", json=candidate(participation_ladder_step=6))  # same text
        client.put("/v1/candidates/b", json=candidate())  # same text, other candidate
        assert len(counting.texts) == 1
        client.put("/v1/candidates/a", json=candidate(CARE_CV))
        assert len(counting.texts) == 2
    rows = _embeddings(settings.resolved_database_url())
    assert len(rows) == 2 and all(r.model_id == encoder.model_id for r in rows)
    assert all(len(r.vector) == 4 * encoder.dim for r in rows)


def test_long_cv_is_chunked_and_every_chunk_counts(settings: Settings, encoder: Encoder) -> None:
    filler = " ".join(
        f"In jaar {i} volgde ik een cursus over klantcontact en administratie." for i in range(40)
    )
    long_cv = filler + " " + FORKLIFT_CV
    with api_client(settings, encoder) as client:
        assert client.put("/v1/candidates/long", json=candidate(long_cv)).status_code == 201
    [row] = _embeddings(settings.resolved_database_url())
    assert row.chunks >= 2
    stored = np.frombuffer(row.vector, dtype="<f4")
    assert abs(float(np.linalg.norm(stored)) - 1.0) < 1e-4
    head_only = encoder.embed([filler]).vectors[0]
    # The forklift tail beyond the first window moved the vector: it was not truncated away.
    assert float(stored @ head_only) < 0.99


def test_changing_the_model_re_embeds_at_start(settings: Settings, encoder: Encoder) -> None:
    with api_client(settings, encoder) as client:
        client.put("/v1/candidates/a", json=candidate())
        client.put("/v1/candidates/b", json=candidate(CARE_CV))
    other = CountingEncoder(encoder, model_id="another-model@000000000000")
    with api_client(settings, other) as client:
        assert len(other.texts) == 2
        ready = client.get("/readyz").json()
        assert ready["candidates_indexed"] == 2
        assert client.get("/v1/candidates/a/matches").status_code == 200
    rows = _embeddings(settings.resolved_database_url())
    assert {r.model_id for r in rows} == {"another-model@000000000000"}


def test_index_is_rebuilt_from_stored_vectors_without_the_model(
    settings: Settings, encoder: Encoder
) -> None:
    with api_client(settings, encoder) as client:
        client.put("/v1/candidates/a", json=candidate())
        client.put(
            "/v1/employers/e/vacancies/v",
            json={"title": "Heftruckchauffeur", "description": "Heftruck rijden."},
        )
        before = client.get("/v1/employers/e/vacancies/v/matches").json()
    counting = CountingEncoder(encoder)
    with api_client(settings, counting) as client:
        after = client.get("/v1/employers/e/vacancies/v/matches").json()
    assert counting.texts == []
    assert after == before


def test_writes_by_another_process_are_picked_up(settings: Settings, encoder: Encoder) -> None:
    """A second app on the same database stands in for another worker or the import command."""
    with (
        api_client(settings, encoder) as a,
        api_client(settings, encoder) as b,
    ):
        a.put(
            "/v1/employers/e/vacancies/v",
            json={"title": "Heftruckchauffeur", "description": "Heftruck rijden."},
        )
        b.put("/v1/candidates/c", json=candidate())
        assert [
            i["candidate_id"] for i in a.get("/v1/employers/e/vacancies/v/matches").json()["data"]
        ] == ["c"]
        b.delete("/v1/candidates/c")
        assert a.get("/v1/employers/e/vacancies/v/matches").json()["count"] == 0
    rows = _embeddings(settings.resolved_database_url())
    assert rows == []
    engine = make_engine(settings.resolved_database_url())
    with Session(engine) as s:
        assert s.exec(select(Candidate)).all() == []
    engine.dispose()
