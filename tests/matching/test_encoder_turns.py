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


def test_a_short_text_is_not_held_behind_a_long_one(minilm: SentenceTransformerEncoder) -> None:
    long_text = " ".join(f"Zin {i} over orderpicken en heftruck rijden." for i in range(1500))
    assert len(minilm.chunk(long_text)) >= 4 * TURN_PIECES
    turns = 0
    original = minilm.encode_pieces
    started = threading.Event()

    def counting(pieces: list[str]) -> np.ndarray:
        nonlocal turns
        turns += 1
        started.set()
        return original(pieces)

    minilm.encode_pieces = counting  # type: ignore[method-assign]
    try:
        done = threading.Event()
        worker = threading.Thread(target=lambda: (minilm.embed([long_text]), done.set()))
        worker.start()
        assert started.wait(60)
        short = minilm.embed(["heftruckchauffeur"])
        long_was_done = done.is_set()
        worker.join(120)
    finally:
        del minilm.encode_pieces
    assert short.vectors.shape == (1, minilm.dim)
    assert not long_was_done, "the short text waited until the long one was embedded"


def test_turns_give_the_same_vectors_as_one_pass(minilm: SentenceTransformerEncoder) -> None:
    text = " ".join(f"Zin {i} over zorg, medicatie en rapporteren." for i in range(400))
    pieces = [p for p, _ in minilm.chunk(text)]
    assert len(pieces) > TURN_PIECES
    whole = minilm.encode_pieces(pieces)
    weights = np.asarray([n for _, n in minilm.chunk(text)], dtype=np.float64)
    expected = (whole * weights[:, None]).sum(axis=0)
    expected /= np.linalg.norm(expected)
    assert np.allclose(minilm.embed([text]).vectors[0], expected, atol=1e-5)


def test_concurrent_embeds_give_each_text_its_own_vector(
    minilm: SentenceTransformerEncoder,
) -> None:
    encoder = minilm
    # Splitting into windows runs outside the model's turns; with one shared tokenizer, whose
    # padding and truncation settings every call sets, threads in it at once got errors or
    # silently another text's token ids.
    texts = [
        " ".join(f"Ervaring {j} met heftruck, reachtruck en orderpicken." for j in range(n))
        for n in (1, 3, 30, 7, 45, 2, 60, 11)
    ]
    expected = [encoder.embed([t]).vectors for t in texts]
    failures: list[str] = []

    def work(k: int) -> None:
        try:
            for r in range(6):
                i = (k + r) % len(texts)
                vectors = encoder.embed([texts[i]]).vectors
                np.testing.assert_allclose(vectors, expected[i], atol=1e-5)
        except Exception as exc:  # every failure of every thread is reported
            failures.append(f"thread {k}: {exc!r}"[:300])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
