"""The occupation normaliser fused with the encoder, on both backends: string answers until the
ESCO label vectors are ready, fused after; the vectors cached on disk per model id; the fused
normaliser reading occupations from a CV."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.embedder import Embedded, Encoder
from matching.esco import read_esco
from matching.occupation_adapter import shipped_adapter
from matching.occupations import FusedNormalizer, fusion_labels
from service.api.app import create_app
from service.config import Settings
from service.store.db import make_engine
from service.store.occupations import (
    LABEL_THREAD,
    VECTOR_CACHE,
    OccupationIndex,
    import_occupations,
)
from tests.api.test_inferred_occupations import FORKLIFT_CV, HEFTRUCK, MAGAZIJN, VAC_URL
from tests.api.test_occupations import BAD_BODIES
from tests.auth import bearer
from tests.factories import CATERING_CV, FORKLIFT_VACANCY, candidate

SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
URL = "/v1/occupations/normalize"
WAIT = 120.0


class GatedEncoder:
    """The real encoder; calls from the label thread wait for ``gate`` and are counted.

    ``model_id`` may be changed to stand for another model (same vectors, another cache key).
    """

    def __init__(self, inner: Encoder, model_id: str | None = None) -> None:
        self.inner = inner
        self.model_id = model_id or inner.model_id
        self.dim = inner.dim
        self.gate = threading.Event()
        self.gate.set()
        self.label_texts: list[str] = []
        self.request_texts = 0

    def embed(self, texts: Sequence[str]) -> Embedded:
        if threading.current_thread().name == LABEL_THREAD:
            assert self.gate.wait(WAIT), "the test never opened the gate"
            self.label_texts.extend(texts)
        else:
            self.request_texts += len(texts)
        return self.inner.embed(texts)


def _import(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            import_occupations(session, read_esco(SUBSET))
    finally:
        engine.dispose()


def _distinct_labels() -> list[str]:
    records = read_esco(SUBSET)
    labels = [(r.preferred_label, *r.alt_labels, *r.hidden_labels) for r in records]
    return list(dict.fromkeys(t for group in labels for t in group))


@pytest.fixture
def fused_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"occupation_fusion": True})


def _app(settings: Settings, encoder: Encoder, token: str) -> TestClient:
    return TestClient(create_app(settings, encoder), headers=bearer(token))


def _index(client: TestClient) -> OccupationIndex:
    return client.app.state.werkmatch.occupations  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def gated(encoder: Encoder) -> Iterator[GatedEncoder]:
    enc = GatedEncoder(encoder)
    yield enc
    enc.gate.set()  # never leave a label thread waiting


def test_normalize_answers_string_until_the_labels_are_embedded_then_fused(
    fused_settings: Settings, db_url: str, gated: GatedEncoder, admin_token: str
) -> None:
    _import(db_url)
    gated.gate.clear()
    with _app(fused_settings, gated, admin_token) as client:
        index = _index(client)
        assert not index.wait_fused(0.2)  # the label thread waits at the gate
        body = {"title": "Heftruckchauffeur (m/v) 32 uur", "limit": 3}
        string = client.post(URL, json=body)
        assert string.status_code == 200, string.text
        first = string.json()
        assert first["method"] == "string"
        assert gated.request_texts == 0  # the string answer embeds nothing

        gated.gate.set()
        assert index.wait_fused(WAIT)
        fused = client.post(URL, json=body)
        assert fused.status_code == 200, fused.text
        second = fused.json()
        assert second["method"] == "fused"
        assert gated.request_texts == 1  # the title, once
        # one schema for both methods
        assert set(first) == set(second)
        assert [set(h) for h in first["data"]] == [set(h) for h in second["data"]]
        assert first["normalized"] == second["normalized"] == "heftruckchauffeur"
        assert second["count"] == len(second["data"]) == 3
        top = second["data"][0]
        assert (top["uri"], top["matched_label"]) == (HEFTRUCK, "heftruckchauffeur")
        assert top["isco_code"] == "8344" and top["isco_label"]
        scores = [h["score"] for h in second["data"]]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
        # what the app answers is the fused ranking of the matching layer
        with Session(client.app.state.werkmatch.engine) as session:  # type: ignore[attr-defined]
            state_normalizer = index.get(session)
        assert isinstance(state_normalizer, FusedNormalizer)
        expected = state_normalizer.normalize(body["title"], 3)
        assert [h["uri"] for h in second["data"]] == [h.uri for h in expected]
        assert scores == [h.score for h in expected]


@pytest.mark.parametrize("adapter_on", [False, True], ids=["raw", "adapter"])
def test_fused_and_string_answers_differ_where_only_the_model_knows(
    fused_settings: Settings, db_url: str, encoder: Encoder, admin_token: str, adapter_on: bool
) -> None:
    """The fused scores are the fusion's: equal to ``fuse_scores`` of the two signals (with the
    shipped adapter applied by hand to both vectors when the setting is on)."""
    adapter = shipped_adapter(encoder.model_id)
    # the suite's encoder is the default model, which ships an adapter: never a silent skip
    assert adapter is not None or not adapter_on, f"no adapter shipped for {encoder.model_id}"
    fused_settings = fused_settings.model_copy(update={"occupation_adapter": adapter_on})
    _import(db_url)
    with _app(fused_settings, encoder, admin_token) as client:
        assert _index(client).wait_fused(WAIT)
        engine = client.app.state.werkmatch.engine  # type: ignore[attr-defined]
        with Session(engine) as session:
            fused = _index(client).get(session)
        assert isinstance(fused, FusedNormalizer)
        title = "Vorkheftruckbestuurder"
        data = client.post(URL, json={"title": title, "limit": 50}).json()["data"]
        strings = fused.normalizer.concept_scores([title])[0]
        labels, owner = fusion_labels(fused.concepts)
        vectors = encoder.embed(labels).vectors
        query = encoder.embed([fused.query_text(title)]).vectors
        if adapter_on:
            assert adapter is not None and fused.adapter is not None
            assert fused.adapter.adapter_id == adapter.adapter_id
            u, v = adapter.weights.astype(np.float64)
            matrix = np.eye(encoder.dim) + u @ v.T
            vectors, query = (
                (x @ matrix) / np.linalg.norm(x @ matrix, axis=1, keepdims=True)
                for x in (vectors, query)
            )
        else:
            assert fused.adapter is None
        cosine = query[0] @ vectors.T
        nearest = np.full(len(fused.concepts), -np.inf)
        np.maximum.at(nearest, owner, cosine)
        f = fused.fusion
        expected = (1 - f.dense) * strings + f.dense * np.clip(
            (nearest - f.dense_floor) / (1 - f.dense_floor), 0, 1
        )
        index = {c.uri: i for i, c in enumerate(fused.concepts)}
        for hit in data:
            assert hit["score"] == pytest.approx(expected[index[hit["uri"]]], abs=1e-3)


def test_bad_input_names_the_field_with_the_fusion_ready(
    fused_settings: Settings, db_url: str, encoder: Encoder, admin_token: str
) -> None:
    _import(db_url)
    with _app(fused_settings, encoder, admin_token) as client:
        assert _index(client).wait_fused(WAIT)
        for body, field in BAD_BODIES:
            response = client.post(URL, json=body)
            assert response.status_code == 422, (body, response.text)
            assert field in [d["field"] for d in response.json()["detail"]], body


def test_label_vectors_are_cached_per_model_id(
    fused_settings: Settings, db_url: str, encoder: Encoder, admin_token: str
) -> None:
    _import(db_url)
    labels = _distinct_labels()
    first = GatedEncoder(encoder)
    with _app(fused_settings, first, admin_token) as client:
        assert _index(client).wait_fused(WAIT)
        assert sorted(first.label_texts) == sorted(labels)  # each distinct label once
        assert _index(client).embedded_labels == len(labels)
        answer = client.post(URL, json={"title": "Kapster"}).json()

    again = GatedEncoder(encoder)
    with _app(fused_settings, again, admin_token) as client:
        assert _index(client).wait_fused(WAIT)
        assert again.label_texts == [] and _index(client).embedded_labels == 0
        assert client.post(URL, json={"title": "Kapster"}).json() == answer

    other = GatedEncoder(encoder, model_id=encoder.model_id + "-other")
    with _app(fused_settings, other, admin_token) as client:
        assert _index(client).wait_fused(WAIT)
        assert sorted(other.label_texts) == sorted(labels)  # another model: embedded again
        assert client.post(URL, json={"title": "Kapster"}).json()["method"] == "fused"
    folders = {p.name for p in (fused_settings.data_dir / VECTOR_CACHE).iterdir()}
    assert len(folders) == 2


def test_a_new_import_answers_string_until_its_labels_are_embedded(
    fused_settings: Settings, db_url: str, gated: GatedEncoder, admin_token: str
) -> None:
    with _app(fused_settings, gated, admin_token) as client:
        assert client.post(URL, json={"title": "Kok"}).status_code == 503  # nothing imported
        assert gated.label_texts == []
        gated.gate.clear()
        _import(db_url)  # by another connection, as the CLI does
        assert client.post(URL, json={"title": "Kok"}).json()["method"] == "string"
        gated.gate.set()
        assert _index(client).wait_fused(WAIT)
        assert client.post(URL, json={"title": "Kok"}).json()["method"] == "fused"


def test_the_forklift_cv_is_read_with_the_fused_normaliser(
    fused_settings: Settings, db_url: str, gated: GatedEncoder, admin_token: str
) -> None:
    _import(db_url)
    focus = {"name": "Heftruckchauffeur", "synonyms": ["vorkheftruckchauffeur"]}
    with _app(fused_settings, gated, admin_token) as client:
        assert _index(client).wait_fused(WAIT)
        before = gated.request_texts
        assert client.put("/v1/focus-occupations/heftruckchauffeur", json=focus).status_code == 201
        assert client.put(VAC_URL, json=FORKLIFT_VACANCY).status_code == 201
        bare = candidate(FORKLIFT_CV, desired_occupations=[], skills=[])
        assert client.put("/v1/candidates/forklift", json=bare).status_code == 201
        cook = candidate(CATERING_CV, desired_occupations=["kok"])
        assert client.put("/v1/candidates/cook", json=cook).status_code == 201
        # the proposals of the CV went through the encoder (more than the texts themselves)
        assert gated.request_texts > before + 4

        inferred = {
            o["uri"]: o
            for o in client.get("/v1/candidates/forklift").json()["inferred_occupations"]
        }
        assert {HEFTRUCK, MAGAZIJN} <= set(inferred)
        for o in inferred.values():
            assert FORKLIFT_CV[o["start"] : o["end"]] == o["snippet"]
            assert 0.85 <= o["score"] <= 1.0
        assert inferred[HEFTRUCK]["snippet"] == "heftruckcertificaat"
        response = client.get(f"{VAC_URL}/matches", params={"focus_only": True})
        assert [m["candidate_id"] for m in response.json()["data"]] == ["forklift"]
        everyone = client.get(f"{VAC_URL}/matches").json()["data"]
        assert everyone[0]["candidate_id"] == "forklift"
