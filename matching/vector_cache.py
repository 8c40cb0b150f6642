"""A disk cache of text vectors for the evaluation commands.

Embedding is the dear part of every evaluation run (tens of thousands of ESCO labels, hundreds of
CVs), and the evaluation texts do not change between runs. :class:`CachedEncoder` wraps an
:class:`~matching.embedder.Encoder` and keeps each text's vector in a directory per model id:
a text's key is :func:`~matching.embedder.content_hash` of the text and the model id, so a
different model or prefix (a different id) never reads another's vectors, and a changed text is
simply a new key.

Storage is append-only: every ``embed`` call that had to compute vectors writes one new shard
(``<key of the batch>.npz`` with ``keys``, ``vectors`` float32 (n × dim) and ``chunks`` int32),
written to a temporary name and renamed, so a crashed or concurrent run never leaves a torn
file. All shards are read at construction.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.embedder import Embedded, Encoder, content_hash

__all__ = ["CachedEncoder"]


class CachedEncoder:
    """``inner`` with its vectors cached under ``root / <model id>``; same ``model_id``."""

    def __init__(self, inner: Encoder, root: Path) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.directory = root / re.sub(r"[^A-Za-z0-9._+@-]", "_", inner.model_id)
        self._vectors: dict[str, np.ndarray] = {}
        self._chunks: dict[str, int] = {}
        self.computed = 0  # texts embedded by ``inner`` since construction
        if self.directory.is_dir():
            for shard in sorted(self.directory.glob("*.npz")):
                with np.load(shard) as data:
                    for key, vec, n in zip(
                        data["keys"], data["vectors"], data["chunks"], strict=True
                    ):
                        self._vectors[str(key)] = vec
                        self._chunks[str(key)] = int(n)

    @property
    def dim(self) -> int:
        return int(getattr(self.inner, "dim", 0))

    def embed(self, texts: Sequence[str]) -> Embedded:
        keys = [content_hash(t, self.model_id) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._vectors:
                missing.setdefault(key, text)
        if missing:
            fresh = self.inner.embed(list(missing.values()))
            new_keys = list(missing)
            for key, vec, n in zip(new_keys, fresh.vectors, fresh.chunks, strict=True):
                self._vectors[key] = np.asarray(vec, dtype=np.float32)
                self._chunks[key] = int(n)
            self.computed += len(new_keys)
            self._write(new_keys)
        if not texts:
            return self.inner.embed([])
        vectors = np.stack([self._vectors[k] for k in keys]).astype(np.float32)
        return Embedded(vectors, [self._chunks[k] for k in keys])

    def _write(self, keys: list[str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        final = self.directory / f"{name}.npz"
        tmp = self.directory / f".{name}.{os.getpid()}.tmp.npz"
        np.savez(
            tmp,
            keys=np.array(keys),
            vectors=np.stack([self._vectors[k] for k in keys]).astype(np.float32),
            chunks=np.array([self._chunks[k] for k in keys], dtype=np.int32),
        )
        os.replace(tmp, final)
