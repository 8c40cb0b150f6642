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

:func:`build_store` is the pure function from rows to a store; :meth:`FactStore.to_arrays` and
:meth:`FactStore.from_arrays` turn a store into plain numpy arrays and back (snapshots), without
building an object per row.

Privacy: every interned entry counts the live rows (or links and hits) that use it. When a row
is replaced or removed and an entry's count drops to zero, the string (and the objects built
from it) is dropped at once: the slot keeps its id but holds ``None``. So an erased candidate's
own terms, titles and ESCO or focus matches leave memory with the row, and never reach a later
snapshot; its external id, a per-row byte string, is overwritten with zeros.
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
T = TypeVar("T")
Kind = Literal["candidate", "vacancy"]

_GROW = 1.5
_NO_INT = np.iinfo(np.int32).min  # "None" in an int32 column


class Interned(Generic[T]):
    """Interned values: each distinct value gets a dense int id, in order of first use.

    ``refs`` counts the uses of each id (kept by the owning store); a dropped id keeps its slot
    with ``None`` in ``items`` and is never handed out again.
    """

    def __init__(self) -> None:
        self.ids: dict[T, int] = {}
        self.items: list[T | None] = []
        self.refs = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.items)

    def add(self, s: T) -> int:
        """The id of ``s``, new if unseen."""
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.items)
            self.items.append(s)
        return i

    def add_opt(self, s: T | None) -> int:
        """The id of ``s``, or -1 for None."""
        return -1 if s is None else self.add(s)

    def get(self, s: T | None) -> int:
        """The id of ``s``, or -1 when None or never seen."""
        return -1 if s is None else self.ids.get(s, -1)

    def str_opt(self, i: int) -> T | None:
        return None if i < 0 else self.items[i]

    def live(self, i: int) -> T:
        """The value of id ``i``, which a row still uses.

        Raises:
            KeyError: ``i`` was dropped (no row uses it any more).
        """
        value = self.items[i]
        if value is None:
            raise KeyError(f"interned id {i} was dropped")
        return value

    def counts(self) -> np.ndarray:
        """The use count of every id (int64, one per entry of ``items``)."""
        if len(self.refs) < len(self.items):
            self.refs = np.concatenate(
                [self.refs, np.zeros(len(self.items) - len(self.refs), np.int64)]
            )
        return self.refs

    def count(self, values: np.ndarray, delta: int) -> None:
        """Add ``delta`` to the use count of each id in ``values`` (ids < 0 are ignored)."""
        self.counts()
        v = np.asarray(values, dtype=np.int64)
        v = v[v >= 0]
        if len(v):
            np.add.at(self.refs, v, delta)

    def unused(self, among: np.ndarray) -> np.ndarray:
        """Ids from ``among`` whose count is zero and that are not dropped yet (int64)."""
        a = np.unique(np.asarray(among, dtype=np.int64))
        a = a[(a >= 0) & (a < len(self.refs))]
        a = a[self.refs[a] <= 0]
        return np.array([i for i in a.tolist() if self.items[i] is not None], dtype=np.int64)

    def drop(self, ids: np.ndarray) -> None:
        """Forget the strings of ``ids`` (their slots stay, holding None)."""
        for i in ids.tolist():
            s = self.items[i]
            if s is not None:
                del self.ids[s]
                self.items[i] = None


