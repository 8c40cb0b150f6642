"""The real model with a memory of the texts it has embedded, for the service tests.

Hundreds of tests store the same few made-up CVs and vacancies, and each of them ran the model
on the same text again. :class:`MemoEncoder` keeps each text's vector for the test session (in
memory, one per process, never on disk between runs). A text it has not seen is embedded by the
real model on its own, never in a batch with other texts: the vector of a text is therefore
``model.embed([text])`` whatever the tests ran before it, so no test depends on the order of
the others. Tests of the model itself (chunking, turns, batches) use the model directly.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from matching.embedder import Embedded, Encoder


class MemoEncoder:
    """``inner`` with each text's vector (and window count) remembered; same ``model_id``,
    same ``dim``, same vectors as ``inner.embed([text])`` per text."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self._seen: dict[str, tuple[np.ndarray, int]] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Embedded:
        if not texts:
            return self.inner.embed([])
        found: list[tuple[np.ndarray, int]] = []
        for text in texts:
            with self._lock:
                known = self._seen.get(text)
            if known is None:
                # Outside the lock: the model takes its own turns between threads, and two
                # threads that embed the same new text both get the model's one answer for it.
                out = self.inner.embed([text])
                known = (out.vectors[0].copy(), out.chunks[0])
                with self._lock:
                    known = self._seen.setdefault(text, known)
            found.append(known)
        vectors = np.stack([v for v, _ in found]).astype(np.float32)
        return Embedded(vectors, [n for _, n in found])
