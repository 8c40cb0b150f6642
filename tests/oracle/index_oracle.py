"""The reference of the index's exact path: brute force over the stored vectors.

Before the exact path scored gathered SQ8 codes with FAISS's scanner
(:meth:`matching.index.VectorIndex._score_codes`), it decoded them to float32 and took inner
products; that decoding is kept here, reading the rows from FAISS's own structures (the IVF
lists, the flat index's rows) rather than from the index's id-indexed copies, so a fault in
those copies shows. Tests (tests/matching/test_index_oracle.py) check that ``search(..., plan=
"exact")`` gives the same ids in the same order with scores within 1e-6.
"""

from __future__ import annotations

import faiss
import numpy as np

from matching.index import VectorIndex


def stored_vectors(index: VectorIndex) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64 (n,), vectors float32 (n, dim)) as the index stores them (decoded for IVF)."""
    inner = index._index
    if index.kind == "flat":
        ids = faiss.vector_to_array(inner.id_map).astype(np.int64)
        flat = faiss.downcast_index(inner.index)
        xb = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * index.dim).reshape(-1, index.dim)
        return ids, xb.copy()
    lists = inner.invlists
    quantizer = faiss.downcast_index(inner.quantizer)
    centroids = faiss.rev_swig_ptr(quantizer.get_xb(), inner.nlist * index.dim)
    centroids = centroids.reshape(inner.nlist, index.dim)
    all_ids, all_vecs = [np.zeros(0, np.int64)], [np.zeros((0, index.dim), np.float32)]
    for list_no in range(inner.nlist):
        size = lists.list_size(list_no)
        if not size:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size).astype(np.int64)
        codes = faiss.rev_swig_ptr(lists.get_codes(list_no), size * lists.code_size).copy()
        residual = np.empty((size, index.dim), dtype=np.float32)
        inner.sq.decode_c(faiss.swig_ptr(codes), faiss.swig_ptr(residual), size)
        all_ids.append(ids)
        all_vecs.append(residual + centroids[list_no])
    return np.concatenate(all_ids), np.concatenate(all_vecs)


def exact_search(
    index: VectorIndex, query: np.ndarray, k: int, allowed: np.ndarray
) -> list[tuple[int, float]]:
    """Top ``k`` (id, score) of the stored rows whose ids are in ``allowed`` (int64 ids or a
    boolean mask over the id range), best first, ties by id."""
    ids, vecs = stored_vectors(index)
    if allowed.dtype == np.bool_:
        keep = (ids < len(allowed)) & allowed[np.minimum(ids, max(len(allowed) - 1, 0))]
    else:
        keep = np.isin(ids, allowed)
    ids, vecs = ids[keep], vecs[keep]
    scores = vecs.astype(np.float64) @ np.asarray(query, dtype=np.float64)
    order = np.lexsort((ids, -scores))[:k]
    return [(int(ids[i]), float(scores[i])) for i in order]
