"""The evaluation commands' disk cache of text vectors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.embedder import Embedded, HashEncoder
from matching.vector_cache import CachedEncoder


class CountingEncoder(HashEncoder):
    def __init__(self, model_id: str = "hash-64") -> None:
        super().__init__()
        self.model_id = model_id
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Embedded:
        self.calls.append(list(texts))
        return super().embed(texts)


def test_vectors_are_reused_across_instances(tmp_path: Path) -> None:
    inner = CountingEncoder()
    first = CachedEncoder(inner, tmp_path)
    a = first.embed(["heftruckchauffeur", "kok", "heftruckchauffeur"])
    assert inner.calls == [["heftruckchauffeur", "kok"]]  # a repeated text is embedded once
    expected = HashEncoder().embed(["heftruckchauffeur", "kok", "heftruckchauffeur"]).vectors
    np.testing.assert_array_equal(a.vectors, expected)
    second_inner = CountingEncoder()
    second = CachedEncoder(second_inner, tmp_path)
    b = second.embed(["kok", "schilder"])
    assert second_inner.calls == [["schilder"]] and second.computed == 1
    np.testing.assert_array_equal(b.vectors[0], a.vectors[1])
    assert b.vectors.dtype == np.float32 and b.chunks == [1, 1]
    assert not list(tmp_path.rglob("*.tmp.npz"))  # only whole shards remain


def test_another_model_id_never_reads_the_vectors(tmp_path: Path) -> None:
    CachedEncoder(CountingEncoder("model-a@1"), tmp_path).embed(["kok"])
    other = CountingEncoder("model-b@1")
    CachedEncoder(other, tmp_path).embed(["kok"])
    assert other.calls == [["kok"]]


def test_empty_input(tmp_path: Path) -> None:
    out = CachedEncoder(CountingEncoder(), tmp_path).embed([])
    assert out.vectors.shape == (0, 64) and out.chunks == []
