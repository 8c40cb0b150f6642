"""The fact store as plain arrays: a snapshot round trip gives back the store built from the
rows, a damaged file is refused, and erased rows leave none of their own strings behind (in
memory, in the arrays, in the snapshot file)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matching.facts import FactStore, build_store
from matching.focus import FocusMatcher, FocusOccupation
from matching.profiles import CandidateFacts, EscoLink, VacancyFacts, make_side
from service.state import snapshot as snap

WORDS = ["heftruck", "magazijn", "orderpicken", "rijbewijs", "zorg", "koken", "schoonmaak"]
TITLES = ["heftruckchauffeur", "magazijnmedewerker", "kok", "verzorgende IG", "schoonmaker"]
ESCO = [("esco:forklift", "heftruckchauffeur", "8344"), ("esco:carer", "verzorgende", None)]
FOCUS = FocusMatcher(
    [FocusOccupation("heftruck", "Heftruckchauffeur"), FocusOccupation("kok", "Kok")], 0.85
)
HEADER = {"model_id": "m", "dim": 4, "seq": 1, "candidates": 0, "vacancies": 0, "database": "d"}


def _side(r: random.Random, titles: list[str], own: str) -> Any:
    return make_side(
        occupations=titles,
        skills=r.sample(WORDS, r.randint(0, 2)),
        text=" ".join([*r.choices(WORDS, k=r.randint(0, 12)), own]),
        location=(r.uniform(51.0, 53.4), r.uniform(3.6, 7.1)) if r.random() < 0.8 else None,
        focus=FOCUS,
        esco=[
            EscoLink(uri=u, label=lb, isco_code=c, score=r.choice((1.0, r.random())))
            for u, lb, c in r.sample(ESCO, r.randint(0, 2))
        ],
    )


def _candidate(r: random.Random, i: int) -> CandidateFacts:
    own = f"eigenwoord{i}x"  # a term only this row has
    return CandidateFacts(
        id=i,
        external_id=f"kand-{i}-é",
        side=_side(r, [*r.sample(TITLES, r.randint(0, 2)), f"beroep{i}x"], own),
        skills=(f"vaardigheid{i}x", *r.sample(WORDS, r.randint(0, 2))),
        languages=tuple(r.sample(("nl", "en", "ar"), r.randint(0, 2))),
        ladder_step=r.choice((None, 1, 4)),
        client_group=r.choice((None, "matchen", "zorgen")),
        active=r.random() < 0.9,
        hours_min=r.choice((None, 8)),
        hours_max=r.choice((None, 40)),
        max_travel_km=r.choice((None, 12.5)),
        driving_licence=r.random() < 0.5,
        caseworker_id=r.choice((None, f"cw-{i}x")),
    )


def _vacancy(r: random.Random, i: int) -> VacancyFacts:
    title = r.choice(TITLES)
    return VacancyFacts(
        id=i,
        employer_id=r.choice(("werkgever-a", "werkgever-b")),
        external_id=f"vac-{i}",
        title=title,
        side=_side(r, [title], f"eigenwoord{i}x"),
        skills=tuple(r.sample(WORDS, r.randint(0, 2))),
        languages=("nl",),
        hours=r.choice((None, 32)),
        requires_driving_licence=r.random() < 0.3,
        kind=r.choice(("regular", "volunteer")),
        status=r.choice(("open", "closed")),
        occupation=r.choice((None, "kok")),
        closes_on=r.choice((None, dt.date(2027, 1, 15))),
    )


def _rows(kind: str, r: random.Random, ids: range) -> list[Any]:
    make = _candidate if kind == "candidate" else _vacancy
    return [make(r, i) for i in ids]


def _live(store: FactStore[Any]) -> dict[str, set[Any]]:
    """Every interned value still held, per table."""
    names = ("strings", "term_vocab", "title_vocab", "uris", "iscos", "slugs", "links", "hits")
    return {n: {v for v in getattr(store, n).items if v is not None} for n in names}


def _same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k], equal_nan=True), k


@pytest.mark.parametrize("kind", ["candidate", "vacancy"])
def test_snapshot_round_trip_gives_the_store_built_from_the_rows(kind: str, tmp_path: Path) -> None:
    r = random.Random(13)
    rows = _rows(kind, r, range(1, 301))
    store = build_store(kind, rows)  # type: ignore[arg-type]
    # replaced and removed rows leave garbage and dropped slots the arrays must carry right
    changed = [dataclasses.replace(f, side=_side(r, ["kok"], "nieuw")) for f in rows[:60]]
    store.upsert(changed)
    gone = [f.id for f in rows[100:140]]
    store.remove(gone)
    current = {f.id: f for f in [*rows, *changed] if f.id not in gone}

    path = tmp_path / "s.snap"
    snap.write_snapshot(path, HEADER, {f"x.{k}": v for k, v in store.to_arrays().items()})
    _, payload = snap.read_snapshot(path, model_id="m", dim=4, database="d")
    loaded = FactStore.from_arrays(kind, {k[2:]: v for k, v in payload.items()})  # type: ignore[arg-type]

    _same_arrays(loaded.to_arrays(), store.to_arrays())
    assert len(loaded) == len(current) and loaded.ids().tolist() == sorted(current)
    assert all(loaded.get(i) == f for i, f in current.items())
    fresh = build_store(kind, list(current.values()))  # type: ignore[arg-type]
    assert _live(loaded) == _live(fresh)
    # the loaded store keeps working: the same change on both gives the same rows
    more = _rows(kind, r, range(295, 320))
    loaded.upsert(more)
    fresh.upsert(more)
    loaded.remove([1, 2])
    fresh.remove([1, 2])
    assert loaded.ids().tolist() == fresh.ids().tolist()
    assert all(loaded.get(i) == fresh.get(i) for i in fresh.ids().tolist())
    assert _live(loaded) == _live(fresh)


def test_erased_rows_leave_no_own_string_in_memory_arrays_or_snapshot(tmp_path: Path) -> None:
    r = random.Random(5)
    rows = _rows("candidate", r, range(1, 41))
    store = build_store("candidate", rows)
    erased = rows[7]
    own = [b"eigenwoord8x", b"beroep8x", b"vaardigheid8x", b"cw-8x", b"kand-8-\xc3\xa9"]

    def file_of(s: FactStore[Any]) -> bytes:
        path = tmp_path / "s.snap"
        snap.write_snapshot(path, HEADER, s.to_arrays())  # type: ignore[arg-type]
        return path.read_bytes()

    before = file_of(store)
    wanted = [w for w in own if w != b"cw-8x" or erased.caseworker_id is not None]
    assert [w for w in own if w in before] == wanted  # the check below can fail
    # replacing the row drops its old strings too, and removing it drops the rest
    store.upsert([dataclasses.replace(erased, skills=("heftruck",))])
    assert "vaardigheid8x" not in store.strings.ids and "vaardigheid8x" not in store.strings.items
    store.remove([erased.id])
    assert store.get(erased.id) is None
    for values in _live(store).values():
        assert not any(w.decode() in str(v) for v in values for w in own)
    assert not any(w in file_of(store) for w in own)
    assert not any(w in store.lists["external_id"].values.tobytes() for w in own[4:])
    # what other rows use stays
    assert all(store.get(f.id) == f for f in rows if f.id != erased.id)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip", "checksum"),
        ("truncate", "checksum"),
        ("offset", "outside the file"),
        ("dtype", "object dtype"),
    ],
)
def test_damaged_snapshot_is_refused(tmp_path: Path, damage: str, reason: str) -> None:
    path = tmp_path / "s.snap"
    store = build_store("candidate", _rows("candidate", random.Random(2), range(1, 20)))
    snap.write_snapshot(path, HEADER, store.to_arrays())  # type: ignore[arg-type]
    raw = path.read_bytes()
    if damage == "flip":
        raw = raw[:-50] + bytes([raw[-50] ^ 0x01]) + raw[-49:]
    elif damage == "truncate":
        raw = raw[: len(raw) - 64]
    else:
        head_end = raw.index(b"\n", len(snap.MAGIC))
        header = raw[len(snap.MAGIC) : head_end]
        fields = json.loads(header)
        entry = fields["arrays"]["present"]
        if damage == "offset":
            entry[2] = 10**9
        else:
            entry[0] = "|O"
        new = json.dumps(fields, sort_keys=True).encode()
        assert len(new) <= len(header) + 4000
        rest = raw[-(-(head_end + 1) // 4096) * 4096 :]
        first = snap.MAGIC + new + b"\n"
        raw = first + bytes(-len(first) % 4096) + rest
    path.write_bytes(raw)
    with pytest.raises(snap.SnapshotInvalid, match=reason):
        snap.read_snapshot(path, model_id="m", dim=4, database="d")


def test_arrays_that_do_not_fit_together_are_refused() -> None:
    arrays = build_store("vacancy", _rows("vacancy", random.Random(4), range(1, 10))).to_arrays()
    for name, bad in (
        ("lat", arrays["lat"][:-1]),
        ("terms.values", arrays["terms.values"][:-1]),
        ("col.hours", arrays["col.hours"].astype(np.int64)),
        ("term_vocab.len", arrays["term_vocab.len"][:-1]),
    ):
        with pytest.raises(ValueError):
            FactStore.from_arrays("vacancy", arrays | {name: bad})
