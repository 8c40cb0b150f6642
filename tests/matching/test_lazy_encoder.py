"""``WERKMATCH_ENCODER_LOAD=lazy``: the model is loaded on the first text to embed, once, and
answers as the eagerly loaded one does."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from matching.embedder import (
    Encoder,
    LazyEncoder,
    encoder_loaded,
    load_encoder,
    model_id_for,
    open_encoder,
)
from service.config import Settings
from service.observability import Metrics, TimedEncoder


def _args() -> tuple[str, int, int, str, str, int]:
    return Settings().encoder_args()


def test_lazy_encoder_knows_its_identity_without_the_model(model: Encoder) -> None:
    lazy = open_encoder(_args(), "lazy")
    assert isinstance(lazy, LazyEncoder)
    assert not lazy.loaded and not encoder_loaded(TimedEncoder(lazy, Metrics()))
    assert lazy.model_id == model_id_for(Settings().model) == model.model_id
    assert lazy.dim == model.dim == 384
    assert not lazy.loaded  # the dimension came from the model's files


def test_first_embed_loads_once_and_gives_the_eager_vectors(model: Encoder) -> None:
    calls: list[int] = []
    start = threading.Barrier(6)

    def load() -> Encoder:
        calls.append(1)
        return load_encoder(*_args())

    lazy = LazyEncoder(load, model.model_id, model.dim)
    texts = ["Heftruckchauffeur met VCA", "Kok in een bedrijfskantine"]
    results: list[np.ndarray] = []

    def embed() -> None:
        start.wait()
        results.append(lazy.embed(texts).vectors)

    threads = [threading.Thread(target=embed) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and lazy.loaded
    assert encoder_loaded(TimedEncoder(lazy, Metrics()))
    expected = model.embed(texts).vectors
    assert len(results) == 6
    for vectors in results:
        np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_a_model_that_is_not_the_announced_one_is_refused(model: Encoder) -> None:
    lazy = LazyEncoder(lambda: model, "another-model@000000000000", model.dim)
    with pytest.raises(RuntimeError, match="announced"):
        lazy.embed(["kok"])
    assert not lazy.loaded


def test_eager_loads_now_and_an_unknown_mode_is_refused() -> None:
    assert encoder_loaded(open_encoder(_args(), "eager"))
    with pytest.raises(ValueError, match="encoder load"):
        open_encoder(_args(), "sometimes")
