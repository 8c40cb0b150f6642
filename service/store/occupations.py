"""ESCO occupations in the database: import, and the normaliser built over them.

The normaliser (``matching.occupations.OccupationNormalizer``) is built from the
``esco_occupation`` table on first use and rebuilt when the table changes (another process,
such as ``werkmatch occupations import``, may have written it).

With an encoder, every normaliser built is followed by the embedding of its ESCO labels in a
background thread (``esco-label-vectors``), in batches, through a disk cache under the data dir
(``matching.vector_cache.CachedEncoder``: one directory per model id, one key per model id and
label text, so a model change embeds again and a restart embeds nothing). When the vectors are
ready, :meth:`OccupationIndex.get` returns the fused normaliser
(``matching.occupations.FusedNormalizer``); until then, or when embedding failed, the string
one. Nobody waits for the vectors but a caller of :meth:`OccupationIndex.wait_fused`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from matching.embedder import Encoder
from matching.esco import EscoOccupationRecord
from matching.occupation_adapter import OccupationAdapter, shipped_adapter
from matching.occupations import (
    FusedNormalizer,
    OccupationConcept,
    OccupationNormalizer,
    fusion_labels,
)
from matching.vector_cache import CachedEncoder
from service.store.models import EscoOccupation, utcnow

__all__ = [
    "LABEL_BATCH",
    "LABEL_THREAD",
    "VECTOR_CACHE",
    "Normalizer",
    "OccupationIndex",
    "fusion_adapter",
    "import_occupations",
    "load_concepts",
    "ready_index",
]

log = logging.getLogger(__name__)

Normalizer = OccupationNormalizer | FusedNormalizer

LABEL_BATCH = 128
"""Labels per encoder call in the background: requests that embed wait for at most one such
call (the e5 engine holds its lock for a whole call)."""
LABEL_THREAD = "esco-label-vectors"
VECTOR_CACHE = "vector-cache"
"""The label vectors' folder under the data dir."""

_FIELDS = (
    "preferred_label",
    "alt_labels",
    "hidden_labels",
    "isco_code",
    "isco_label",
    "code",
    "description",
)


def _values(record: EscoOccupationRecord) -> dict[str, Any]:
    return {
        "preferred_label": record.preferred_label,
        "alt_labels": list(record.alt_labels),
        "hidden_labels": list(record.hidden_labels),
        "isco_code": record.isco_code,
        "isco_label": record.isco_label,
        "code": record.code,
        "description": record.description,
    }


def import_occupations(session: Session, records: Sequence[EscoOccupationRecord]) -> dict[str, int]:
    """Upsert occupations by URI in one transaction; rows not in ``records`` are kept.

    Returns counts of created, updated and unchanged rows.
    """
    existing = {row.uri: row for row in session.exec(select(EscoOccupation)).all()}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    now = utcnow()
    for record in records:
        values = _values(record)
        row = existing.get(record.uri)
        if row is None:
            session.add(EscoOccupation(uri=record.uri, updated_at=now, **values))
            counts["created"] += 1
        elif any(getattr(row, name) != values[name] for name in _FIELDS):
            for name in _FIELDS:
                setattr(row, name, values[name])
            row.updated_at = now
            session.add(row)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    session.commit()
    return counts


def load_concepts(session: Session) -> list[OccupationConcept]:
    """All stored occupations as normaliser concepts, in URI order (preferred label first)."""
    rows = session.exec(select(EscoOccupation).order_by(EscoOccupation.uri)).all()
    return [
        OccupationConcept(
            uri=row.uri,
            preferred_label=row.preferred_label,
            labels=(row.preferred_label, *row.alt_labels, *row.hidden_labels),
            isco_code=row.isco_code,
        )
        for row in rows
    ]