class Vocab(Interned[str]):
    """Interned strings."""

    @staticmethod
    def pack(items: Sequence[str | None], prefix: str) -> dict[str, np.ndarray]:
        """Strings as one UTF-8 buffer plus lengths in characters (-1: None)."""
        return {
            f"{prefix}.text": np.frombuffer(
                "".join(s for s in items if s is not None).encode(), dtype=np.uint8
            ).copy(),
            f"{prefix}.len": np.array([-1 if s is None else len(s) for s in items], np.int64),
        }

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The strings as one UTF-8 buffer plus per-id lengths in characters (-1: dropped)."""
        out = self.pack(self.items, prefix)
        out[f"{prefix}.refs"] = self.counts().copy()
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> Vocab:
        out = cls()
        out.items = unpack_strings(arrays[f"{prefix}.text"], arrays[f"{prefix}.len"])
        out.ids = {s: i for i, s in enumerate(out.items) if s is not None}
        out.refs = np.array(arrays[f"{prefix}.refs"], dtype=np.int64)
        if len(out.refs) != len(out.items):
            raise ValueError(f"{prefix}: {len(out.refs)} counts for {len(out.items)} strings")
        return out


def _owned(a: np.ndarray) -> np.ndarray:
    """``a`` itself when it is a writable array owning its memory, else a copy (of a memory
    map or another array's view): a store's columns change in place."""
    return a if a.flags.writeable and a.flags.owndata else np.array(a)


def unpack_strings(text: np.ndarray, lengths: np.ndarray) -> list[str | None]:
    """Strings from a UTF-8 buffer and lengths in characters (-1: None)."""
    joined = text.tobytes().decode()
    lens = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(np.maximum(lens, 0)).tolist()
    if (ends[-1] if ends else 0) != len(joined):
        raise ValueError("string buffer and lengths disagree")
    out: list[str | None] = []
    start = 0
    for n, end in zip(lens.tolist(), ends, strict=True):
        out.append(None if n < 0 else joined[start:end])
        start = end
    return out


class Ragged:
    """A variable-length list of values per row id (int32, or uint8 for byte strings), kept in
    one growing buffer.

    Row ``i`` holds ``values[start[i] : start[i] + length[i]]``. Replacing a row appends its new
    values and leaves the old ones as garbage, which :meth:`_compact` reclaims when it exceeds
    the live values. With ``scrub``, a replaced or cleared row's old values are overwritten with
    zeros at once (for personal data such as external ids).
    """

    def __init__(self, capacity: int = 16, dtype: type = np.int32, scrub: bool = False) -> None:
        self.dtype = np.dtype(dtype)
        self.scrub = scrub
        self.start = np.zeros(capacity, dtype=np.int64)
        self.length = np.zeros(capacity, dtype=np.int32)
        self.values = np.zeros(max(capacity, 16), dtype=self.dtype)
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
        grown = np.zeros(max(need, int(len(self.values) * _GROW) + 1), dtype=self.dtype)
        grown[: self.used] = self.values[: self.used]
        self.values = grown

    def _compact(self) -> None:
        start, vals = self._packed(spare=self.live)
        self.values = vals
        self.start = start
        self.used = self.live = int(self.length.sum())

    def _packed(self, spare: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The live values without garbage, rows in id order, gathered block by block (so the
        only large allocation is the result): new ``start`` (int64) and ``values`` (with
        ``spare`` zeroed entries at the end)."""
        lengths = self.length.astype(np.int64)
        start = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=start[1:])
        total = int(lengths.sum())
        vals = np.zeros(max(total + spare, 16 if spare else total), dtype=self.dtype)
        block = 1 << 16
        for lo in range(0, len(lengths), block):
            rows = np.arange(lo, min(lo + block, len(lengths)))
            rows = rows[lengths[rows] > 0]
            if len(rows):
                _, v = self.gather(rows)
                vals[start[rows[0]] : start[rows[0]] + len(v)] = v
        return start, vals

    def _old_positions(self, ids: np.ndarray) -> np.ndarray:
        lengths = self.length[ids].astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return np.repeat(self.start[ids] - offsets, lengths) + np.arange(int(lengths.sum()))

    def set_many(self, ids: np.ndarray, lists: Sequence[Sequence[int]] | np.ndarray) -> None:
        """Replace rows ``ids`` (int64, shape (n,), no repeats) with the given lists, in one
        append."""
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int32, count=len(lists))
        flat = np.fromiter(
            (v for x in lists for v in x), dtype=self.dtype, count=int(lengths.sum())
        )
        self.ensure_rows(int(ids.max()) + 1 if len(ids) else 0)
        if self.scrub:
            self.values[self._old_positions(ids)] = 0
        self._ensure_values(len(flat))  # may compact; the replaced values count as live till here
        self.live -= int(self.length[ids].sum())
        self.values[self.used : self.used + len(flat)] = flat
        starts = self.used + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.start[ids] = starts
        self.length[ids] = lengths
        self.used += len(flat)
        self.live += int(lengths.sum())

    def clear_rows(self, ids: np.ndarray) -> None:
        ids = ids[ids < len(self.length)]
        if self.scrub:
            self.values[self._old_positions(ids)] = 0
        self.live -= int(self.length[ids].sum())
        self.length[ids] = 0

    def row(self, i: int) -> np.ndarray:
        """Row ``i``'s values (a view; empty for an unknown id)."""
        if i >= len(self.length):
            return self.values[:0]
        s = int(self.start[i])
        return self.values[s : s + int(self.length[i])]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The given rows as CSR parts: ``indptr`` int64 (len(rows)+1,), ``values``."""
        lengths = self.length[rows].astype(np.int64)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        total = int(indptr[-1])
        # positions: start of each row repeated, plus the offset within the row
        pos = np.repeat(self.start[rows] - indptr[:-1], lengths) + np.arange(total)
        return indptr, self.values[pos]

    def nbytes(self) -> int:
        return self.start.nbytes + self.length.nbytes + self.values.nbytes

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """A packed copy: per-row ``length`` (int32) and the live ``values`` in id order."""
        _, vals = self._packed()
        return {f"{prefix}.length": self.length.copy(), f"{prefix}.values": vals}

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, np.ndarray], prefix: str, dtype: type = np.int32, **kw: Any
    ) -> Ragged:
        out = cls(0, dtype=dtype, **kw)
        out.length = _owned(np.asarray(arrays[f"{prefix}.length"], dtype=np.int32))
        vals = np.asarray(arrays[f"{prefix}.values"])
        if vals.dtype != out.dtype or int(out.length.astype(np.int64).sum()) != len(vals):
            raise ValueError(f"{prefix}: lengths and values disagree")
        out.values = _owned(vals) if len(vals) else np.zeros(16, dtype=out.dtype)
        out.start = np.zeros(len(out.length), dtype=np.int64)
        np.cumsum(out.length[:-1], out=out.start[1:])
        out.used = out.live = len(vals)
        return out


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
}
_FILL: dict[str, Any] = {
    "int": _NO_INT,
    "float": np.nan,
    "bool": False,
    "str": -1,
    "date": 0,
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
        self.uris = Vocab()  # counted per link
        self.iscos = Vocab()  # counted per link
        self.links: Interned[EscoLink] = Interned()  # counted per row
        self.link_uri = np.zeros(0, dtype=np.int32)
        self.link_isco = np.zeros(0, dtype=np.int32)  # -1: no ISCO code
        self.link_score = np.zeros(0, dtype=np.float64)
        self.slugs = Vocab()  # counted per hit
        self.hits: Interned[FocusHit] = Interned()  # counted per row
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
            elif codec == "ext":
                self.lists[name] = Ragged(dtype=np.uint8, scrub=True)
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
        for name in self.cols:
            self.cols[name] = grow(self.cols[name], _FILL[self._codec(name)])
        for r in self._ragged():
            r.ensure_rows(new)

    def _codec(self, name: str) -> str:
        return dict(self._fields)[name]

    def _ragged(self) -> list[Ragged]:
        return [self.terms, self.titles, self.esco, self.focus, *self.lists.values()]

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
        return (
            sum(a.nbytes for a in arrays)
            + sum(r.nbytes() for r in self._ragged())
            + self.filters.nbytes()
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

    def _sync_tables(self) -> None:
        """Extend the per-term, per-link and per-hit arrays to the interned objects."""
        n = len(self.term_vocab)
        if len(self.term_generic) < n:
            new = [t in GENERIC_TERMS for t in self.term_vocab.items[len(self.term_generic) :]]
            self.term_generic = np.concatenate([self.term_generic, np.array(new, dtype=bool)])
        n = len(self.links.items)
        if len(self.link_uri) < n:
            new_links = [x for x in self.links.items[len(self.link_uri) :] if x is not None]
            uri = np.array([self.uris.add(x.uri) for x in new_links], np.int32)
            isco = np.array(
                [self.iscos.add(x.isco_code) if x.isco_code else -1 for x in new_links], np.int32
            )
            self.uris.count(uri, 1)
            self.iscos.count(isco, 1)
            self.link_uri = np.concatenate([self.link_uri, uri])
            self.link_isco = np.concatenate([self.link_isco, isco])
            self.link_score = np.concatenate(
                [self.link_score, np.array([x.score for x in new_links], np.float64)]
            )
        n = len(self.hits.items)
        if len(self.hit_slug) < n:
            new_hits = [h for h in self.hits.items[len(self.hit_slug) :] if h is not None]
            slug = np.array([self.slugs.add(h.slug) for h in new_hits], np.int32)
            self.slugs.count(slug, 1)
            self.hit_slug = np.concatenate([self.hit_slug, slug])
            self.hit_score = np.concatenate(
                [self.hit_score, np.array([h.score for h in new_hits], np.float64)]
            )

    # ------------------------------------------------------------ use counts

    def _uses(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The interned ids rows ``ids`` use now, per table (for counting)."""
        strings = [self.cols[n][ids] for n, c in self._fields if c == "str"]
        strings += [self.lists[n].gather(ids)[1] for n, c in self._fields if c == "strs"]
        return {
            "term": self.terms.gather(ids)[1] >> 1,
            "title": self.titles.gather(ids)[1],
            "link": self.esco.gather(ids)[1],
            "hit": self.focus.gather(ids)[1],
            "string": np.concatenate(strings) if strings else np.zeros(0, np.int32),
        }

    def _tables(self) -> dict[str, Interned[Any]]:
        return {
            "term": self.term_vocab,
            "title": self.title_vocab,
            "link": self.links,
            "hit": self.hits,
            "string": self.strings,
        }

    def _count_uses(self, uses: dict[str, np.ndarray], delta: int) -> None:
        for name, table in self._tables().items():
            table.count(uses[name], delta)

    def _drop_unused(self, released: dict[str, np.ndarray]) -> None:
        """Drop what no row uses any more among the ``released`` ids (see the module docstring)."""
        tables = self._tables()
        for name, among in released.items():
            gone = tables[name].unused(among)
            if not len(gone):
                continue
            tables[name].drop(gone)
            if name == "title":
                for i in gone.tolist():
                    self.title_prepared[i] = None
            elif name == "link":
                uri, isco = self.link_uri[gone], self.link_isco[gone]
                self.uris.count(uri, -1)
                self.iscos.count(isco, -1)
                self.uris.drop(self.uris.unused(uri))
                self.iscos.drop(self.iscos.unused(isco))
            elif name == "hit":
                slug = self.hit_slug[gone]
                self.slugs.count(slug, -1)
                self.slugs.drop(self.slugs.unused(slug))

    # ------------------------------------------------------------ changes

    def upsert(self, facts: Sequence[F]) -> None:
        """Insert or replace rows (each fact's ``id`` is its row; of repeats, the last wins)."""
        if not facts:
            return
        if len({f.id for f in facts}) != len(facts):
            facts = list({f.id: f for f in facts}.values())
        ids = np.fromiter((f.id for f in facts), dtype=np.int64, count=len(facts))
        if ids.min() < 0:
            raise ValueError("row ids must be non-negative")
        self._ensure(int(ids.max()) + 1)
        replaced = ids[self.present[ids]]
        released = self._uses(replaced)
        self._count += len(ids) - len(replaced)
        self.present[ids] = True
        sides = [f.side for f in facts]
        self.lat[ids] = [s.location[0] if s.location else np.nan for s in sides]
        self.lon[ids] = [s.location[1] if s.location else np.nan for s in sides]
        self.terms.set_many(ids, [self._term_ids(s) for s in sides])
        self.titles.set_many(ids, [self._title_ids(s.occupations) for s in sides])
        self.esco.set_many(ids, [[self.links.add(x) for x in s.esco] for s in sides])
        self.focus.set_many(ids, [[self.hits.add(h) for h in s.focus] for s in sides])
        for name, codec in self._fields:
            values = [getattr(f, name) for f in facts]
            if codec == "strs":
                self.lists[name].set_many(ids, [[self.strings.add(v) for v in x] for x in values])
            elif codec == "ext":
                self.lists[name].set_many(ids, [v.encode() for v in values])
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
        self._count_uses(self._uses(ids), 1)
        self._count_uses(released, -1)
        self._drop_unused(released)
        if self.kind == "candidate":
            self.filters.set_candidates(facts)  # type: ignore[arg-type]  # a candidate store holds CandidateFacts only
        else:
            self.filters.set_vacancies(facts)  # type: ignore[arg-type]  # a vacancy store holds VacancyFacts only

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows (unknown ids are ignored); their per-row values are cleared, and interned
        strings no other row uses are dropped."""
        idx = np.fromiter((i for i in ids if 0 <= i < len(self.present)), dtype=np.int64)
        idx = idx[self.present[idx]]
        idx = np.unique(idx)
        if not len(idx):
            return
        released = self._uses(idx)
        self._count -= len(idx)
        self.present[idx] = False
        self.lat[idx] = np.nan
        self.lon[idx] = np.nan
        for r in self._ragged():
            r.clear_rows(idx)
        for name in self.cols:
            self.cols[name][idx] = _FILL[self._codec(name)]
        self.filters.remove(idx.tolist())
        self._count_uses(released, -1)
        self._drop_unused(released)

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
            occupations=tuple(self.title_vocab.live(int(t)) for t in self.titles.row(i)),
            key_terms=key,
            terms=terms,
            location=None if np.isnan(lat) else (lat, lon),
            focus=tuple(self.hits.items[int(h)] for h in self.focus.row(i)),  # type: ignore[misc]  # a row's ids point at live entries, never None
            esco=tuple(self.links.items[int(x)] for x in self.esco.row(i)),  # type: ignore[misc]  # a row's ids point at live entries, never None
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
            if codec == "ext":
                values[name] = self.lists[name].row(i).tobytes().decode()
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
            else:
                values[name] = bool(v)
        cls = CandidateFacts if self.kind == "candidate" else VacancyFacts
        return cls(**values)  # type: ignore[return-value]  # the class of the store's kind, which is F

    def get_many(self, rows: Sequence[int] | np.ndarray) -> list[F]:
        """The given stored rows as facts objects, equal to :meth:`get` of each (raises
        KeyError for a row not stored). Each column is read once for all rows, so an answer's
        rows cost list operations, not a numpy read per field and row."""
        ids = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(ids) and not (
            int(ids.min()) >= 0 and int(ids.max()) < len(self.present) and self.present[ids].all()
        ):
            raise KeyError([int(i) for i in ids if i not in self])
        n = len(ids)

        def split(r: Ragged) -> list[list[int]]:
            indptr, values = r.gather(ids)
            flat, at = values.tolist(), indptr.tolist()
            return [flat[at[k] : at[k + 1]] for k in range(n)]

        words, titles = self.term_vocab.items, self.title_vocab
        hits, links = self.hits.items, self.links.items
        lat, lon = self.lat[ids].tolist(), self.lon[ids].tolist()
        sides = []
        for entries, title_ids, focus, esco, y, x in zip(
            split(self.terms), split(self.titles), split(self.focus), split(self.esco), lat, lon,
            strict=True,
        ):  # fmt: skip
            sides.append(
                Side(
                    occupations=tuple(titles.live(t) for t in title_ids),
                    key_terms=frozenset([words[e >> 1] for e in entries if e & 1]),
                    terms=frozenset([words[e >> 1] for e in entries]),
                    location=None if y != y else (y, x),  # NaN: no location
                    focus=tuple(hits[h] for h in focus),
                    esco=tuple(links[k] for k in esco),
                )
            )
        values: list[dict[str, Any]] = [
            {"id": i, "side": side} for i, side in zip(ids.tolist(), sides, strict=True)
        ]
        strings = self.strings.items
        for name, codec in self._fields:
            if codec == "strs":
                column: list[Any] = [tuple(strings[s] for s in x) for x in split(self.lists[name])]
            elif codec == "ext":
                indptr, raw = self.lists[name].gather(ids)
                data, at = raw.tobytes(), indptr.tolist()
                column = [data[at[k] : at[k + 1]].decode() for k in range(n)]
            else:
                cells = self.cols[name][ids].tolist()
                if codec == "str":
                    column = [None if v < 0 else strings[v] for v in cells]
                elif codec == "int":
                    column = [None if v == _NO_INT else v for v in cells]
                elif codec == "float":
                    column = [None if v != v else v for v in cells]  # NaN: None
                elif codec == "date":
                    column = [None if v == 0 else dt.date.fromordinal(v) for v in cells]
                else:
                    column = [bool(v) for v in cells]
            for row, v in zip(values, column, strict=True):
                row[name] = v
        cls = CandidateFacts if self.kind == "candidate" else VacancyFacts
        return [cls(**v) for v in values]  # type: ignore[misc]

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

    # ------------------------------------------------------------ as plain arrays

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole store as named numpy arrays (copies), for a snapshot.

        Fixed-width columns are over the id range; ragged columns are ``<name>.length`` (int32
        per row) and ``<name>.values`` (packed in id order); string tables are one UTF-8 buffer
        and per-entry lengths (:meth:`Vocab.to_arrays`); ESCO links and focus hits are columns
        of ids into string tables. Nothing is pickled.
        """
        out: dict[str, np.ndarray] = {
            "present": self.present.copy(),
            "lat": self.lat.copy(),
            "lon": self.lon.copy(),
            "term_generic": self.term_generic.copy(),
            "link_uri": self.link_uri.copy(),
            "link_isco": self.link_isco.copy(),
            "link_score": self.link_score.copy(),
            "hit_slug": self.hit_slug.copy(),
            "hit_score": self.hit_score.copy(),
        }
        for name, a in self.cols.items():
            out[f"col.{name}"] = a.copy()
        for name, r in (
            ("terms", self.terms),
            ("titles", self.titles),
            ("esco", self.esco),
            ("focus", self.focus),
            *((f"list.{n}", r) for n, r in self.lists.items()),
        ):
            out |= r.to_arrays(name)
        for name in ("strings", "term_vocab", "title_vocab", "uris", "iscos", "slugs"):
            out |= getattr(self, name).to_arrays(name)
        links = self.links.items
        out["link_refs"] = self.links.counts().copy()
        out |= Vocab.pack([None if x is None else x.label for x in links], "link_label")
        hits = self.hits.items
        out["hit_refs"] = self.hits.counts().copy()
        for field in ("name", "label", "matched", "via"):
            out |= Vocab.pack(
                [None if h is None else getattr(h, field) for h in hits], f"hit_{field}"
            )
        out |= {f"filters.{k}": v for k, v in self.filters.to_arrays().items()}
        return out

    @classmethod
    def from_arrays(cls, kind: Kind, arrays: Mapping[str, np.ndarray]) -> FactStore[Any]:
        """A store from :meth:`to_arrays`; raises ValueError when the arrays do not fit.

        Builds no object per row: the arrays are taken over (copied when read-only, such as a
        memory map) and only the interned tables become Python strings again.
        """

        def arr(name: str, dtype: Any) -> np.ndarray:
            a = np.asarray(arrays[name])
            if a.dtype != np.dtype(dtype):
                raise ValueError(f"{name}: dtype {a.dtype}, expected {np.dtype(dtype)}")
            return _owned(a)

        store: FactStore[Any] = cls(kind, capacity=0)
        store.present = arr("present", bool)
        n = len(store.present)
        store.lat, store.lon = arr("lat", np.float64), arr("lon", np.float64)
        for name, codec in store._fields:
            if codec == "strs":
                store.lists[name] = Ragged.from_arrays(arrays, f"list.{name}")
            elif codec == "ext":
                store.lists[name] = Ragged.from_arrays(
                    arrays, f"list.{name}", dtype=np.uint8, scrub=True
                )
            else:
                store.cols[name] = arr(f"col.{name}", _DTYPE[codec])
        for name in ("terms", "titles", "esco", "focus"):
            setattr(store, name, Ragged.from_arrays(arrays, name))
        for name in ("strings", "term_vocab", "title_vocab", "uris", "iscos", "slugs"):
            setattr(store, name, Vocab.from_arrays(arrays, name))
        store.term_generic = arr("term_generic", bool)
        store.title_prepared = [
            None if t is None else prepared_title(t) for t in store.title_vocab.items
        ]
        store.link_uri, store.link_isco = arr("link_uri", np.int32), arr("link_isco", np.int32)
        store.link_score = arr("link_score", np.float64)
        labels = unpack_strings(arrays["link_label.text"], arrays["link_label.len"])
        links: Interned[EscoLink] = Interned()
        for i, label in enumerate(labels):
            links.items.append(
                None
                if label is None
                else EscoLink(
                    uri=store.uris.items[int(store.link_uri[i])],  # type: ignore[arg-type]  # a stored link points at a live uri entry
                    label=label,
                    isco_code=store.iscos.str_opt(int(store.link_isco[i])),
                    score=float(store.link_score[i]),
                )
            )
        links.ids = {x: i for i, x in enumerate(links.items) if x is not None}
        links.refs = arr("link_refs", np.int64)
        store.links = links
        store.hit_slug, store.hit_score = arr("hit_slug", np.int32), arr("hit_score", np.float64)
        fields = {
            f: unpack_strings(arrays[f"hit_{f}.text"], arrays[f"hit_{f}.len"])
            for f in ("name", "label", "matched", "via")
        }
        hits: Interned[FocusHit] = Interned()
        for i, hit_name in enumerate(fields["name"]):
            hits.items.append(
                None
                if hit_name is None
                else FocusHit(
                    slug=store.slugs.items[int(store.hit_slug[i])],  # type: ignore[arg-type]  # a stored hit points at a live slug entry
                    name=hit_name,
                    label=fields["label"][i],  # type: ignore[arg-type]  # only the name of a hit may be None, as written
                    matched=fields["matched"][i],  # type: ignore[arg-type]  # only the name of a hit may be None, as written
                    score=float(store.hit_score[i]),
                    via=fields["via"][i],  # type: ignore[arg-type]  # written from a FocusHit's via, one of its literals
                )
            )
        hits.ids = {h: i for i, h in enumerate(hits.items) if h is not None}
        hits.refs = arr("hit_refs", np.int64)
        store.hits = hits
        store.filters = FilterColumns.from_arrays(
            {k[len("filters.") :]: v for k, v in arrays.items() if k.startswith("filters.")}
        )
        sizes = {len(store.lat), len(store.lon), *(len(c) for c in store.cols.values())}
        sizes |= {len(r.length) for r in store._ragged()}
        if sizes != {n}:
            raise ValueError(f"columns of different lengths: {sorted(sizes)} rows")
        tables = {
            "term_generic": (len(store.term_generic), len(store.term_vocab)),
            "links": (len(store.link_uri), len(links.items)),
            "hits": (len(store.hit_slug), len(hits.items)),
        }
        for name, (got, want) in tables.items():
            if got != want:
                raise ValueError(f"{name}: {got} entries for {want} interned values")
        store._count = int(np.count_nonzero(store.present))
        return store


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

    def values(self) -> Iterator[F]:  # type: ignore[override]  # an iterator, not a view: rows change under readers
        for i in self:
            f = self._read(i)
            if f is not None:
                yield f

    def items(self) -> Iterator[tuple[int, F]]:  # type: ignore[override]  # an iterator, not a view: rows change under readers
        for i in self:
            f = self._read(i)
            if f is not None:
                yield i, f


def build_store(kind: Kind, facts: Sequence[F]) -> FactStore[F]:
    """A fact store holding ``facts`` (a pure function of the rows)."""
    store: FactStore[F] = FactStore(kind, capacity=max((f.id for f in facts), default=0) + 1)
    store.upsert(facts)
    return store
