"""Vectors shipped with the package for a fixed set of texts (the demo data).

Embedding the demo's 450 CVs and vacancies is most of ``werkmatch demo``'s time with the
multilingual e5 encoder (about 240 CPU seconds), so ``werkmatch demo --write-vectors`` stores
them once under ``matching/data/vectors/<model key>/<name>.npz`` and ``werkmatch demo`` reuses
them through :class:`ShippedEncoder`.

File format (``np.savez_compressed``): ``keys`` (n,) str, :func:`~matching.embedder.content_hash`
of each text and the full model id (weights digest included); ``vectors`` float32 (n, dim), unit
length; ``chunks`` int32 (n,), the windows each text was embedded in; ``model_id`` (), the
encoder's model id when written. A text whose key is not in the file (a changed text, another
model or prefix, new weights) is embedded by the real encoder, so a stale file only costs time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.encoding import Embedded, Encoder, content_hash
from matching.ranking import model_key

__all__ = ["SHIPPED_DIR", "ShippedEncoder", "shipped_path"]

SHIPPED_DIR = Path(__file__).parent / "data" / "vectors"


def shipped_path(model_id: str, name: str = "demo", root: Path = SHIPPED_DIR) -> Path:
    """Where the vectors of the text set ``name`` for ``model_id``'s model are kept (one file
    per model and prefix; new weights overwrite it when written again)."""
    folder = re.sub(r"[^A-Za-z0-9._+-]", "_", model_key(model_id))
    return root / folder / f"{name}.npz"


class ShippedEncoder:
    """``inner`` answering from the shipped vectors where it can; same ``model_id`` and ``dim``.

    Every text it answers is remembered (``record``), so the vectors a run used can be written
    with :meth:`write`. ``reused`` and ``computed`` count texts answered from the file and by
    ``inner``.
    """

    def __init__(self, inner: Encoder, path: Path | None, *, read: bool = True) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        self._chunks: dict[str, int] = {}
        self.record: dict[str, tuple[np.ndarray, int]] = {}
        self.reused = 0
        self.computed = 0
        if read and path is not None and path.is_file():
            with np.load(path) as data:
                if str(data["model_id"]) == self.model_id:  # else every key would miss anyway
                    for key, vec, n in zip(
                        data["keys"], data["vectors"], data["chunks"], strict=True
                    ):
                        self._vectors[str(key)] = vec
                        self._chunks[str(key)] = int(n)

    def __len__(self) -> int:
        """Texts the file holds for this model."""
        return len(self._vectors)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed(self, texts: Sequence[str]) -> Embedded:
        keys = [content_hash(t, self.model_id) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._vectors and key not in self.record:
                missing.setdefault(key, text)
        if missing:
            fresh = self.inner.embed(list(missing.values()))
            for key, vec, n in zip(missing, fresh.vectors, fresh.chunks, strict=True):
                self.record[key] = (np.asarray(vec, dtype=np.float32), int(n))
            self.computed += len(missing)
        if not texts:
            return self.inner.embed([])
        out, chunks = [], []
        for key in keys:
            if key in self._vectors:
                vec, n = self._vectors[key], self._chunks[key]
                self.record.setdefault(key, (vec, n))
                self.reused += 1
            else:
                vec, n = self.record[key]
            out.append(vec)
            chunks.append(n)
        return Embedded(np.stack(out).astype(np.float32), chunks)

    def write(self, path: Path | None = None) -> Path:
        """Store the vectors of every text answered so far (written aside, then renamed)."""
        target = path or self.path
        if target is None:
            raise ValueError("no path to write the vectors to")
        keys = sorted(self.record)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
        np.savez_compressed(
            tmp,
            keys=np.array(keys),
            vectors=np.stack([self.record[k][0] for k in keys]).astype(np.float32)
            if keys
            else np.zeros((0, self.dim), dtype=np.float32),
            chunks=np.array([self.record[k][1] for k in keys], dtype=np.int32),
            model_id=np.array(self.model_id),
        )
        os.replace(tmp, target)
        return target