class OccupationIndex:
    """The process's normaliser over the stored occupations, rebuilt when they change; fused
    with ``encoder`` once the label vectors are ready (see the module docstring).

    Args:
        encoder: embeds the labels and, once fused, each title; None: string normaliser only.
        cache_root: the label vectors' disk cache (``<data_dir>/vector-cache``); None: kept in
            memory only.
        adapter: applied to the title and label vectors of the fused normaliser
            (:func:`fusion_adapter`); the cache keeps the encoder's own vectors.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        cache_root: Path | None = None,
        adapter: OccupationAdapter | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._version: tuple[int, datetime | None] | None = None
        self._normalizer: OccupationNormalizer | None = None
        self._fused: FusedNormalizer | None = None
        self._isco_labels: dict[str, str] = {}
        self.encoder = encoder
        self.cache_root = cache_root
        self.adapter = adapter
        self.label_batch = LABEL_BATCH
        self.embedded_labels = 0  # labels this process sent to the encoder (not from the cache)
        self._ready = threading.Event()  # set when the current normaliser's fusion is settled
        self._ready.set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _current_version(session: Session) -> tuple[int, datetime | None]:
        count, latest = session.exec(
            select(func.count(EscoOccupation.id), func.max(EscoOccupation.updated_at))  # type: ignore[arg-type]  # sqlmodel's select() overloads take columns, not SQL functions
        ).one()
        return int(count), latest

    def get(self, session: Session) -> Normalizer | None:
        """The normaliser, or None when no occupations are stored: the fused one when its
        label vectors are ready, else the string one (never waits for the vectors)."""
        version = self._current_version(session)
        with self._lock:
            if version != self._version:
                concepts = load_concepts(session) if version[0] else []
                self._normalizer = OccupationNormalizer(concepts) if concepts else None
                self._fused = None
                rows = session.exec(
                    select(EscoOccupation.isco_code, EscoOccupation.isco_label).distinct()
                ).all()
                self._isco_labels = {c: lbl for c, lbl in rows if c and lbl}
                self._version = version
                if self._normalizer is not None and self.encoder is not None:
                    self._start_fusion(self._normalizer)
            return self._fused or self._normalizer

    def _start_fusion(self, normalizer: OccupationNormalizer) -> None:
        # called under self._lock; a running thread for an older normaliser finishes its batch,
        # finds its normaliser replaced and ends (its vectors stay in the cache)
        self._ready.clear()
        self._thread = threading.Thread(
            target=self._embed_labels, args=(normalizer,), name=LABEL_THREAD, daemon=True
        )
        self._thread.start()

    def _embed_labels(self, normalizer: OccupationNormalizer) -> None:
        assert self.encoder is not None
        try:
            texts = list(dict.fromkeys(fusion_labels(normalizer.concepts)[0]))
            cached = (
                CachedEncoder(self.encoder, self.cache_root)
                if self.cache_root is not None
                else None
            )
            vectors: dict[str, np.ndarray] = {}
            for start in range(0, len(texts), self.label_batch):
                if self._stop.is_set() or self._normalizer is not normalizer:
                    return
                batch = texts[start : start + self.label_batch]
                if cached is not None:
                    before = cached.computed
                    got = cached.embed(batch).vectors
                    self.embedded_labels += cached.computed - before
                else:
                    got = self.encoder.embed(batch).vectors
                    self.embedded_labels += len(batch)
                vectors.update(zip(batch, got, strict=True))
            labels = fusion_labels(normalizer.concepts)[0]
            matrix = np.stack([vectors[t] for t in labels]).astype(np.float32)
            fused = FusedNormalizer(normalizer, self.encoder, matrix, adapter=self.adapter)
            with self._lock:
                if self._normalizer is normalizer:
                    self._fused = fused
                    log.info(
                        "occupation normaliser fused with %s (%d labels)",
                        fused.model_id,
                        len(labels),
                    )
        except Exception:  # the string normaliser keeps serving
            log.exception("embedding the ESCO labels failed; the string normaliser stays")
        finally:
            with self._lock:
                if self._normalizer is normalizer or self._stop.is_set():
                    self._ready.set()

    def wait_fused(self, timeout: float | None = None) -> bool:
        """Wait until the current normaliser's label vectors are embedded (or failed);
        True when the fused normaliser is in use."""
        self._ready.wait(timeout)
        with self._lock:
            return self._fused is not None and self._fused.normalizer is self._normalizer

    @property
    def method(self) -> str | None:
        """ "fused" or "string": what :meth:`get` returns now (None: nothing built yet)."""
        with self._lock:
            current = self._fused or self._normalizer
        return current.method if current is not None else None

    def close(self, timeout: float = 10.0) -> None:
        """Stop the background embedding (after its current batch)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def isco_label(self, code: str | None) -> str | None:
        """The ISCO-08 group title of ``code`` as imported (None when unknown)."""
        return self._isco_labels.get(code) if code else None


def fusion_adapter(enabled: bool, encoder: Encoder | None) -> OccupationAdapter | None:
    """The adapter shipped for ``encoder``'s model when ``enabled`` (the setting
    ``occupation_adapter``), else None (also for a model without one)."""
    return shipped_adapter(encoder.model_id) if enabled and encoder is not None else None


def ready_index(
    session: Session,
    encoder: Encoder | None,
    cache_root: Path,
    adapter: OccupationAdapter | None = None,
) -> OccupationIndex:
    """An index for a batch command (demo, import, backfill): fused with ``encoder`` (and
    ``adapter``) and waited for, so that what it stores is read as the service reads it; the
    label vectors go to the same disk cache as the service's, which then finds them at its
    start. Without an encoder, or without occupations, the string normaliser."""
    index = (
        OccupationIndex(encoder, cache_root, adapter) if encoder is not None else OccupationIndex()
    )
    if index.get(session) is not None and encoder is not None and not index.wait_fused():
        log.warning("the ESCO labels could not be embedded: the string normaliser is used")
    return index
