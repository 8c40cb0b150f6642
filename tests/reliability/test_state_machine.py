"""Property test: random upserts, deletes, focus changes, snapshots, damaged snapshots and
restarts of two processes' index states; after every step each index equals the database.

Real database (both backends), real model, real FAISS. Examples share one database, so each
example uses its own id prefix and the model of what must be indexed is per example.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlmodel import Session

from matching.embedder import Encoder
from matching.geo import default_locator
from service.config import Settings
from service.state.index_state import IndexState
from service.state.snapshot import snapshot_path
from service.store import crud
from service.store.db import make_engine
from service.store.models import CandidateIn, FocusOccupationIn, VacancyIn
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, HEFTRUCK_FOCUS, candidate, vacancy

KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
CVS = st.sampled_from([FORKLIFT_CV, CARE_CV, CATERING_CV])
PROCESSES = st.sampled_from([0, 1])
_examples = itertools.count()


def test_index_always_equals_database(settings: Settings, encoder: Encoder) -> None:
    engine = make_engine(settings.resolved_database_url())
    snap_file: Path = snapshot_path(settings.data_dir, encoder.model_id)

    def new_state() -> IndexState:
        state = IndexState(
            engine, encoder, default_locator(), settings.focus_threshold, data_dir=settings.data_dir
        )
        state.start()
        return state

    class IndexMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.prefix = f"x{next(_examples)}-"
            self.candidates: set[str] = set()
            self.vacancies: set[str] = set()
            self.states = [new_state(), new_state()]

        @rule(key=KEYS, cv=CVS, active=st.booleans())
        def upsert_candidate(self, key: str, cv: str, active: bool) -> None:
            with Session(engine) as s:
                crud.upsert_many(
                    session=s,
                    kind=crud.CANDIDATES,
                    items=[
                        (
                            {"external_id": self.prefix + key},
                            CandidateIn(**candidate(cv, active=active)),
                        )
                    ],
                    encoder=encoder,
                )
            self.candidates.add(self.prefix + key)

        @rule(key=KEYS)
        def delete_candidate(self, key: str) -> None:
            with Session(engine) as s:
                existed = crud.delete_row(
                    session=s, kind=crud.CANDIDATES, key={"external_id": self.prefix + key}
                )
            assert existed == (self.prefix + key in self.candidates)
            self.candidates.discard(self.prefix + key)

        @rule(key=KEYS, hours=st.integers(8, 40))
        def upsert_vacancy(self, key: str, hours: int) -> None:
            with Session(engine) as s:
                crud.upsert_many(
                    session=s,
                    kind=crud.VACANCIES,
                    items=[
                        (
                            {"employer_id": "e", "external_id": self.prefix + key},
                            VacancyIn(**vacancy(hours_per_week=hours)),
                        )
                    ],
                    encoder=encoder,
                )
            self.vacancies.add(self.prefix + key)

        @rule(key=KEYS)
        def delete_vacancy(self, key: str) -> None:
            with Session(engine) as s:
                crud.delete_row(
                    session=s,
                    kind=crud.VACANCIES,
                    key={"employer_id": "e", "external_id": self.prefix + key},
                )
            self.vacancies.discard(self.prefix + key)

        @rule(on=st.booleans())
        def focus(self, on: bool) -> None:
            with Session(engine) as s:
                if on:
                    crud.upsert_focus(
                        session=s, slug="heftruck", data=FocusOccupationIn(**HEFTRUCK_FOCUS)
                    )
                else:
                    crud.delete_focus(session=s, slug="heftruck")

        @rule(p=PROCESSES, force=st.booleans())
        def snapshot(self, p: int, force: bool) -> None:
            self.states[p].write_snapshot(force=force)

        @rule(p=PROCESSES)
        def restart(self, p: int) -> None:
            self.states[p] = new_state()

        @rule(offset=st.integers(0, 10_000))
        def damage_snapshot(self, offset: int) -> None:
            if snap_file.exists():
                raw = bytearray(snap_file.read_bytes())
                raw[offset % len(raw)] ^= 0x01
                snap_file.write_bytes(bytes(raw))

        @invariant()
        def each_index_equals_the_database(self) -> None:
            for state in self.states:
                report = state.compare()
                assert report["ok"] and report["status"] == "ok", report
                mine = self.prefix
                cands = {f.external_id for f in state.matcher.candidates.facts.values()}
                vacs = {f.external_id for f in state.matcher.vacancies.facts.values()}
                assert {c for c in cands if c.startswith(mine)} == self.candidates
                assert {v for v in vacs if v.startswith(mine)} == self.vacancies

    run_state_machine_as_test(
        IndexMachine,
        settings=settings_for_ci,
    )
    engine.dispose()


settings_for_ci = hypothesis_settings(
    max_examples=8,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
