"""The columnar fact store: every fact filtering and ranking read, as arrays indexed by row id.

One :class:`FactStore` per collection (candidates or vacancies) replaces a dict of per-row
dataclasses. Per row it holds fixed-width columns (numpy arrays over the id range) and ragged
columns (variable-length lists of interned integer ids, :class:`Ragged`):

- the hard-filter columns (:class:`matching.columns.FilterColumns`, the only filter
  implementation of the product);
- ``terms``: content-term ids, each entry ``term_id << 1 | is_key_term``; a pool's rows become a
  ``scipy.sparse`` CSR matrix of term weights (:meth:`FactStore.term_matrix`);
- ``titles``: interned occupation titles (vacancy: title and occupation; candidate: desired
  occupations), in the row's order;
- ``esco``: interned ESCO links, with per-link arrays of URI id, ISCO id and score;
- ``focus``: interned focus hits, with per-hit arrays of slug id and score;
- everything else a result needs to be shown (external ids, summary fields, skills, languages).

Strings are interned in :class:`Vocab` tables (one entry per distinct string), so memory per row
is a few dozen bytes of array cells plus its term entries. :meth:`FactStore.get` rebuilds a
:class:`~matching.profiles.CandidateFacts` / :class:`~matching.profiles.VacancyFacts` for one
row (for the rows an answer returns, snapshots and consistency checks), and
:meth:`FactStore.facts` offers that as a read-only mapping.

:func:`build_store` is the pure function from rows to a store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import scipy.sparse as sp

from matching.columns import FilterColumns
from matching.focus import FocusHit, prepared_title
from matching.profiles import CandidateFacts, EscoLink, Side, VacancyFacts
from matching.rwlock import ReadWriteLock
from matching.text import GENERIC_TERMS

F = TypeVar("F", CandidateFacts, VacancyFacts)
Kind = Literal["candidate", "vacancy"]

_GROW = 1.5
_NO_INT = np.iinfo(np.int32).min  # "None" in an int32 column


class Vocab:
    """Interned strings: each distinct string gets a dense int id, in order of first use."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.items: list[str] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, s: str) -> int:
        """The id of ``s``, new if unseen."""
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.items)
            self.items.append(s)
        return i

    def add_opt(self, s: str | None) -> int:
        """The id of ``s``, or -1 for None."""
        return -1 if s is None else self.add(s)

    def get(self, s: str | None) -> int:
        """The id of ``s``, or -1 when None or never seen."""
        return -1 if s is None else self.ids.get(s, -1)

    def str_opt(self, i: int) -> str | None:
        return None if i < 0 else self.items[i]


