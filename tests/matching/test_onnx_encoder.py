"""The optional ONNX int8 encoder: close to the reference, chunked the same way, cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matching.embedder import BUNDLED_MODEL, Encoder, SentenceTransformerEncoder, load_encoder
from matching.onnx_encoder import OnnxInt8Encoder
from service.config import Settings
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, FORKLIFT_VACANCY

TEXTS = [FORKLIFT_CV, CARE_CV, CATERING_CV, FORKLIFT_VACANCY["description"], "kort"]


@pytest.fixture(scope="module")
def onnx_encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxInt8Encoder:
    return OnnxInt8Encoder(BUNDLED_MODEL, cache_dir=tmp_path_factory.mktemp("onnx"))


def test_vectors_are_close_to_the_reference(onnx_encoder: OnnxInt8Encoder, minilm: Encoder):
    ours = onnx_encoder.embed(TEXTS).vectors
    ref = minilm.embed(TEXTS).vectors
    cosines = (ours * ref).sum(axis=1)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosines.mean() >= 0.98 and cosines.min() >= 0.95, cosines
    # and it keeps the ranking signal: the forklift CV stays nearest to the forklift vacancy
    assert int(np.argmax(ours[:3] @ ours[3])) == 0


def test_long_texts_are_chunked_like_the_reference(
    onnx_encoder: OnnxInt8Encoder, minilm: Encoder
) -> None:
    long_text = " ".join([FORKLIFT_CV] * 8)
    assert isinstance(minilm, SentenceTransformerEncoder)
    assert onnx_encoder.embed([long_text]).chunks == minilm.embed([long_text]).chunks
    assert onnx_encoder.embed([long_text]).chunks[0] > 1


def test_own_model_id_and_cached_export(onnx_encoder: OnnxInt8Encoder, minilm: Encoder) -> None:
    assert onnx_encoder.model_id == f"{minilm.model_id}+onnx-int8"
    stamp = onnx_encoder.onnx_path.stat().st_mtime_ns
    again = OnnxInt8Encoder(BUNDLED_MODEL, cache_dir=onnx_encoder.onnx_path.parent)
    assert again.onnx_path == onnx_encoder.onnx_path
    assert again.onnx_path.stat().st_mtime_ns == stamp  # loaded, not exported again


def test_bad_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown encoder backend"):
        load_encoder(BUNDLED_MODEL, 32, 32, "tensorrt")
    with pytest.raises(ValueError, match="encoder_backend"):
        Settings(encoder_backend="tensorrt")  # type: ignore[arg-type]
    assert Settings(data_dir=tmp_path).encoder_args()[3:] == ("torch", str(tmp_path / "onnx"), 0)
