"""In-memory FAISS vector index keyed by database ids, exact or approximate by size.

Inner product on unit vectors (= cosine similarity), ids are the rows' int64 primary keys.

Two layouts, chosen by :class:`IndexSpec` from the collection size when the index is built:

- ``flat``: exact search (``IndexFlatIP``), 1.5 KB per 384-d vector. Right for a municipality.
- ``ivf``: an inverted file with 8-bit scalar quantisation (``IndexIVFScalarQuantizer``),
  384 bytes per vector, trained on the stored vectors; a query scans ``nprobe`` of ``nlist``
  lists. Right for national scale (1M vectors in ~0.4 GB, a few ms per query).

A filtered search is planned by the number of ids the filter lets through
(:meth:`VectorIndex.plan`):

- **exact**: few allowed ids. Their stored vectors are gathered and scored with one product: for
  ``flat`` the float32 rows FAISS keeps, for ``ivf`` the rows' 8-bit codes (kept a second time
  in an array indexed by id, 384 bytes per row plus the list number, because FAISS's lists
  cannot be gathered from quickly), scored by FAISS's SIMD scanner as the IVF scan scores them.
  Cost grows with the allowed ids only; recall is that of the stored vectors (exact for
  ``flat``, the SQ8 codes for ``ivf``).
- **lists** (``ivf``, from ``_LISTS_MIN`` allowed ids): as ``exact``, but only the allowed rows
  in the ``LISTS_SHARE`` of the lists whose centroids are nearest the query (a quarter: 16 times
  the lists an unfiltered query scans). At 1M this scores about a quarter of the bench's
  ~11,000 allowed rows and finds the exact path's top 20 (recall 1.0 on 200 bench queries).
- **scan**: many allowed ids. The search runs inside FAISS with an id selector, so hard filters
  are applied in the scan rather than by over-fetching; for ``ivf`` ``nprobe`` is divided by
  the share of ids that pass, so the number of *allowed* vectors visited (and with it recall)
  stays about the same as for an unfiltered query.
- **post** (filters given as a :class:`RowTest`): where ``scan`` would be chosen, the filters
  are not evaluated over every row first. Their share is estimated on a fixed sample of
  ``POST_SAMPLE`` stored ids; the index is searched without a selector for
  ``k / share · POST_OVERFETCH`` ids (``ivf``: with the ``nprobe`` the scan would use), and
  only those are tested. The allowed ones, in order, are the scan's answer (the scan visits the
  same vectors and keeps the allowed ones); when fewer than ``k`` pass, the search falls back
  to the planned path over all allowed ids. A default query (active candidates, their own
  travel limits) lets most rows through: at 1M the filter pass over every row and the selector
  over the id range cost more than the search itself.

The planner compares the costs of scoring and scanning with per-row constants measured on a
2-core machine (``EXACT_NS_PER_ROW``, ``SCAN_NS_PER_ROW``); at 1M rows (IVF 4096×64) scoring
wins up to about 26,000 allowed ids (2.6 %), in a flat index up to 10 % of the rows; see
docs/scale.md.

While ids are dense (:meth:`VectorIndex._dense`) the IVF index keeps no id hashtable: removal
scans the lists with a hash-set selector and :meth:`VectorIndex.reconstruct` decodes the
id-indexed codes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from matching.rwlock import ReadWriteLock

IndexKind = Literal["flat", "ivf"]

# Below this many allowed ids a hash-set selector is cheaper than a bitmap over the id range.
_BATCH_SELECTOR_MAX = 4096
# Cost per row, CPU time of one thread on the 2-core machine (1M rows IVF 4096x64 and 200k
# flat, 384-d, 100 nearest; docs/scale.md): the exact path gathers, decodes and multiplies an
# allowed row in ~200 ns (IVF codes) or ~300 ns (flat float32 rows); a FAISS scan with an id
# selector pays per stored row it visits, allowed or not (the selector is asked row by row):
# ~9 ns in IVF lists, ~30 ns in a flat index (which also scores its allowed rows in the scan).
EXACT_NS_PER_ROW = {"ivf": 200.0, "flat": 300.0}
SCAN_NS_PER_ROW = {"ivf": 9.0, "flat": 30.0}
Plan = Literal["exact", "lists", "scan"]
# The ``post`` plan: the filters' share is estimated on this many stored ids (spread evenly
# over the id range), and the unfiltered search fetches k / share times this factor (plus
# POST_EXTRA) so that k allowed ids are among them even when the estimate is high.
POST_SAMPLE = 1024
POST_OVERFETCH = 1.5
POST_EXTRA = 16


@dataclass(frozen=True)
class RowTest:
    """Hard filters as a test of given rows, with the allowed ids on demand.

    Attributes:
        test: int64 ids (n,) -> bool (n,): which of those rows pass.
        allowed: () -> ascending int64 ids of every row that passes (the full filter pass).
    """

    test: Callable[[np.ndarray], np.ndarray]
    allowed: Callable[[], np.ndarray]


# The ``lists`` plan (IVF): only the allowed rows in this share of the lists, those whose
# centroids are nearest the query, are scored; from _LISTS_MIN allowed rows on.
LISTS_SHARE = 0.25
_LISTS_MIN = 2048
_EXACT_CHUNK = 4096  # rows gathered at a time on the exact path (1.5 MB at 384-d)
_HEAP_EMPTY = np.finfo(np.float32).min  # FAISS's empty slot in a min-heap


def _inner_products(out: np.ndarray, q: np.ndarray, rows: np.ndarray, dim: int) -> None:
    """``out[i] = rows[i]·q`` (float32, contiguous) with FAISS's single-threaded kernel; numpy's
    product would start BLAS threads per call, which a loaded 2-core server cannot afford."""
    if rows.shape != (len(out), dim) or q.shape != (dim,):
        raise ValueError(f"rows {rows.shape}, query {q.shape}, out {out.shape}: no fit")
    faiss.fvec_inner_products_ny(
        faiss.swig_ptr(out), faiss.swig_ptr(q), faiss.swig_ptr(rows), dim, len(rows)
    )


def _reader(data: bytes | np.ndarray) -> faiss.PyCallbackIOReader:
    """A FAISS reader over ``data`` that hands it over in 4 MB pieces. ``deserialize_index``
    first copies the whole buffer into a vector of its own: at 1M rows that is another 400 MB
    of fresh memory, and touching fresh memory is what a snapshot load mostly waits for (19 s
    against 5 s for the same index on the 2-core machine)."""
    view = memoryview(np.frombuffer(data, dtype=np.uint8).data)
    at = 0

    def read(n: int) -> bytes:
        nonlocal at
        piece = view[at : at + n].tobytes()
        at += len(piece)
        return piece

    return faiss.PyCallbackIOReader(read, 1 << 22)


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
            # no id hashtable while ids are dense: removal scans the lists with a hash-set
            # selector and reconstruction decodes the id-indexed code copy (see _sparse)
            ivf.nprobe = nprobe  # kept in snapshots
            self._quantizer = quantizer  # the IVF index does not own it
            self._index = ivf
        self._ids: set[int] = set()
        self._lock = ReadWriteLock()
        # For the exact path (see the module docstring): IVF rows' codes by id (uint8
        # (capacity, code_size), without the list number) and their list (int32 (capacity,)),
        # and for flat the FAISS row of each id (-1: none).
        self._codes = np.zeros((0, 0), dtype=np.uint8)
        self._list = np.zeros(0, dtype=np.int32)
        self._has = np.zeros(0, dtype=bool)
        self._pos = np.zeros(0, dtype=np.int64)
        self._exact_ok = True

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
            if len(id_arr) and self.kind == "ivf":
                # Encoded once here, so the IVF lists and the exact path's copy hold the same codes.
                codes = self._index.sa_encode(vecs)
                self._index.add_sa_codes(codes, id_arr)
                self._keep_codes(id_arr, codes)
            elif len(id_arr):
                self._index.add_with_ids(vecs, id_arr)
            self._ids.update(id_list)
            if self.kind == "flat":
                self._reindex_flat()

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        with self._lock.write():
            present = [i for i in ids if i in self._ids]
            if not present:
                return 0
            removed = self._remove(present)
            self._ids.difference_update(present)
            if self.kind == "flat":
                self._reindex_flat()
            return removed

    def _remove(self, ids: list[int]) -> int:
        arr = np.asarray(ids, dtype=np.int64)
        # IVF's id hashtable removes by looking ids up (it needs an array selector); the flat
        # id map scans its rows and asks the selector, where a hash set is the fast one.
        sel = (
            faiss.IDSelectorArray(len(arr), faiss.swig_ptr(arr))
            if self.kind == "ivf" and not self._exact_ok
            else faiss.IDSelectorBatch(arr)
        )
        if self.kind == "ivf":
            self._has[arr[arr < len(self._has)]] = False
        return int(self._index.remove_ids(sel))

    # ------------------------------------------------------------ exact path storage

    def _dense(self, max_id: int, rows: int) -> bool:
        """Whether arrays over the id range stay small for ``rows`` stored rows: ids are
        database keys, so they are dense in practice; a sparse range turns the exact path off
        rather than allocate."""
        return max_id < 4 * rows + 65536

    def _sparse(self) -> None:
        """Turn the exact path off (ids too sparse for id-indexed arrays) and give the IVF
        index the id hashtable it then needs for removal and reconstruction."""
        self._codes, self._has = np.zeros((0, 0), dtype=np.uint8), np.zeros(0, dtype=bool)
        self._list = np.zeros(0, dtype=np.int32)
        if self._exact_ok and self.kind == "ivf":
            self._index.set_direct_map_type(faiss.DirectMap.Hashtable)
        self._exact_ok = False

    def _keep_codes(self, ids: np.ndarray, codes: np.ndarray) -> None:
        """Copy IVF rows' codes (``sa_encode`` format: the list number in
        ``coarse_code_size`` little-endian bytes, then the row's code) into the id-indexed
        arrays."""
        top = int(ids.max())
        if not self._exact_ok or not self._dense(top, len(self._ids) + len(ids)):
            self._sparse()
            return
        coarse = int(self._index.coarse_code_size())
        width = codes.shape[1] - coarse
        if top >= len(self._has) or self._codes.shape[1] != width:
            size = max(top + 1, int(len(self._has) * 1.5))
            grown = np.zeros((size, width), dtype=np.uint8)
            lists = np.zeros(size, dtype=np.int32)
            has = np.zeros(size, dtype=bool)
            if self._codes.shape[1] == width:
                grown[: len(self._codes)] = self._codes
                lists[: len(self._list)] = self._list
                has[: len(self._has)] = self._has
            self._codes, self._list, self._has = grown, lists, has
        self._codes[ids] = codes[:, coarse:]
        list_no = codes[:, 0].astype(np.int32)
        for b in range(1, coarse):
            list_no |= codes[:, b].astype(np.int32) << (8 * b)
        self._list[ids] = list_no
        self._has[ids] = True

    def _reindex_flat(self) -> None:
        """The FAISS row of every id (rows move when FAISS compacts after a removal)."""
        id_map = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        top = int(id_map.max()) if len(id_map) else -1
        self._exact_ok = self._dense(top, len(id_map))
        if not self._exact_ok:
            self._pos, self._has = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
            return
        pos = np.full(top + 1, -1, dtype=np.int64)
        pos[id_map] = np.arange(len(id_map))
        self._pos, self._has = pos, pos >= 0

    def _allowed_ids(self, allowed: np.ndarray | None) -> np.ndarray:
        """The stored ids among ``allowed`` (a mask over the id range, or ids), ascending."""
        has = self._has
        if allowed is None:
            return np.flatnonzero(has)
        if allowed.dtype == np.bool_:
            m = allowed[: len(has)]
            return np.flatnonzero(m & has[: len(m)])
        ids = np.asarray(allowed, dtype=np.int64)
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):  # the filters give them ascending
            ids = np.unique(ids)
        ids = ids[(ids >= 0) & (ids < len(has))]
        return ids[has[ids]]

    def plan(self, n_allowed: int, total: int) -> Plan:
        """The cheaper way to search ``n_allowed`` of ``total`` stored ids (module docstring).

        ``exact`` costs ``EXACT_NS_PER_ROW`` per allowed id; ``scan`` costs ``SCAN_NS_PER_ROW``
        per stored id visited: every id for ``flat``, ``total · nprobe'/nlist`` for ``ivf``
        with the widened ``nprobe'``.
        """
        if not self._exact_ok or n_allowed >= total:
            return "scan"
        visited = float(total)
        if self.kind == "ivf":
            visited = total * self._widened_nprobe(n_allowed, total) / self.nlist
        exact, scan = EXACT_NS_PER_ROW[self.kind], SCAN_NS_PER_ROW[self.kind]
        if n_allowed * exact > visited * scan:
            return "scan"
        return "lists" if self.kind == "ivf" and n_allowed >= _LISTS_MIN else "exact"

    def _widened_nprobe(self, n_allowed: int, total: int) -> int:
        share = n_allowed / max(total, 1)
        return min(self.nlist, math.ceil(self.nprobe / max(share, 1e-9)))

    def _search_exact(
        self, q: np.ndarray, k: int, allowed: np.ndarray, lists: float = 1.0
    ) -> list[tuple[int, float]]:
        """Score every allowed stored row with one product; top ``k`` (ties by id). For IVF
        with ``lists`` < 1: only the allowed rows in that share of the lists, those with the
        centroids nearest ``q``."""
        ids = self._allowed_ids(allowed)
        if not len(ids):
            return []
        if self.kind == "ivf":
            per_list = self._centroid_products(q)
            if lists < 1:
                best = max(1, int(self.nlist * lists))
                cut = np.partition(per_list, self.nlist - best)[self.nlist - best]
                ids = ids[per_list[self._list[ids]] >= cut]
                if not len(ids):
                    return []
            scores = np.empty(len(ids), dtype=np.float32)
            self._score_codes(scores, q, ids, per_list)
        else:
            scores = np.empty(len(ids), dtype=np.float32)
            # Chunks of rows gathered into one small buffer: gathering all allowed rows at
            # once allocated tens of MB per query, and the page faults cost more than the product.
            buf = np.empty((_EXACT_CHUNK, self.dim), dtype=np.float32)
            flat = faiss.downcast_index(self._index.index)
            xb = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dim)
            xb = xb.reshape(flat.ntotal, self.dim)
            for start in range(0, len(ids), _EXACT_CHUNK):
                pos = self._pos[ids[start : start + _EXACT_CHUNK]]
                np.take(xb, pos, axis=0, out=buf[: len(pos)])
                _inner_products(scores[start : start + len(pos)], q, buf[: len(pos)], self.dim)
        if len(ids) > k:
            part = np.argpartition(-scores, k - 1)[:k]
            ids, scores = ids[part], scores[part]
        order = np.lexsort((ids, -scores))
        return [(int(ids[i]), float(scores[i])) for i in order]

    def _centroid_products(self, q: np.ndarray) -> np.ndarray:
        """``q·centroid`` of every IVF list, float32 (nlist,)."""
        ivf = self._index
        quantizer = faiss.downcast_index(ivf.quantizer)
        centroids = faiss.rev_swig_ptr(quantizer.get_xb(), ivf.nlist * self.dim)
        per_list = np.empty(ivf.nlist, dtype=np.float32)
        _inner_products(per_list, q, centroids.reshape(ivf.nlist, self.dim), self.dim)
        return per_list

    def _score_codes(
        self, out: np.ndarray, q: np.ndarray, ids: np.ndarray, per_list: np.ndarray
    ) -> None:
        """``out[i] = q·x[ids[i]]`` for the stored (decoded) IVF rows ``ids``.

        By residual: ``x = centroid[list] + r`` so ``q·x = q·centroid[list] + q·r``. The second
        term is FAISS's SIMD scanner over the rows' gathered codes (it decodes on the fly, as
        the IVF scan does, so the scores are the scan's); its heap keeps every row.
        """
        scanner = self._index.get_InvertedListScanner(False, None, None)
        scanner.set_query(faiss.swig_ptr(q))
        scanner.set_list(0, 0.0)  # coarse term 0: added per row below
        width = self._codes.shape[1]
        n = min(len(ids), _EXACT_CHUNK)
        codes = np.empty((n, width), dtype=np.uint8)
        heap = np.empty(n, dtype=np.float32)
        pos = np.empty(n, dtype=np.int64)
        rows = np.arange(n, dtype=np.int64)
        for start in range(0, len(ids), n):
            part = ids[start : start + n]
            m = len(part)
            np.take(self._codes, part, axis=0, out=codes[:m])
            heap[:m] = _HEAP_EMPTY
            pos[:m] = -1
            ptr = faiss.swig_ptr
            scanner.scan_codes(m, ptr(codes), ptr(rows), ptr(heap), ptr(pos), m)
            chunk = out[start : start + m]
            chunk[pos[:m]] = heap[:m]
            chunk += per_list[self._list[part]]

    def stored(self, id_: int) -> np.ndarray:
        """The stored vector of ``id_``, which must be in the index (see ``reconstruct``).

        Raises:
            KeyError: ``id_`` is not in the index.
        """
        vector = self.reconstruct(id_)
        if vector is None:
            raise KeyError(f"id {id_} is not in the index")
        return vector

    def reconstruct(self, id_: int) -> np.ndarray | None:
        """The stored vector of ``id_`` (decoded, so approximate for IVF) or None."""
        with self._lock.read():
            if id_ not in self._ids:
                return None
            if self.kind == "ivf" and self._exact_ok:
                coarse = int(self._index.coarse_code_size())
                head = int(self._list[id_]).to_bytes(coarse, "little")
                code = np.concatenate([np.frombuffer(head, dtype=np.uint8), self._codes[id_]])
                decoded: np.ndarray = self._index.sa_decode(code[None, :])[0]
                return decoded
            stored: np.ndarray = self._index.reconstruct(int(id_))
            return stored

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
        self,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | RowTest | None = None,
        *,
        plan: Plan | None = None,
    ) -> list[tuple[int, float]]:
        """Top-``k`` (id, cosine) pairs, best first.

        Args:
            query: float32 unit vector of shape (dim,).
            k: number of results wanted (fewer come back only if fewer ids qualify).
            allowed: the ids the result is restricted to (int64 ids, or a boolean mask over
                the id range as :mod:`matching.columns` makes), the filters as a
                :class:`RowTest` (then the ``post`` plan may avoid the full filter pass), or
                None for all ids.
            plan: force ``exact`` or ``scan`` for a filtered search (tests, benchmarks); by
                default :meth:`plan` chooses from the number of allowed ids.
        """
        if isinstance(allowed, RowTest):
            with self._lock.read():
                found = None if plan is not None else self._search_post(query, k, allowed)
            if found is not None:
                return found
            allowed = allowed.allowed()
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
            if allowed is not None:
                chosen = plan or self.plan(n, total)
                if chosen != "scan" and self._exact_ok:
                    share = LISTS_SHARE if chosen == "lists" else 1.0
                    return self._search_exact(q[0], k, allowed, share)
            params: faiss.SearchParameters | None = None
            keep_alive: object = None
            sel = None
            if allowed is not None:
                sel, keep_alive = self._selector(allowed)
            if self.kind == "ivf":
                params = faiss.SearchParametersIVF(nprobe=self._widened_nprobe(n, total))
                if sel is not None:
                    params.sel = sel
            elif sel is not None:
                params = faiss.SearchParameters(sel=sel)
            scores, ids = self._index.search(q, k, params=params)
            del keep_alive
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def _search_post(
        self, query: np.ndarray, k: int, rows: RowTest
    ) -> list[tuple[int, float]] | None:
        """The ``post`` plan (module docstring): the answer, or None when the filters' share
        is too small for it (the planner would not scan) or too few fetched ids passed."""
        has, total = self._has, len(self._ids)
        if total == 0 or k <= 0:
            return []
        sample = np.arange(0, len(has), max(1, len(has) // POST_SAMPLE), dtype=np.int64)
        sample = sample[has[sample]]
        share = float(np.count_nonzero(rows.test(sample))) / max(len(sample), 1)
        n_allowed = math.ceil(share * total)
        if n_allowed == 0 or self.plan(n_allowed, total) != "scan":
            return None
        fetch = min(total, math.ceil(k / share * POST_OVERFETCH) + POST_EXTRA)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        params = None
        if self.kind == "ivf":
            params = faiss.SearchParametersIVF(nprobe=self._widened_nprobe(n_allowed, total))
        scores, ids = self._index.search(q, fetch, params=params)
        found = ids[0] != -1
        ids_, scores_ = ids[0][found], scores[0][found]
        passed = rows.test(ids_)
        if np.count_nonzero(passed) < min(k, total) and len(ids_) < total:
            return None
        ids_, scores_ = ids_[passed][:k], scores_[passed][:k]
        return [(int(i), float(c)) for i, c in zip(ids_, scores_, strict=True)]

    def to_bytes(self) -> bytes:
        """The FAISS index (vectors and id map) serialised, for snapshots."""
        with self._lock.read():
            return faiss.serialize_index(self._index).tobytes()  # type: ignore[no-any-return]  # faiss's stubs return Any here

    @classmethod
    def from_bytes(cls, data: bytes, dim: int) -> VectorIndex:
        """Rebuild an index from :meth:`to_bytes`; raises ValueError if it does not fit ``dim``."""
        # read_index already returns the concrete class; downcasting again would make a second
        # wrapper that does not own the C++ object, which the first frees when collected.
        index = faiss.read_index(_reader(data))
        if index.d != dim:
            raise ValueError(f"index has dimension {index.d}, expected {dim}")
        if isinstance(index, faiss.IndexIDMap2):
            out = cls(dim)
            ids = faiss.vector_to_array(index.id_map).tolist()
        elif isinstance(index, faiss.IndexIVFScalarQuantizer):
            out = cls(dim, kind="ivf", nlist=int(index.nlist), nprobe=int(index.nprobe))
            index.set_direct_map_type(faiss.DirectMap.NoMap)  # older snapshots kept a hashtable
            lists = index.invlists
            parts = [np.zeros(0, dtype=np.int64)]
            for list_no in range(index.nlist):
                size = lists.list_size(list_no)
                if size:
                    parts.append(faiss.rev_swig_ptr(lists.get_ids(list_no), size).copy())
            id_arr = np.concatenate(parts)
            ids = id_arr.tolist()
        else:
            raise ValueError(f"unexpected FAISS index type {type(index).__name__}")
        out._index = index
        out._ids = set(ids)
        if len(out._ids) != len(ids) or index.ntotal != len(ids):
            raise ValueError("index id map is inconsistent")
        if out.kind == "flat":
            out._reindex_flat()
        else:
            out._codes_from_lists(int(id_arr.max()) if len(id_arr) else -1)
        return out

    def _codes_from_lists(self, max_id: int) -> None:
        """Fill the exact path's id-indexed codes and list numbers from a loaded IVF's lists."""
        index = self._index
        lists = index.invlists
        code_size = int(lists.code_size)
        if max_id < 0:
            return
        if not self._dense(max_id, len(self._ids)):
            self._sparse()
            return
        self._codes = np.zeros((max_id + 1, code_size), dtype=np.uint8)
        self._list = np.zeros(max_id + 1, dtype=np.int32)
        self._has = np.zeros(max_id + 1, dtype=bool)
        for list_no in range(index.nlist):
            size = lists.list_size(list_no)
            if not size:
                continue
            ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size)
            raw = faiss.rev_swig_ptr(lists.get_codes(list_no), size * code_size)
            self._codes[ids] = raw.reshape(size, code_size)
            self._list[ids] = list_no
            self._has[ids] = True
