"""The model is shared in turns: a long text gives it up between turns, so a short text asked
for later is not held until the long one is done; turns are handed out in arrival order."""

from __future__ import annotations

import threading
import time

import numpy as np

from matching.embedder import TURN_PIECES, FairLock, SentenceTransformerEncoder


def test_fair_lock_serves_waiters_in_arrival_order() -> None:
    lock = FairLock()
    order: list[int] = []
    threads = []
    with lock:  # every thread below queues while the lock is held
        for i in range(6):
            t = threading.Thread(target=lambda i=i: _take(lock, order, i))
            t.start()
            threads.append(t)
            deadline = time.monotonic() + 5
            while lock._issued < i + 2:  # wait until thread i holds its ticket
                assert time.monotonic() < deadline
                time.sleep(0.001)
    for t in threads:
        t.join(5)
    assert order == list(range(6))


def _take(lock: FairLock, order: list[int], i: int) -> None:
    with lock:
        order.append(i)


def test_a_short_text_is_not_held_behind_a_long_one(model: SentenceTransformerEncoder) -> None:
    long_text = " ".join(f"Zin {i} over orderpicken en heftruck rijden." for i in range(1500))
    assert len(model.chunk(long_text)) >= 4 * TURN_PIECES
    turns = 0
    original = model.encode_pieces
    started = threading.Event()

    def counting(pieces: list[str]) -> np.ndarray:
        nonlocal turns
        turns += 1
        started.set()
        return original(pieces)

    model.encode_pieces = counting  # type: ignore[method-assign]
    try:
        done = threading.Event()
        worker = threading.Thread(target=lambda: (model.embed([long_text]), done.set()))
        worker.start()
        assert started.wait(60)
        short = model.embed(["heftruckchauffeur"])
        long_was_done = done.is_set()
        worker.join(120)
    finally:
        del model.encode_pieces
    assert short.vectors.shape == (1, model.dim)
    assert not long_was_done, "the short text waited until the long one was embedded"


def test_turns_give_the_same_vectors_as_one_pass(model: SentenceTransformerEncoder) -> None:
    text = " ".join(f"Zin {i} over zorg, medicatie en rapporteren." for i in range(400))
    pieces = [p for p, _ in model.chunk(text)]
    assert len(pieces) > TURN_PIECES
    whole = model.encode_pieces(pieces)
    weights = np.asarray([n for _, n in model.chunk(text)], dtype=np.float64)
    expected = (whole * weights[:, None]).sum(axis=0)
    expected /= np.linalg.norm(expected)
    assert np.allclose(model.embed([text]).vectors[0], expected, atol=1e-5)