class Ragged:
    """A variable-length list of int32 values per row id, kept in one growing buffer.

    Row ``i`` holds ``values[start[i] : start[i] + length[i]]``. Replacing a row appends its new
    values and leaves the old ones as garbage, which :meth:`_compact` reclaims when it exceeds
    the live values.
    """

    def __init__(self, capacity: int = 16) -> None:
        self.start = np.zeros(capacity, dtype=np.int64)
        self.length = np.zeros(capacity, dtype=np.int32)
        self.values = np.zeros(max(capacity, 16), dtype=np.int32)
        self.used = 0
        self.live = 0

    def ensure_rows(self, size: int) -> None:
        if size <= len(self.start):
            return
        new = max(size, int(len(self.start) * _GROW) + 1)
        self.start = np.concatenate([self.start, np.zeros(new - len(self.start), np.int64)])
        self.length = np.concatenate([self.length, np.zeros(new - len(self.length), np.int32)])

    def _ensure_values(self, extra: int) -> None:
        need = self.used + extra
        if need <= len(self.values):
            return
        if self.used - self.live > self.live:
            self._compact()
            need = self.used + extra
            if need <= len(self.values):
                return
        grown = np.zeros(max(need, int(len(self.values) * _GROW) + 1), dtype=np.int32)
        grown[: self.used] = self.values[: self.used]
        self.values = grown

    def _compact(self) -> None:
        rows = np.flatnonzero(self.length)
        indptr, vals = self.gather(rows)
        self.values = np.zeros(max(len(vals) * 2, 16), dtype=np.int32)
        self.values[: len(vals)] = vals
        self.start[rows] = indptr[:-1]
        self.used = self.live = len(vals)

    def set_many(self, ids: np.ndarray, lists: Sequence[Sequence[int]]) -> None:
        """Replace rows ``ids`` (int64, shape (n,)) with the given lists, in one append."""
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int32, count=len(lists))
        flat = np.fromiter((v for x in lists for v in x), dtype=np.int32, count=int(lengths.sum()))
        self.ensure_rows(int(ids.max()) + 1 if len(ids) else 0)
        uniq = np.unique(ids)
        self._ensure_values(len(flat))  # may compact; the replaced values count as live till here
        self.live -= int(self.length[uniq].sum())
        self.values[self.used : self.used + len(flat)] = flat
        starts = self.used + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.start[ids] = starts
        self.length[ids] = lengths
        self.used += len(flat)
        self.live += int(self.length[uniq].sum())  # a row given twice keeps its last list

    def clear_rows(self, ids: np.ndarray) -> None:
        ids = ids[ids < len(self.length)]
        self.live -= int(self.length[ids].sum())
        self.length[ids] = 0

    def row(self, i: int) -> np.ndarray:
        """Row ``i``'s values (a view; empty for an unknown id)."""
        if i >= len(self.length):
            return self.values[:0]
        s = int(self.start[i])
        return self.values[s : s + int(self.length[i])]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The given rows as CSR parts: ``indptr`` int64 (len(rows)+1,), ``values`` int32."""
        lengths = self.length[rows].astype(np.int64)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        total = int(indptr[-1])
        # positions: start of each row repeated, plus the offset within the row
        pos = np.repeat(self.start[rows] - indptr[:-1], lengths) + np.arange(total)
        return indptr, self.values[pos]

    def nbytes(self) -> int:
        return self.start.nbytes + self.length.nbytes + self.values.nbytes


class _Table:
    """Interned objects with numeric columns per object (ESCO links, focus hits)."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.items: list[Any] = []


# Scalar fields per kind: (attribute, codec). Codecs: "int" int|None → int32; "float"
# float|None → float64 NaN; "bool"; "str" str|None → vocab id (-1 None); "date" → ordinal (0
# None); "strs" tuple[str] → ragged vocab ids; "ext" → object array (per-row, not interned, so
# an erased row leaves nothing behind).
_CANDIDATE_FIELDS = (
    ("external_id", "ext"),
    ("skills", "strs"),
    ("languages", "strs"),
    ("ladder_step", "int"),
    ("client_group", "str"),
    ("active", "bool"),
    ("hours_min", "int"),
    ("hours_max", "int"),
    ("max_travel_km", "float"),
    ("driving_licence", "bool"),
    ("caseworker_id", "str"),
)
_VACANCY_FIELDS = (
    ("employer_id", "str"),
    ("external_id", "ext"),
    ("title", "str"),
    ("skills", "strs"),
    ("languages", "strs"),
    ("hours", "int"),
    ("requires_driving_licence", "bool"),
    ("kind", "str"),
    ("status", "str"),
    ("occupation", "str"),
    ("closes_on", "date"),
)
_DTYPE = {
    "int": np.int32,
    "float": np.float64,
    "bool": np.bool_,
    "str": np.int32,
    "date": np.int32,
    "ext": object,
}
_FILL: dict[str, Any] = {
    "int": _NO_INT,
    "float": np.nan,
    "bool": False,
    "str": -1,
    "date": 0,
    "ext": None,
}


