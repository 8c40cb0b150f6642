"""Change-log sequence numbers become visible in order on PostgreSQL.

A sequence value is drawn at insert and becomes visible at commit. Without serialising appends,
seq 2 can commit while seq 1 is still open; a process that catches up in between moves its
position to 2 and never applies 1. The control test shows that gap really happens without the
lock; the other shows the lock prevents it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.state.index_state import latest_seq
from service.store.crud import log_change
from service.store.db import make_engine
from service.store.models import ChangeLog

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _append_in_thread(
    engine: Engine, entity_id: int, serialised: bool
) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def run() -> None:
        with Session(engine) as s:
            if serialised:
                log_change(s, "candidate", entity_id, "upsert")
            else:
                s.add(ChangeLog(entity="candidate", entity_id=entity_id, op="upsert"))
            s.commit()
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def test_without_the_lock_a_lower_seq_can_commit_later(engine: Engine) -> None:
    first = Session(engine)
    first.add(ChangeLog(entity="candidate", entity_id=1, op="upsert"))
    first.flush()  # seq drawn, not committed
    thread, done = _append_in_thread(engine, 2, serialised=False)
    assert done.wait(10)
    with Session(engine) as reader:
        seen = latest_seq(reader)
        visible = reader.exec(select(ChangeLog.seq)).all()
    first.commit()
    first.close()
    thread.join()
    with Session(engine) as reader:
        all_seqs = sorted(reader.exec(select(ChangeLog.seq)).all())
    # the reader saw the higher seq while the lower one was still invisible: a gap
    assert len(visible) == 1 and seen == max(all_seqs) and min(all_seqs) < seen


def test_log_appends_commit_in_seq_order(engine: Engine) -> None:
    first = Session(engine)
    log_change(first, "candidate", 1, "upsert")
    first.flush()
    thread, done = _append_in_thread(engine, 2, serialised=True)
    # the second writer waits for the first one's commit ...
    assert not done.wait(1.5)
    with Session(engine) as reader:
        assert latest_seq(reader) == 0  # ... so nothing above an unseen seq is visible
    first.commit()
    first.close()
    thread.join(10)
    assert done.is_set()
    with Session(engine) as reader:
        rows = reader.exec(select(ChangeLog.seq, ChangeLog.entity_id).order_by(ChangeLog.seq)).all()
    assert [entity for _, entity in rows] == [1, 2]


def test_a_rolled_back_append_releases_the_lock(engine: Engine) -> None:
    first = Session(engine)
    log_change(first, "candidate", 1, "upsert")
    first.flush()
    thread, done = _append_in_thread(engine, 2, serialised=True)
    assert not done.wait(1.0)
    first.rollback()
    first.close()
    thread.join(10)
    assert done.is_set()
    with Session(engine) as reader:
        assert list(reader.exec(select(ChangeLog.entity_id)).all()) == [2]
