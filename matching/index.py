"""In-memory FAISS vector index keyed by database ids.

Inner product on unit vectors (= cosine similarity), ids are the rows' int64 primary keys.
Filtered search passes an ``IDSelectorBatch`` into FAISS, so a filtered query scans only the
allowed ids and still returns ``k`` results whenever ``k`` allowed ids exist.
"""

from __future__ import annotations

from collections.abc import Iterable

import faiss
import numpy as np

from matching.rwlock import ReadWriteLock


class VectorIndex:
    """A thread-safe id → vector index (exact inner-product search).

    Searches run concurrently (FAISS search is read-only); upserts and removals are exclusive.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ids: set[int] = set()
        self._lock = ReadWriteLock()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: object) -> bool:
        return item in self._ids

    def ids(self) -> set[int]:
        with self._lock.read():
            return set(self._ids)

    def upsert(self, ids: Iterable[int], vectors: np.ndarray) -> None:
        """Add or replace vectors.

        Args:
            ids: database ids, one per row of ``vectors``.
            vectors: float32 array of shape (n, dim), rows of unit length.
        """
        id_arr = np.asarray(list(ids), dtype=np.int64)
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(id_arr) != len(vecs):
            raise ValueError(f"{len(id_arr)} ids for {len(vecs)} vectors")
        if len(set(id_arr.tolist())) != len(id_arr):
            raise ValueError("duplicate ids in one upsert")
        with self._lock.write():
            present = [i for i in id_arr.tolist() if i in self._ids]
            if present:
                self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(present, dtype=np.int64)))
            if len(id_arr):
                self._index.add_with_ids(vecs, id_arr)
            self._ids.update(id_arr.tolist())

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        with self._lock.write():
            present = [i for i in ids if i in self._ids]
            if not present:
                return 0
            removed = int(
                self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(present, dtype=np.int64)))
            )
            self._ids.difference_update(present)
            return removed

    def reconstruct(self, id_: int) -> np.ndarray | None:
        """The stored vector of ``id_`` or None."""
        with self._lock.read():
            if id_ not in self._ids:
                return None
            return self._index.reconstruct(int(id_))

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-``k`` (id, cosine) pairs, best first.

        Args:
            query: float32 unit vector of shape (dim,).
            k: number of results wanted (fewer come back only if fewer ids qualify).
            allowed: int64 ids the result is restricted to, or None for all ids.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        with self._lock.read():
            n = len(self._ids) if allowed is None else len(allowed)
            k = min(k, n)
            if k <= 0:
                return []
            if allowed is None:
                scores, ids = self._index.search(q, k)
            else:
                sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
                scores, ids = self._index.search(q, k, params=faiss.SearchParameters(sel=sel))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def to_bytes(self) -> bytes:
        """The FAISS index (vectors and id map) serialised, for snapshots."""
        with self._lock.read():
            return faiss.serialize_index(self._index).tobytes()  # type: ignore[no-any-return]

    @classmethod
    def from_bytes(cls, data: bytes, dim: int) -> VectorIndex:
        """Rebuild an index from :meth:`to_bytes`; raises ValueError if it does not fit ``dim``."""
        # read_index already returns the concrete class; downcasting again would make a second
        # wrapper that does not own the C++ object, which the first frees when collected.
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if index.d != dim:
            raise ValueError(f"index has dimension {index.d}, expected {dim}")
        if not isinstance(index, faiss.IndexIDMap2):
            raise ValueError(f"unexpected FAISS index type {type(index).__name__}")
        out = cls(dim)
        out._index = index
        ids = faiss.vector_to_array(index.id_map).tolist()
        out._ids = set(ids)
        if len(out._ids) != len(ids) or index.ntotal != len(ids):
            raise ValueError("index id map is inconsistent")
        return out