class FactStore(Generic[F]):
    """The facts of one collection as columns indexed by row id (see the module docstring)."""

    def __init__(self, kind: Kind, capacity: int = 1024) -> None:
        self.kind: Kind = kind
        self._fields = _CANDIDATE_FIELDS if kind == "candidate" else _VACANCY_FIELDS
        self.filters = FilterColumns(capacity=capacity)
        self.strings = Vocab()  # skills, languages, groups, kinds, employer ids, ...
        self.term_vocab = Vocab()
        self.term_generic = np.zeros(0, dtype=bool)  # per term id: in GENERIC_TERMS
        self.title_vocab = Vocab()
        self.title_prepared: list[Any] = []  # per title id, for the batch title similarity
        self.uris = Vocab()
        self.iscos = Vocab()
        self.links = _Table()  # EscoLink -> link id
        self.link_uri = np.zeros(0, dtype=np.int32)
        self.link_isco = np.zeros(0, dtype=np.int32)  # -1: no ISCO code
        self.link_score = np.zeros(0, dtype=np.float64)
        self.slugs = Vocab()
        self.hits = _Table()  # FocusHit -> hit id
        self.hit_slug = np.zeros(0, dtype=np.int32)
        self.hit_score = np.zeros(0, dtype=np.float64)
        self.terms = Ragged()
        self.titles = Ragged()
        self.esco = Ragged()
        self.focus = Ragged()
        self.lists: dict[str, Ragged] = {}
        self.present = np.zeros(0, dtype=bool)
        self.lat = np.zeros(0, dtype=np.float64)
        self.lon = np.zeros(0, dtype=np.float64)
        self.cols: dict[str, np.ndarray] = {}
        for name, codec in self._fields:
            if codec == "strs":
                self.lists[name] = Ragged()
            else:
                self.cols[name] = np.zeros(0, dtype=_DTYPE[codec])
        self._count = 0
        self._ensure(capacity)

    # ------------------------------------------------------------ storage

    def _ensure(self, size: int) -> None:
        have = len(self.present)
        if size <= have:
            return
        new = max(size, int(have * _GROW) + 1)

        def grow(a: np.ndarray, fill: Any) -> np.ndarray:
            out = np.full(new, fill, dtype=a.dtype)
            out[:have] = a
            return out

        self.present = grow(self.present, False)
        self.lat = grow(self.lat, np.nan)
        self.lon = grow(self.lon, np.nan)
        for name, codec in self._fields:
            if codec != "strs":
                self.cols[name] = grow(self.cols[name], _FILL[codec])
        for r in (self.terms, self.titles, self.esco, self.focus, *self.lists.values()):
            r.ensure_rows(new)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, i: object) -> bool:
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            return False
        return bool(0 <= i < len(self.present) and self.present[i])

    def ids(self) -> np.ndarray:
        """The ids of the stored rows, ascending (int64)."""
        return np.flatnonzero(self.present).astype(np.int64)

    def nbytes(self) -> int:
        """Bytes held by the array columns (the vocabularies not counted)."""
        arrays = [self.present, self.lat, self.lon, *self.cols.values()]
        ragged = [self.terms, self.titles, self.esco, self.focus, *self.lists.values()]
        return (
            sum(a.nbytes for a in arrays) + sum(r.nbytes() for r in ragged) + self.filters.nbytes()
        )

    def _term_ids(self, side: Side) -> list[int]:
        out = []
        for t in side.terms:
            i = self.term_vocab.add(t)
            out.append(i << 1 | (t in side.key_terms))
        return out

    def _title_ids(self, titles: Sequence[str]) -> list[int]:
        out = []
        for t in titles:
            i = self.title_vocab.add(t)
            if i == len(self.title_prepared):
                self.title_prepared.append(prepared_title(t))
            out.append(i)
        return out

    def _link_id(self, link: EscoLink) -> int:
        i = self.links.ids.get(link)
        if i is None:
            i = self.links.ids[link] = len(self.links.items)
            self.links.items.append(link)
        return i

    def _hit_id(self, hit: FocusHit) -> int:
        i = self.hits.ids.get(hit)
        if i is None:
            i = self.hits.ids[hit] = len(self.hits.items)
            self.hits.items.append(hit)
        return i

    def _sync_tables(self) -> None:
        """Extend the per-term, per-link and per-hit arrays to the interned objects."""
        n = len(self.term_vocab)
        if len(self.term_generic) < n:
            new = [t in GENERIC_TERMS for t in self.term_vocab.items[len(self.term_generic) :]]
            self.term_generic = np.concatenate([self.term_generic, np.array(new, dtype=bool)])
        n = len(self.links.items)
        if len(self.link_uri) < n:
            new_links = self.links.items[len(self.link_uri) :]
            self.link_uri = np.concatenate(
                [self.link_uri, np.array([self.uris.add(x.uri) for x in new_links], np.int32)]
            )
            self.link_isco = np.concatenate(
                [
                    self.link_isco,
                    np.array(
                        [self.iscos.add(x.isco_code) if x.isco_code else -1 for x in new_links],
                        np.int32,
                    ),
                ]
            )
            self.link_score = np.concatenate(
                [self.link_score, np.array([x.score for x in new_links], np.float64)]
            )
        n = len(self.hits.items)
        if len(self.hit_slug) < n:
            new_hits = self.hits.items[len(self.hit_slug) :]
            self.hit_slug = np.concatenate(
                [self.hit_slug, np.array([self.slugs.add(h.slug) for h in new_hits], np.int32)]
            )
            self.hit_score = np.concatenate(
                [self.hit_score, np.array([h.score for h in new_hits], np.float64)]
            )

    def upsert(self, facts: Sequence[F]) -> None:
        """Insert or replace rows (each fact's ``id`` is its row)."""
        if not facts:
            return
        ids = np.fromiter((f.id for f in facts), dtype=np.int64, count=len(facts))
        if ids.min() < 0:
            raise ValueError("row ids must be non-negative")
        self._ensure(int(ids.max()) + 1)
        self._count += int((~self.present[np.unique(ids)]).sum())
        self.present[ids] = True
        sides = [f.side for f in facts]
        self.lat[ids] = [s.location[0] if s.location else np.nan for s in sides]
        self.lon[ids] = [s.location[1] if s.location else np.nan for s in sides]
        self.terms.set_many(ids, [self._term_ids(s) for s in sides])
        self.titles.set_many(ids, [self._title_ids(s.occupations) for s in sides])
        self.esco.set_many(ids, [[self._link_id(x) for x in s.esco] for s in sides])
        self.focus.set_many(ids, [[self._hit_id(h) for h in s.focus] for s in sides])
        for name, codec in self._fields:
            values = [getattr(f, name) for f in facts]
            if codec == "strs":
                self.lists[name].set_many(ids, [[self.strings.add(v) for v in x] for x in values])
            elif codec == "str":
                self.cols[name][ids] = [self.strings.add_opt(v) for v in values]
            elif codec == "int":
                self.cols[name][ids] = [_NO_INT if v is None else v for v in values]
            elif codec == "float":
                self.cols[name][ids] = [np.nan if v is None else v for v in values]
            elif codec == "date":
                self.cols[name][ids] = [0 if v is None else v.toordinal() for v in values]
            else:
                self.cols[name][ids] = values
        self._sync_tables()
        if self.kind == "candidate":
            self.filters.set_candidates(facts)  # type: ignore[arg-type]
        else:
            self.filters.set_vacancies(facts)  # type: ignore[arg-type]

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows (unknown ids are ignored); their per-row values are cleared."""
        idx = np.fromiter((i for i in ids if 0 <= i < len(self.present)), dtype=np.int64)
        idx = idx[self.present[idx]]
        idx = np.unique(idx)
        if not len(idx):
            return
        self._count -= len(idx)
        self.present[idx] = False
        self.lat[idx] = np.nan
        self.lon[idx] = np.nan
        for r in (self.terms, self.titles, self.esco, self.focus, *self.lists.values()):
            r.clear_rows(idx)
        for name, codec in self._fields:
            if codec != "strs":
                self.cols[name][idx] = _FILL[codec]
        self.filters.remove(idx.tolist())

    # ------------------------------------------------------------ rows back as facts

    def side(self, i: int) -> Side:
        """Row ``i``'s ranking side, rebuilt from the columns."""
        entries = self.terms.row(i)
        words = self.term_vocab.items
        ids = (entries >> 1).tolist()
        terms = frozenset([words[t] for t in ids])
        key = frozenset([words[t] for t, k in zip(ids, (entries & 1).tolist(), strict=True) if k])
        lat, lon = float(self.lat[i]), float(self.lon[i])
        return Side(
            occupations=tuple(self.title_vocab.items[int(t)] for t in self.titles.row(i)),
            key_terms=key,
            terms=terms,
            location=None if np.isnan(lat) else (lat, lon),
            focus=tuple(self.hits.items[int(h)] for h in self.focus.row(i)),
            esco=tuple(self.links.items[int(x)] for x in self.esco.row(i)),
        )

    def get(self, i: int) -> F | None:
        """Row ``i`` as a facts object, or None when it is not stored."""
        if i not in self:
            return None
        i = int(i)
        values: dict[str, Any] = {"id": i, "side": self.side(i)}
        for name, codec in self._fields:
            if codec == "strs":
                values[name] = tuple(self.strings.items[int(s)] for s in self.lists[name].row(i))
                continue
            v = self.cols[name][i]
            if codec == "str":
                values[name] = self.strings.str_opt(int(v))
            elif codec == "int":
                values[name] = None if v == _NO_INT else int(v)
            elif codec == "float":
                values[name] = None if np.isnan(v) else float(v)
            elif codec == "date":
                values[name] = None if v == 0 else dt.date.fromordinal(int(v))
            elif codec == "bool":
                values[name] = bool(v)
            else:
                values[name] = v
        cls = CandidateFacts if self.kind == "candidate" else VacancyFacts
        return cls(**values)  # type: ignore[return-value]

    def facts(self, lock: ReadWriteLock | None = None) -> FactsView[F]:
        """A read-only mapping id → facts that rebuilds each row when it is read."""
        return FactsView(self, lock)

    # ------------------------------------------------------------ pools as matrices

    def term_matrix(self, rows: np.ndarray) -> sp.csr_matrix:
        """The pool's lexical evidence: float64 CSR of shape (len(rows), len(term_vocab)).

        Entry (r, t) is the weight term ``t`` has on row ``rows[r]`` alone: 0.25 for a generic
        term, 2 for a key term (occupations, skills), 1 otherwise; absent terms are 0.
        """
        indptr, entries = self.terms.gather(rows)
        term = entries >> 1
        weight = np.where(self.term_generic[term], 0.25, 1.0 + (entries & 1))
        return sp.csr_matrix(
            (weight, term, indptr), shape=(len(rows), max(len(self.term_vocab), 1))
        )


