"""In-memory FAISS vector index keyed by database ids, exact or approximate by size.

Inner product on unit vectors (= cosine similarity), ids are the rows' int64 primary keys.

Two layouts, chosen by :class:`IndexSpec` from the collection size when the index is built:

- ``flat``: exact search (``IndexFlatIP``), 1.5 KB per 384-d vector. Right for a municipality.
- ``ivf``: an inverted file with 8-bit scalar quantisation (``IndexIVFScalarQuantizer``),
  384 bytes per vector, trained on the stored vectors; a query scans ``nprobe`` of ``nlist``
  lists. Right for national scale (1M vectors in ~0.4 GB, a few ms per query).

Filtered search passes an id selector into FAISS, so hard filters are applied inside the scan
rather than by over-fetching. For the IVF layout a selective filter also widens the scan:
``nprobe`` is divided by the share of ids that pass, so the number of *allowed* vectors visited
(and with it recall) stays about the same as for an unfiltered query; a very selective filter
ends at ``nprobe = nlist``, an exact scan of the allowed ids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from matching.rwlock import ReadWriteLock

IndexKind = Literal["flat", "ivf"]

# Below this many allowed ids a hash-set selector is cheaper than a bitmap over the id range.
_BATCH_SELECTOR_MAX = 4096
# Training sample per list: FAISS wants >= 39 points per centroid; more buys little.
_TRAIN_PER_LIST = 64


@dataclass(frozen=True)
class IndexSpec:
    """How to lay out an index; ``None`` fields are derived from the collection size.

    Attributes:
        kind: ``auto`` picks ``flat`` below ``ivf_threshold`` vectors and ``ivf`` from there.
        ivf_threshold: collection size from which ``auto`` builds an IVF index.
        nlist: IVF lists; default ``4·√n`` rounded to a power of two, within [64, 65536].
        nprobe: lists scanned per unfiltered query; default ``nlist / 64``, at least 16.
    """

    kind: Literal["auto", "flat", "ivf"] = "auto"
    ivf_threshold: int = 200_000
    nlist: int | None = None
    nprobe: int | None = None

    def resolve(self, n: int) -> tuple[IndexKind, int, int]:
        """(kind, nlist, nprobe) for a collection of ``n`` vectors."""
        kind: IndexKind
        kind = ("ivf" if n >= self.ivf_threshold else "flat") if self.kind == "auto" else self.kind
        nlist = self.nlist or int(min(65536, max(64, 2 ** round(math.log2(4 * math.sqrt(n + 1))))))
        nprobe = self.nprobe or max(16, nlist // 64)
        return kind, nlist, min(nprobe, nlist)


class VectorIndex:
    """A thread-safe id → vector index; exact (flat) or IVF with scalar quantisation.

    Searches run concurrently (FAISS search is read-only); upserts and removals are exclusive.
    """

    def __init__(self, dim: int, *, kind: IndexKind = "flat", nlist: int = 0, nprobe: int = 0):
        """An empty index. An ``ivf`` index must be trained: use :meth:`build` for that."""
        self.dim = dim
        self.kind: IndexKind = kind
        self.nlist = nlist
        self.nprobe = nprobe
        if kind == "flat":
            self._index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        else:
            quantizer = faiss.IndexFlatIP(dim)
            ivf = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove + reconstruct by id
            ivf.nprobe = nprobe  # kept in snapshots
            self._quantizer = quantizer  # the IVF index does not own it
            self._index = ivf
        self._ids: set[int] = set()
        self._lock = ReadWriteLock()

    @classmethod
    def for_size(cls, dim: int, n: int, spec: IndexSpec | None = None) -> VectorIndex:
        """An empty index laid out for ``n`` vectors; an IVF one still needs :meth:`train`."""
        spec = spec or IndexSpec()
        kind, nlist, nprobe = spec.resolve(n)
        if kind == "ivf":
            if n <= 0:
                kind = "flat"  # nothing to train on; the next rebuild decides again
            # FAISS wants about 39 training points per list: a derived nlist respects that (fewer
            # lists beat poor centroids); an explicit one only needs a point per list.
            nlist = min(nlist, n) if spec.nlist else max(1, min(nlist, n // 39))
            nprobe = min(nprobe, nlist)
        return cls(dim, kind=kind, nlist=nlist if kind == "ivf" else 0, nprobe=nprobe)

    def training_size(self, n: int) -> int:
        """How many of ``n`` vectors :meth:`train` should be given (0 for a flat index)."""
        return 0 if self.kind == "flat" else min(n, self.nlist * _TRAIN_PER_LIST)

    def train(self, sample: np.ndarray) -> None:
        """Train the IVF lists' centroids and quantiser on a sample of the vectors."""
        if self.kind == "ivf":
            self._index.train(np.ascontiguousarray(sample, dtype=np.float32))

    @classmethod
    def build(
        cls,
        dim: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        spec: IndexSpec | None = None,
        *,
        seed: int = 1234,
    ) -> VectorIndex:
        """An index over ``vectors`` laid out per ``spec`` (trained on them when IVF)."""
        ids = np.asarray(ids, dtype=np.int64)
        index = cls.for_size(dim, len(ids), spec)
        if index.kind == "ivf":
            rng = np.random.default_rng(seed)
            take = rng.choice(len(ids), index.training_size(len(ids)), replace=False)
            index.train(np.asarray(vectors)[np.sort(take)])
        index.upsert(ids, vectors)
        return index

    def describe(self) -> dict[str, object]:
        """Layout facts for health pages and benchmarks."""
        out: dict[str, object] = {"kind": self.kind, "size": len(self), "dim": self.dim}
        if self.kind == "ivf":
            out |= {"nlist": self.nlist, "nprobe": self.nprobe}
        return out

    @property
    def layout(self) -> str:
        """The layout in one word, as match answers record it: ``flat`` (exact search) or
        ``ivf<nlist>x<nprobe>`` (approximate)."""
        return "flat" if self.kind == "flat" else f"ivf{self.nlist}x{self.nprobe}"

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
        id_arr = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(id_arr) != len(vecs):
            raise ValueError(f"{len(id_arr)} ids for {len(vecs)} vectors")
        if len(np.unique(id_arr)) != len(id_arr):
            raise ValueError("duplicate ids in one upsert")
        if len(id_arr) and id_arr.min() < 0:
            raise ValueError("ids must be non-negative")
        with self._lock.write():
            id_list = id_arr.tolist()
            present = [i for i in id_list if i in self._ids]
            if present:
                self._remove(present)
            if len(id_arr):
                self._index.add_with_ids(vecs, id_arr)
            self._ids.update(id_list)

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        with self._lock.write():
            present = [i for i in ids if i in self._ids]
            if not present:
                return 0
            removed = self._remove(present)
            self._ids.difference_update(present)
            return removed

    def _remove(self, ids: list[int]) -> int:
        arr = np.asarray(ids, dtype=np.int64)
        # IVF's id hashtable removes by looking ids up (it needs an array selector); the flat
        # id map scans its rows and asks the selector, where a hash set is the fast one.
        sel = (
            faiss.IDSelectorArray(len(arr), faiss.swig_ptr(arr))
            if self.kind == "ivf"
            else faiss.IDSelectorBatch(arr)
        )
        return int(self._index.remove_ids(sel))

    def reconstruct(self, id_: int) -> np.ndarray | None:
        """The stored vector of ``id_`` (decoded, so approximate for IVF) or None."""
        with self._lock.read():
            if id_ not in self._ids:
                return None
            return self._index.reconstruct(int(id_))

    @staticmethod
    def _selector(allowed: np.ndarray) -> tuple[faiss.IDSelector, object]:
        """A FAISS selector for ``allowed`` and the buffer it points into (keep it alive).

        ``allowed`` is either int64 ids or a boolean mask over the id range (``mask[id]``).
        """
        if allowed.dtype == np.bool_:
            bitmap = np.packbits(allowed, bitorder="little")  # FAISS reads bit i&7 of byte i>>3
            return faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap)), bitmap
        ids = np.ascontiguousarray(allowed, dtype=np.int64)
        if len(ids) <= _BATCH_SELECTOR_MAX or ids.max() >= 1 << 34:
            return faiss.IDSelectorBatch(ids), ids
        mask = np.zeros(int(ids.max()) + 1, dtype=bool)
        mask[ids] = True
        return VectorIndex._selector(mask)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-``k`` (id, cosine) pairs, best first.

        Args:
            query: float32 unit vector of shape (dim,).
            k: number of results wanted (fewer come back only if fewer ids qualify).
            allowed: the ids the result is restricted to (int64 ids, or a boolean mask over
                the id range as :mod:`matching.columns` makes), or None for all ids.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if allowed is not None and allowed.dtype == np.bool_:
            n_allowed = int(np.count_nonzero(allowed))
        else:
            n_allowed = -1 if allowed is None else len(allowed)
        with self._lock.read():
            total = len(self._ids)
            n = total if allowed is None else min(n_allowed, total)
            k = min(k, n)
            if k <= 0:
                return []
            params: faiss.SearchParameters | None = None
            keep_alive: object = None
            sel = None
            if allowed is not None:
                sel, keep_alive = self._selector(allowed)
            if self.kind == "ivf":
                share = n / max(total, 1)
                nprobe = min(self.nlist, math.ceil(self.nprobe / max(share, 1e-9)))
                params = faiss.SearchParametersIVF(nprobe=nprobe)
                if sel is not None:
                    params.sel = sel
            elif sel is not None:
                params = faiss.SearchParameters(sel=sel)
            scores, ids = self._index.search(q, k, params=params)
            del keep_alive
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
        if isinstance(index, faiss.IndexIDMap2):
            out = cls(dim)
            ids = faiss.vector_to_array(index.id_map).tolist()
        elif isinstance(index, faiss.IndexIVFScalarQuantizer):
            out = cls(dim, kind="ivf", nlist=int(index.nlist), nprobe=int(index.nprobe))
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # rebuilt from the lists
            lists = index.invlists
            ids = []
            for list_no in range(index.nlist):
                size = lists.list_size(list_no)
                if size:
                    ids.extend(faiss.rev_swig_ptr(lists.get_ids(list_no), size).tolist())
        else:
            raise ValueError(f"unexpected FAISS index type {type(index).__name__}")
        out._index = index
        out._ids = set(ids)
        if len(out._ids) != len(ids) or index.ntotal != len(ids):
            raise ValueError("index id map is inconsistent")
        return out
