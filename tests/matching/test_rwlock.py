"""The readers–writer lock: readers share, a writer is alone, a waiting writer goes first."""

from __future__ import annotations

import threading
import time

from matching.rwlock import ReadWriteLock


def test_readers_share_and_writers_exclude() -> None:
    lock = ReadWriteLock()
    inside = threading.Barrier(2, timeout=5)

    def reader() -> None:
        with lock.read():
            inside.wait()  # only passes if both readers are inside at once

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not inside.broken

    order: list[str] = []
    with lock.read():
        writer = threading.Thread(target=lambda: _hold(lock, order))
        writer.start()
        time.sleep(0.2)
        late_reader = threading.Thread(target=lambda: _read(lock, order))
        late_reader.start()
        time.sleep(0.2)
        assert order == []  # the writer waits for the reader; the new reader waits for it
    writer.join(5)
    late_reader.join(5)
    assert order == ["write", "read"]


def _hold(lock: ReadWriteLock, order: list[str]) -> None:
    with lock.write():
        order.append("write")


def _read(lock: ReadWriteLock, order: list[str]) -> None:
    with lock.read():
        order.append("read")