class FactsView(Mapping[int, F]):
    """``FactStore`` rows as a read-only mapping; each read rebuilds the facts object.

    With ``lock`` (the owning collection's readers–writer lock), each read takes its read side,
    so a read never sees a row half-written. Iterating lists the ids present when it starts;
    ``values()`` and ``items()`` skip rows removed since.
    """

    def __init__(self, store: FactStore[F], lock: ReadWriteLock | None = None) -> None:
        self._store: FactStore[F] = store
        self._lock = lock

    def _read(self, i: int) -> F | None:
        if self._lock is None:
            return self._store.get(i)
        with self._lock.read():
            return self._store.get(i)

    def __getitem__(self, i: int) -> F:
        f = self._read(i)
        if f is None:
            raise KeyError(i)
        return f

    def __contains__(self, i: object) -> bool:
        return i in self._store

    def __iter__(self) -> Iterator[int]:
        if self._lock is None:
            return iter(self._store.ids().tolist())
        with self._lock.read():
            return iter(self._store.ids().tolist())

    def __len__(self) -> int:
        return len(self._store)

    def values(self) -> Iterator[F]:  # type: ignore[override]
        for i in self:
            f = self._read(i)
            if f is not None:
                yield f

    def items(self) -> Iterator[tuple[int, F]]:  # type: ignore[override]
        for i in self:
            f = self._read(i)
            if f is not None:
                yield i, f


def build_store(kind: Kind, facts: Sequence[F]) -> FactStore[F]:
    """A fact store holding ``facts`` (a pure function of the rows)."""
    store: FactStore[F] = FactStore(kind, capacity=max((f.id for f in facts), default=0) + 1)
    store.upsert(facts)
    return store
