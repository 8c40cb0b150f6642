"""sentence-transformers models loaded offline from a local directory.

Texts longer than the model's window are split into overlapping token windows; each window is
embedded and the text's vector is the token-weighted mean of its windows, re-normalised, so that
no part of a long CV is silently dropped. The model is shared between threads in turns.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from matching.encoding import Embedded, directory_model_id, resolve_model_dir, unit_rows


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
        self.model_id = directory_model_id(model)
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
        return Embedded(unit_rows(pooled), chunks)
