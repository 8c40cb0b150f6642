"""Embedders: the real model's chunking and pooling; the hashing fake's determinism."""

from __future__ import annotations

import numpy as np
import pytest

from matching.embedder import (
    BUNDLED_MODEL,
    HashEncoder,
    SentenceTransformerEncoder,
    content_hash,
    resolve_model_dir,
)


def test_real_model_vectors_are_unit_length_and_meaningful(minilm) -> None:
    encoder = minilm
    out = encoder.embed(
        ["forklift driver in a warehouse", "warehouse forklift operator", "nurse in elderly care"]
    )
    assert out.vectors.shape == (3, encoder.dim) and out.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-5)
    sims = out.vectors @ out.vectors.T
    assert sims[0, 1] > sims[0, 2]
    assert encoder.model_id.startswith(f"{BUNDLED_MODEL}@")


def test_chunks_cover_the_whole_text(minilm: SentenceTransformerEncoder) -> None:
    encoder = minilm
    text = " ".join(f"zin nummer {i} over magazijnwerk." for i in range(200))
    pieces = encoder.chunk(text)
    assert len(pieces) > 1
    assert all(n <= encoder.window for _, n in pieces)
    assert pieces[0][0].startswith("zin nummer 0") and pieces[-1][0].endswith("magazijnwerk.")
    short = encoder.chunk("kort werk")
    assert len(short) == 1 and short[0][0] == "kort werk"
    assert short[0][1] == len(encoder._model.tokenizer.tokenize("kort werk"))
    assert encoder.embed([]).vectors.shape == (0, encoder.dim)


def test_model_dir_must_exist(tmp_path) -> None:
    with pytest.raises(ValueError, match="model directory"):
        resolve_model_dir(str(tmp_path))
    assert (resolve_model_dir(BUNDLED_MODEL) / "modules.json").is_file()


def test_hash_encoder_is_deterministic_and_word_sensitive() -> None:
    enc = HashEncoder(32)
    a, b, c = enc.embed(["heftruck magazijn", "heftruck magazijn", "zorg verpleging"]).vectors
    assert np.array_equal(a, b)
    assert float(a @ c) < 0.99
    assert content_hash("x", "m1") != content_hash("x", "m2")
